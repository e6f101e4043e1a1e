/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt's decisions around the kernel: whether a guest may start under the
 * SELinux state found (svirt_state_probe), the exec label set in the child
 * (svirt_child_setexec), and the check of the child's label after its exec
 * (svirt_parent_verify).  The build host runs no SELinux, so the libselinux
 * calls are wrapped; the kernel side is tests/lab/test-svirt-enforce's.  The
 * child verified is a real process, so a kill is a real SIGKILL.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "svirt/svirt.h"

#define VMM_LABEL "system_u:system_r:bulwark_vmm_t:s0:c1,c2"

static int enabled, enforce, getenforce_calls;
static int setexec_errno, getpidcon_errno;
static char setexec_label[SVIRT_LABEL_MAX];
static const char *pidcon;   /* what getpidcon_raw answers */
static pid_t pidcon_asked;

int __wrap_is_selinux_enabled(void);
int __wrap_is_selinux_enabled(void)
{
	return enabled;
}

int __wrap_security_getenforce(void);
int __wrap_security_getenforce(void)
{
	getenforce_calls++;
	return enforce;
}

int __wrap_setexeccon_raw(const char *con);
int __wrap_setexeccon_raw(const char *con)
{
	if (setexec_errno)
		return errno = setexec_errno, -1;
	snprintf(setexec_label, sizeof(setexec_label), "%s", con);
	return 0;
}

int __wrap_getpidcon_raw(pid_t pid, char **con);
int __wrap_getpidcon_raw(pid_t pid, char **con)
{
	pidcon_asked = pid;
	if (getpidcon_errno)
		return errno = getpidcon_errno, -1;
	*con = strdup(pidcon);
	return *con ? 0 : -1;
}

static char policy[64];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	enabled = 1;
	enforce = 1;
	getenforce_calls = setexec_errno = getpidcon_errno = 0;
	setexec_label[0] = '\0';
	pidcon = VMM_LABEL;
	snprintf(policy, sizeof(policy), "/tmp/test_svirt_exec.XXXXXX");
	if (mkstemp(policy) < 0 || !(f = fopen(policy, "w")))
		return -1;
	fputs("abc", f);
	log_set_level(LOG_ERR);
	return fclose(f);
}

static int teardown(void **state)
{
	(void)state;
	return unlink(policy);
}

/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
static const uint8_t abc_sha256[32] = {
	0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
	0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
	0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

static void test_probe_enforcing(void **state)
{
	struct svirt_state st;

	(void)state;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, policy, &st), 0);
	assert_int_equal(st.mode, SVIRT_MODE_DYNAMIC);
	assert_int_equal(st.enforcing, 1);
	assert_true(st.have_policy_digest);
	assert_memory_equal(st.policy_sha256, abc_sha256, 32);
	assert_int_equal(svirt_state_probe(SVIRT_MODE_STATIC, policy, &st), 0);
	assert_int_equal(st.mode, SVIRT_MODE_STATIC);
}

/* Permissive, disabled, or an unreadable enforcement state: no guest
 * starts unless sVirt is off, and the state found is still recorded. */
static void test_probe_refuses(void **state)
{
	struct svirt_state st;

	(void)state;
	enforce = 0;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, policy, &st), -EPERM);
	assert_int_equal(st.enforcing, 0);
	assert_int_equal(svirt_state_probe(SVIRT_MODE_STATIC, policy, &st), -EPERM);
	enforce = -1;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, policy, &st), -EPERM);
	assert_int_equal(st.enforcing, -1);
	enforce = 7;   /* not an answer getenforce gives: not "enforcing" */
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, policy, &st), -EPERM);
	assert_int_equal(st.enforcing, -1);
	enforce = 1;
	enabled = 0;
	getenforce_calls = 0;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, policy, &st), -EPERM);
	assert_int_equal(st.enforcing, -1);
	assert_int_equal(getenforce_calls, 0);
}

static void test_probe_off(void **state)
{
	struct svirt_state st;

	(void)state;
	enabled = 0;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_OFF, "/nonexistent", &st), 0);
	assert_int_equal(st.mode, SVIRT_MODE_OFF);
	assert_int_equal(st.enforcing, -1);
	assert_false(st.have_policy_digest);
}

/* Enforcing, but the loaded policy cannot be measured: fail closed. */
static void test_probe_no_policy(void **state)
{
	struct svirt_state st;

	(void)state;
	assert_int_equal(svirt_state_probe(SVIRT_MODE_DYNAMIC, "/nonexistent", &st),
			 -ENOENT);
	assert_false(st.have_policy_digest);
}

static void test_child_setexec(void **state)
{
	(void)state;
	assert_int_equal(svirt_child_setexec(VMM_LABEL), 0);
	assert_string_equal(setexec_label, VMM_LABEL);
	setexec_errno = EACCES;
	assert_int_equal(svirt_child_setexec(VMM_LABEL), -EACCES);
	setexec_errno = EINVAL;
	assert_int_equal(svirt_child_setexec("not a context"), -EINVAL);
}

/* A real child to verify: returns its pid; it sleeps until killed. */
static pid_t child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	return pid;
}

static void assert_killed(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_parent_verify_match(void **state)
{
	pid_t pid = child();

	(void)state;
	assert_int_equal(svirt_parent_verify(pid, VMM_LABEL), 0);
	assert_int_equal(pidcon_asked, pid);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);  /* still running */
	kill(pid, SIGKILL);
	assert_killed(pid);
}

/* Any other label, even one that starts with the expected one or differs
 * only in a category, kills the child. */
static void test_parent_verify_mismatch(void **state)
{
	static const char *const wrong[] = {
		"system_u:system_r:unconfined_t:s0-s0:c0.c1023",
		"system_u:system_r:bulwark_vmm_t:s0:c1,c3",
		VMM_LABEL ",c3",
		"system_u:system_r:bulwark_vmm_t:s0:c1",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		pid_t pid = child();

		pidcon = wrong[i];
		assert_int_equal(svirt_parent_verify(pid, VMM_LABEL), -EPERM);
		assert_killed(pid);
	}
}

/* The label cannot be read: fail closed, the child dies. */
static void test_parent_verify_unreadable(void **state)
{
	pid_t pid = child();

	(void)state;
	getpidcon_errno = EACCES;
	assert_int_equal(svirt_parent_verify(pid, VMM_LABEL), -EACCES);
	assert_killed(pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_enforcing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_no_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_setexec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_verify_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_verify_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_verify_unreadable, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("svirt_exec", tests, NULL, NULL);
}
