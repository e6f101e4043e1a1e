# svirt/: per-guest MCS labels (issue 5).
SVIRT_SRCS := svirt/mcs.c svirt/entry.c svirt/registry.c svirt/alloc.c \
	svirt/reserve.c svirt/label.c svirt/relabel.c svirt/vm.c svirt/state.c \
	svirt/exec.c core/launch/file_digest.c
SVIRT_PKGS := libselinux libcrypto

bulwark_SRCS += $(SVIRT_SRCS) svirt/gc.c
bulwark_PKGS += $(SVIRT_PKGS)

UNIT_TESTS += test_svirt
test_svirt_SRCS := tests/unit/test_svirt.c $(SVIRT_SRCS) core/log.c
test_svirt_PKGS := cmocka $(SVIRT_PKGS)

UNIT_TESTS += test_svirt_label
test_svirt_label_SRCS := tests/unit/test_svirt_label.c $(SVIRT_SRCS) core/log.c
test_svirt_label_PKGS := cmocka $(SVIRT_PKGS)
test_svirt_label_WRAP := fgetfilecon_raw fsetfilecon_raw

UNIT_TESTS += test_svirt_exec
test_svirt_exec_SRCS := tests/unit/test_svirt_exec.c svirt/state.c svirt/exec.c core/launch/file_digest.c \
	core/log.c
test_svirt_exec_PKGS := cmocka $(SVIRT_PKGS)
test_svirt_exec_WRAP := is_selinux_enabled security_getenforce setexeccon_raw \
	getpidcon_raw

# The lab's stand-in launcher and VMM (tests/lab/test-svirt-enforce).
LAB_TOOLS += svirt_lab
svirt_lab_SRCS := tests/lab/helpers/svirt-lab.c tests/lab/helpers/svirt-probe.c \
	$(SVIRT_SRCS) core/log.c
svirt_lab_PKGS := $(SVIRT_PKGS)
# test-svirt-enforce also runs test-svirt-cases in the same lab boot.
LAB_TESTS += tests/lab/test-svirt-enforce

FUZZ_TARGETS += fuzz_svirt_entry
fuzz_svirt_entry_SRCS := tests/fuzz/fuzz_svirt_entry.c $(SVIRT_SRCS) core/log.c
fuzz_svirt_entry_PKGS := $(SVIRT_PKGS)
