# core/: what both processes need (config, the plan of the VM, ACPI, boot
# parameters, logging), and the two programs: the launcher `bulwark`
# (core/launch/) and the guest-facing `bulwark-vmm` (core/vmm/).  Explicit
# source lists; rules are in the top Makefile; tests/check-layout proves
# which folders each program links.
CORE_COMMON := core/log.c

# Shared by the launcher and the VMM: the launcher validates (and later
# measures) exactly what the VMM will load.
# config.c parses --disk and --net with core/devopts.c (no device code).
CONFIG_SRCS := core/config.c core/json.c core/devopts.c
# acpi.c builds every table, the TPM2 one included (no device code).
CORE_BOOT := $(CONFIG_SRCS) core/bootparams.c core/boot.c core/acpi.c core/aml.c

PROGRAMS += bulwark
bulwark_SRCS := core/launch/main.c core/args.c core/launch/launcher.c \
	core/launch/config_file.c core/path.c $(CORE_BOOT) core/snapshot.c attest/format/eventlog.c \
	attest/format/tpm.c attest/format/evlog_alg.c $(CORE_COMMON)
bulwark_PKGS := json-c tss2-mu libcrypto

# The guest-facing VMM, started by `bulwark run` (core/vmm_abi.h).
PROGRAMS += bulwark-vmm
# Its confinement hooks are core/vmm/sandbox_hooks.c (sandbox.mk); its
# virtio devices are virtio.mk's VIRTIO_VMM_SRCS; its vTPM CRB is
# core/vmm/crb.c (+ the TPM wire format attest/format/tpm.c).  $^ drops the
# duplicate core/log.c and virtio sources.
# Recursive (=): VIRTIO_VMM_SRCS is set later, in virtio.mk.
bulwark-vmm_SRCS = core/vmm/vmm_main.c core/vmm/vmm_ctl.c core/vmm/vm.c core/vmm/vm_pause.c core/vmm/vcpu.c \
	core/vmm/cpuid.c \
	core/vmm/boot_load.c core/vmm/bus.c core/vmm/outbuf.c core/vmm/devices.c core/vmm/dev_uart.c core/vmm/dev_i8042.c \
	core/vmm/dev_rtc.c core/vmm/dev_acpi_pm.c core/vmm/dev_ged.c core/vmm/dev_pci_host.c core/vmm/dev_tpm_crb.c \
	core/vmm/crb.c attest/format/tpm.c attest/format/evlog_alg.c $(VIRTIO_VMM_SRCS) $(CORE_BOOT) \
	core/snapshot.c core/sha256.c core/vmm/snap_vcpu.c core/vmm/snap_vm.c core/vmm/snap_dev.c \
	core/vmm/snap_save.c core/vmm/snap_restore.c core/vmm/virtio_pci_snap.c \
	core/vmm/mig.c $(CORE_COMMON)
bulwark-vmm_PKGS := json-c tss2-mu
bulwark-vmm_LDLIBS := -lpthread

UNIT_TESTS += test_log
test_log_SRCS := tests/unit/test_log.c core/log.c
test_log_PKGS := cmocka

UNIT_TESTS += test_bootparams
test_bootparams_SRCS := tests/unit/test_bootparams.c core/bootparams.c core/log.c
test_bootparams_PKGS := cmocka

UNIT_TESTS += test_acpi
test_acpi_SRCS := tests/unit/test_acpi.c core/acpi.c core/aml.c $(CONFIG_SRCS) core/log.c
test_acpi_PKGS := cmocka json-c tss2-mu libcrypto

# The guest's CPUID filter: no nested virtualization, no PMU.
UNIT_TESTS += test_cpuid
test_cpuid_SRCS := tests/unit/test_cpuid.c core/vmm/cpuid.c
test_cpuid_PKGS := cmocka

# The power button's Generic Event Device: register, line, ack, concurrency.
# The console: the UART's receive side and the terminal's escape key.
UNIT_TESTS += test_console
test_console_SRCS := tests/unit/test_console.c core/vmm/dev_uart.c core/launch/console_esc.c \
	core/vmm/bus.c core/vmm/outbuf.c core/log.c
test_console_PKGS := cmocka
test_console_LDLIBS := -lpthread
FUZZ_TARGETS += fuzz_console
fuzz_console_SRCS := tests/fuzz/fuzz_console.c core/vmm/dev_uart.c core/launch/console_esc.c \
	core/vmm/bus.c core/vmm/outbuf.c core/log.c
fuzz_console_LDLIBS := -lpthread

UNIT_TESTS += test_ged
test_ged_SRCS := tests/unit/test_ged.c core/vmm/dev_ged.c core/vmm/bus.c core/log.c
test_ged_PKGS := cmocka
test_ged_LDLIBS := -lpthread

