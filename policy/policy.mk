# policy/: the SELinux policy (CIL) and its offline checker (issue 5).
#
# build/policy/standalone.pol  the complete binary policy the lab loads
# build/policy/standalone.fc   its file contexts, applied in the lab after
#                              loading (tests/lab/lab-selinux.c)
# build/policy/bulwark.cil     the module for reference-policy hosts
#                              (semodule -i bulwark.cil)
POLICY_SHARED_CIL := policy/bulwark.cil policy/mcs.cil
POLICY_STANDALONE_CIL := policy/classes.cil policy/mls.cil policy/base.cil \
	$(POLICY_SHARED_CIL)
POLICY_MODULE_CIL := $(POLICY_SHARED_CIL) policy/refpolicy.cil

DATA += build/policy/standalone.pol build/policy/bulwark.cil
build/policy/standalone.pol_DEPS := $(POLICY_STANDALONE_CIL)
build/policy/standalone.pol_CMD = secilc -M true -c 33 -f $(@:.pol=.fc) -o $@ \
	$(POLICY_STANDALONE_CIL)
build/policy/bulwark.cil_DEPS := $(POLICY_MODULE_CIL)
build/policy/bulwark.cil_CMD = cat $(POLICY_MODULE_CIL) >$@

POLICY_CHECK_SRCS := policy/check.c policy/check_props.c policy/check_allow.c \
	policy/check_guest.c policy/check_inherited.c
bulwark_SRCS += $(POLICY_CHECK_SRCS)
bulwark_PKGS += libcrypto
# libsepol.so hides the policydb internals (avtab, ebitmap, sidtab) that an
# offline checker needs; like audit2why and setools, link the static archive.
bulwark_LDLIBS += -l:libsepol.a

UNIT_TESTS += test_policy_check
test_policy_check_SRCS := tests/unit/test_policy_check.c $(POLICY_CHECK_SRCS) \
	attest/vtpm/policy_digest.c core/log.c
test_policy_check_PKGS := cmocka libcrypto
test_policy_check_LDLIBS := -l:libsepol.a
