# core/: the VMM.  Explicit source lists; rules are in the top Makefile.
CORE_COMMON := core/log.c

# Shared by the launcher and the VMM: the launcher validates (and later
# measures) exactly what the VMM will load.
# config.c parses --disk and --net with core/devopts.c (no device code).
CONFIG_SRCS := core/config.c core/devopts.c
# acpi.c builds every table, the TPM2 one included (no device code).
CORE_BOOT := $(CONFIG_SRCS) core/bootparams.c core/boot.c core/acpi.c core/aml.c

PROGRAMS += bulwark
bulwark_SRCS := core/main.c core/launcher.c $(CORE_BOOT) attest/eventlog.c \
	attest/tpm.c attest/evlog_alg.c $(CORE_COMMON)
bulwark_PKGS := json-c tss2-mu libcrypto

# The guest-facing VMM, started by `bulwark run` (core/vmm_abi.h).
PROGRAMS += bulwark-vmm
# Its confinement hooks are core/sandbox_hooks.c (sandbox.mk links the
# sandbox in because vmm_hooks.c is no longer listed); its virtio devices
# are virtio.mk's VIRTIO_VMM_SRCS; its vTPM CRB is attest/crb.c (+ tpm.c for
# the transport).  $^ drops the duplicate core/log.c and virtio sources.
# Recursive (=): VIRTIO_VMM_SRCS is set later, in virtio.mk.
bulwark-vmm_SRCS = core/vmm_main.c core/vm.c core/vcpu.c \
	core/boot_load.c core/bus.c core/outbuf.c core/devices.c core/dev_uart.c core/dev_i8042.c \
	core/dev_rtc.c core/dev_acpi_pm.c core/dev_ged.c core/dev_pci_host.c core/dev_tpm_crb.c \
	attest/crb.c attest/tpm.c attest/evlog_alg.c $(VIRTIO_VMM_SRCS) $(CORE_BOOT) $(CORE_COMMON)
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

# The power button's Generic Event Device: register, line, ack, concurrency.
UNIT_TESTS += test_ged
test_ged_SRCS := tests/unit/test_ged.c core/dev_ged.c core/bus.c core/log.c
test_ged_PKGS := cmocka
test_ged_LDLIBS := -lpthread

UNIT_TESTS += test_config
test_config_SRCS := tests/unit/test_config.c core/launcher.c $(CORE_BOOT) core/log.c
test_config_PKGS := cmocka json-c tss2-mu libcrypto

FUZZ_TARGETS += fuzz_bzimage
fuzz_bzimage_SRCS := tests/fuzz/fuzz_bzimage.c core/bootparams.c core/log.c

FUZZ_TARGETS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c $(CONFIG_SRCS) core/log.c
fuzz_config_PKGS := json-c

LAB_TESTS += tests/lab/test-boot
# SIGTERM: the ACPI power button, the stop timeout, a second signal.
LAB_TESTS += tests/lab/test-shutdown
# Boot time and VMM memory overhead beside QEMU microvm and q35 (make bench).
BENCHES += tests/bench/bench-boot