UNIT_TESTS += test_config
test_config_SRCS := tests/unit/test_config.c core/args.c core/launch/launcher.c \
	core/launch/config_file.c core/path.c $(CORE_BOOT) core/log.c
test_config_PKGS := cmocka json-c tss2-mu libcrypto

# The state stream (core/snapshot.h): framing and whole-stream validation,
# every record truncated, oversized, reordered, duplicated or missing.
UNIT_TESTS += test_snapshot
test_snapshot_SRCS := tests/unit/test_snapshot.c core/snapshot.c core/sha256.c core/bootparams.c \
	core/log.c
test_snapshot_PKGS := cmocka
test_snapshot_WRAP := log_msg

# Platform devices saved and restored into new ones; bad records refused.
UNIT_TESTS += test_snapshot_dev
test_snapshot_dev_SRCS := tests/unit/test_snapshot_dev.c core/vmm/dev_uart.c core/vmm/dev_rtc.c \
	core/vmm/dev_ged.c core/vmm/bus.c core/vmm/outbuf.c core/log.c
test_snapshot_dev_PKGS := cmocka
test_snapshot_dev_LDLIBS := -lpthread

# A virtio device saved and restored into a new one; hostile records refused.
UNIT_TESTS += test_snapshot_virtio
test_snapshot_virtio_SRCS := tests/unit/test_snapshot_virtio.c tests/unit/virtio_echo.c core/vmm/virtio_pci_snap.c \
	core/vmm/virtio_pci.c core/vmm/virtio_pci_bar.c core/vmm/virtio_irq.c \
	core/vmm/virtio_queue.c core/log.c
test_snapshot_virtio_PKGS := cmocka
test_snapshot_virtio_LDLIBS := -lpthread

# The VMM's payload checks (vCPU, irqchip, PIT, clock, virtio devices).
FUZZ_TARGETS += fuzz_snapshot_state
fuzz_snapshot_state_SRCS := tests/fuzz/fuzz_snapshot_state.c core/vmm/snap_vcpu.c \
	core/vmm/snap_vm.c core/vmm/virtio_pci_snap.c core/vmm/virtio_pci.c \
	core/vmm/virtio_pci_bar.c core/vmm/virtio_irq.c core/vmm/virtio_queue.c \
	core/vmm/virtio_blk.c core/vmm/virtio_net.c core/vmm/virtio_rng.c core/devopts.c \
	core/snapshot.c core/bootparams.c core/log.c
fuzz_snapshot_state_LDLIBS := -lpthread

# test-snap-vmm's stand-in for the launcher's snapshot commands: starts
# bulwark-vmm with the ABI's fds, sends orders, frames the stream.
LAB_TOOLS += snap-harness
snap-harness_SRCS := tests/lab/snap-harness.c core/snapshot.c core/bootparams.c \
	$(CONFIG_SRCS) core/log.c
snap-harness_PKGS := json-c
LAB_TESTS += tests/lab/test-snap-vmm
# Live migration between two VMMs in one lab (make check-migrate).
MIG_TESTS += tests/lab/test-mig-vmm

FUZZ_TARGETS += fuzz_snapshot
fuzz_snapshot_SRCS := tests/fuzz/fuzz_snapshot.c core/snapshot.c core/bootparams.c core/log.c

FUZZ_TARGETS += fuzz_bzimage
fuzz_bzimage_SRCS := tests/fuzz/fuzz_bzimage.c core/bootparams.c core/log.c

FUZZ_TARGETS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c $(CONFIG_SRCS) core/log.c
fuzz_config_PKGS := json-c

LAB_TESTS += tests/lab/test-boot
# SIGTERM: the ACPI power button, the stop timeout, a second signal.
LAB_TESTS += tests/lab/test-shutdown
# A guest's reboot or panic=-1 ends the VMM (the reset stub; 1 and 2 vCPUs).
LAB_TESTS += tests/lab/test-guest-reset
# Boot time and VMM memory overhead beside QEMU microvm and q35 (make bench).
BENCHES += tests/bench/bench-boot
# A Debian 12 system to multi-user.target beside QEMU q35 and microvm (issue 19).
BENCHES += tests/bench/bench-distro

# The one strict JSON reader (core/json.h): configuration, bundles, manifests.
UNIT_TESTS += test_json
# Recursive (=): ATTEST_FORMATS (the manifest reader) is set in attest.mk.
test_json_SRCS = tests/unit/test_json.c core/json.c $(ATTEST_FORMATS)
test_json_PKGS := cmocka json-c libcrypto
FUZZ_TARGETS += fuzz_json
fuzz_json_SRCS := tests/fuzz/fuzz_json.c core/json.c
fuzz_json_PKGS := json-c

# The one opener of operator-given paths (core/path.h).
UNIT_TESTS += test_path
test_path_SRCS := tests/unit/test_path.c core/path.c core/log.c
test_path_PKGS := cmocka
