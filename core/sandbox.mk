# core/ jail and seccomp (the least-privilege issue).
#   SANDBOX_SRCS/SANDBOX_PKGS: what the launcher (bulwark) and the
#   guest-facing process (bulwark-vmm) both link.
SANDBOX_SRCS := core/seccomp.c core/seccomp_tables.c core/jail_verify.c
# The jail's privileged half (clone, mounts, pivot_root, the drop itself):
# launcher only.
SANDBOX_LAUNCH := core/launch/jail.c core/launch/jail_fs.c core/launch/jail_child.c core/launch/jail_creds.c core/path.c
SANDBOX_PKGS := libseccomp
# The filters' digests (measured by the launcher): not in the VMM, which
# then links no crypto library.
SANDBOX_DIGEST := core/launch/seccomp_digest.c

bulwark_SRCS += core/launch/seccomp_cmd.c $(SANDBOX_SRCS) $(SANDBOX_LAUNCH) $(SANDBOX_DIGEST)
bulwark_PKGS += $(SANDBOX_PKGS) libcrypto

# Firecracker-style: real filters installed in forked helpers (no mock).
UNIT_TESTS += test_seccomp
test_seccomp_SRCS := tests/unit/test_seccomp.c $(SANDBOX_SRCS) $(SANDBOX_DIGEST) core/log.c
test_seccomp_PKGS := cmocka $(SANDBOX_PKGS) libcrypto

# Real namespaces, pivot_root and privilege drop in forked children (root).
UNIT_TESTS += test_jail
test_jail_SRCS := tests/unit/test_jail.c $(SANDBOX_SRCS) $(SANDBOX_LAUNCH) core/log.c
test_jail_PKGS := cmocka $(SANDBOX_PKGS)

# For bulwark-vmm: the shared sandbox plus its confinement hooks.
bulwark-vmm_SRCS += $(SANDBOX_SRCS) core/vmm/sandbox_hooks.c
bulwark-vmm_PKGS += $(SANDBOX_PKGS)

# While a guest runs its workload: every VMM thread filtered and unprivileged.
LAB_TESTS += tests/lab/test-sandbox
# The sanitizer build of both binaries (make SAN=1) runs a guest under
# --seccomp kill to a clean power-off: the filters allow what ASan calls.
LAB_TESTS += tests/lab/test-san-vmm
