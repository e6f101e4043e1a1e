/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firecracker-style tests of the real filters, table-driven from the same
 * allowlists that bulwark-vmm installs.  Every probe runs in a forked helper
 * that installs a role's filter (the kernel's seccomp, no mock) and then
 * makes one system call: allowed arguments must let it live, each broken
 * constrained argument and every unlisted call must kill it with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/sandbox.h"
#include "core/util.h"

/* Every number up to here that no table lists must kill. */
#define PROBE_NR_MAX 512
#define PROBE_WATCHDOG_S 10
#define X32_BIT 0x40000000
/* Linux 6.11+ runs uretprobe (335) and uprobe (336) without consulting
 * seccomp: they act only from a uprobe trampoline (SIGILL or an error
 * otherwise), so no filter can or needs to stop them. */
static const long kernel_exempt[] = { 335, 336 };

static struct sandbox_filter filters[SANDBOX_ROLE_COUNT];

static void probe_child_setup(void)
{
	struct rlimit no_core = { 0, 0 };

	/* KILL_PROCESS dumps core like SIGSYS does: not in tests. */
	setrlimit(RLIMIT_CORE, &no_core);
	/* A probe that blocks is a failure, not a hang. */
	alarm(PROBE_WATCHDOG_S);
}

/* Forks, installs f (if any), makes syscall nr(a), exits 0: the status. */
static int probe(const struct sandbox_filter *f, long nr, const uint64_t a[6])
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		probe_child_setup();
		if (f && sandbox_filter_install(f))
			_exit(100);
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		syscall(SYS_exit_group, 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static bool lived(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool killed_by_seccomp(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static volatile sig_atomic_t got_signal;

static void on_vtalrm(int sig)
{
	(void)sig;
	got_signal = 1;
}

/* rt_sigreturn cannot be called by hand: a CPU-time timer fires a handler
 * after the filter is in, and returning from it is the call. */
static int probe_sigreturn(const struct sandbox_filter *f)
{
	struct itimerval it = { .it_value = { .tv_usec = 2000 } };
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		probe_child_setup();
		signal(SIGVTALRM, on_vtalrm);
		setitimer(ITIMER_VIRTUAL, &it, NULL);
		if (sandbox_filter_install(f))
			_exit(100);
		while (!got_signal)
			;
		syscall(SYS_exit_group, 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* Arguments that make an allowed call fail harmlessly or return at once:
 * a bad fd, a misaligned address, a zero length. */
static void probe_args(long nr, uint64_t a[6])
{
	static const struct timespec zero;

	a[0] = (uint64_t)-1;
	for (int i = 1; i < 6; i++)
		a[i] = 0;
	if (nr == SYS_exit || nr == SYS_exit_group)
		a[0] = 0;
	if (nr == SYS_ppoll || nr == SYS_pselect6)
		a[2] = a[4] = (uint64_t)(uintptr_t)&zero;
	if (nr == SYS_ppoll)
		a[0] = a[4] = 0;
}

static bool in_set(const struct seccomp_rule *r, uint64_t v)
{
	for (size_t i = 0; i < r->n_values; i++) {
		uint64_t x = r->kind == SECCOMP_ARG_IN_SET32 ? (uint32_t)v : v;

		if (x == r->values[i])
			return true;
	}
	return false;
}

static void expect(bool ok, const char *role, const struct seccomp_rule *r,
		   const char *what, uint64_t v, int status)
{
	if (ok)
		return;
	fail_msg("role %s: %s with arg%u=0x%llx %s (status 0x%x)", role, r->name,
		 r->arg, (unsigned long long)v, what, status);
}

static void check_allowed(enum sandbox_role role, const struct seccomp_rule *r)
{
	const char *rn = sandbox_role_name(role);
	uint64_t a[6];
	int st;

	if (r->nr == SYS_rt_sigreturn) {
		st = probe_sigreturn(&filters[role]);
		expect(lived(st), rn, r, "died", 0, st);
		return;
	}
	probe_args(r->nr, a);
	if (r->kind == SECCOMP_ARG_IN_SET || r->kind == SECCOMP_ARG_IN_SET32) {
		for (size_t i = 0; i < r->n_values; i++) {
			a[r->arg] = r->values[i];
			st = probe(&filters[role], r->nr, a);
			expect(lived(st), rn, r, "died", a[r->arg], st);
		}
	} else if (r->kind == SECCOMP_ARG_MASK_CLEAR) {
		const uint64_t ok[] = { 0, ~r->mask & 0xff };

		for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
			a[r->arg] = ok[i];
			st = probe(&filters[role], r->nr, a);
			expect(lived(st), rn, r, "died", a[r->arg], st);
		}
	} else if (r->kind == SECCOMP_ARG_ENOSYS) {
		st = probe(&filters[role], r->nr, a);
		expect(lived(st), rn, r, "died", 0, st);
	} else {
		st = probe(&filters[role], r->nr, a);
		expect(lived(st), rn, r, "died", a[r->arg], st);
	}
}

/* Each constrained argument broken: values next to the allowed ones, 0
 * and all ones (for a mask, the forbidden bits). */
static void check_broken(enum sandbox_role role, const struct seccomp_rule *r)
{
	const char *rn = sandbox_role_name(role);
	uint64_t cand[2 + 2 * 16], a[6];
	size_t n = 0;
	int st;

	if (r->kind == SECCOMP_ARG_MASK_CLEAR) {
		cand[n++] = r->mask;
		cand[n++] = r->mask | 0xff;
	} else if (r->kind == SECCOMP_ARG_IN_SET || r->kind == SECCOMP_ARG_IN_SET32) {
		cand[n++] = 0;
		cand[n++] = UINT32_MAX;
		for (size_t i = 0; i < r->n_values && i < 16; i++) {
			cand[n++] = r->values[i] + 1;
			cand[n++] = r->values[i] - 1;
		}
	}
	probe_args(r->nr, a);
	for (size_t i = 0; i < n; i++) {
		if ((r->kind == SECCOMP_ARG_IN_SET || r->kind == SECCOMP_ARG_IN_SET32) &&
		    in_set(r, cand[i]))
			continue;
		a[r->arg] = cand[i];
		st = probe(&filters[role], r->nr, a);
		expect(killed_by_seccomp(st), rn, r, "lived", cand[i], st);
	}
}

static void check_role_rules(enum sandbox_role role)
{
	const struct seccomp_table *t = seccomp_table_get(role);

	assert_non_null(t);
	assert_true(t->n_rules > 0);
	for (size_t i = 0; i < t->n_rules; i++) {
		check_allowed(role, &t->rules[i]);
		check_broken(role, &t->rules[i]);
	}
}

static void test_rules_main(void **state)
{
	(void)state;
	check_role_rules(SANDBOX_ROLE_MAIN);
}

static void test_rules_vcpu(void **state)
{
	(void)state;
	check_role_rules(SANDBOX_ROLE_VCPU);
}

static void test_rules_io(void **state)
{
	(void)state;
	check_role_rules(SANDBOX_ROLE_IO);
}

static bool listed(const struct seccomp_table *t, long nr)
{
	for (size_t i = 0; i < t->n_rules; i++)
		if (t->rules[i].nr == nr)
			return true;
	return false;
}

static bool exempt(long nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(kernel_exempt); i++)
		if (kernel_exempt[i] == nr)
			return true;
	return false;
}

/* Every other number, assigned or not, kills; so does each x32 number. */
static void test_unlisted_die(void **state)
{
	uint64_t a[6] = { -1, -1, -1, -1, -1, -1 };

	(void)state;
	for (int role = 0; role < SANDBOX_ROLE_COUNT; role++) {
		const struct seccomp_table *t = seccomp_table_get(role);

		for (long nr = 0; nr < PROBE_NR_MAX; nr++) {
			int st;

			if (listed(t, nr) || exempt(nr))
				continue;
			st = probe(&filters[role], nr, a);
			if (!killed_by_seccomp(st))
				fail_msg("role %s: unlisted syscall %ld: status 0x%x",
					 t->name, nr, st);
		}
		assert_true(killed_by_seccomp(
			probe(&filters[role], X32_BIT | SYS_getpid, a)));
		assert_true(killed_by_seccomp(
			probe(&filters[role], X32_BIT | SYS_read, a)));
	}
}

struct dangerous {
	const char *what;
	long nr;
	uint64_t a[6];
};

static char *const true_argv[] = { "/bin/true", NULL };

static void test_dangerous_die(void **state)
{
	const struct dangerous calls[] = {
		{ "execve", SYS_execve, { (uintptr_t)"/bin/true",
			(uintptr_t)true_argv, 0 } },
		{ "open", SYS_open, { (uintptr_t)"/etc/passwd", O_RDONLY } },
		{ "openat", SYS_openat, { (uint64_t)AT_FDCWD,
			(uintptr_t)"/etc/passwd", O_RDONLY } },
		{ "socket AF_INET", SYS_socket, { AF_INET, SOCK_STREAM, 0 } },
		{ "socket AF_UNIX", SYS_socket, { AF_UNIX, SOCK_STREAM, 0 } },
		{ "ptrace", SYS_ptrace, { 0 /* PTRACE_TRACEME */ } },
		{ "mount", SYS_mount, { 0, (uintptr_t)"/nonexistent", 0,
			MS_REMOUNT } },
		{ "bpf", SYS_bpf, { 5 /* BPF_PROG_LOAD */, 0, 0 } },
		{ "io_uring_setup", SYS_io_uring_setup, { 1, 0 } },
		{ "userfaultfd", SYS_userfaultfd, { 0 } },
		{ "process_vm_readv", SYS_process_vm_readv, { 1, 0, 0, 0, 0, 0 } },
		{ "process_vm_writev", SYS_process_vm_writev, { 1, 0, 0, 0, 0, 0 } },
		{ "fork", SYS_clone, { SIGCHLD, 0, 0, 0, 0 } },
		{ "clone3", SYS_clone3, { 0, 0 } },
		{ "unshare", SYS_unshare, { 0 } },
		{ "setns", SYS_setns, { (uint64_t)-1, 0 } },
		{ "prctl", SYS_prctl, { PR_SET_DUMPABLE, 1 } },
		{ "seccomp", SYS_seccomp, { SECCOMP_GET_ACTION_AVAIL, 0, 0 } },
		{ "setuid", SYS_setuid, { 0 } },
		{ "kill", SYS_kill, { 1, 0 } },
		{ "memfd_create", SYS_memfd_create, { (uintptr_t)"x", 0 } },
		{ "perf_event_open", SYS_perf_event_open, { 0, 0, (uint64_t)-1,
			(uint64_t)-1, 0 } },
		{ "keyctl", SYS_keyctl, { 0 } },
		{ "mmap PROT_EXEC", SYS_mmap, { 0, 4096, PROT_READ | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 } },
		{ "mprotect PROT_EXEC", SYS_mprotect, { 0, 4096, PROT_EXEC } },
	};

	(void)state;
	for (int role = 0; role < SANDBOX_ROLE_COUNT; role++) {
		for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
			int st = probe(&filters[role], calls[i].nr, calls[i].a);

			if (!killed_by_seccomp(st))
				fail_msg("role %s: %s: status 0x%x",
					 sandbox_role_name(role), calls[i].what, st);
		}
	}
}

/* The same dangerous call lives without a filter: the probe can tell. */
static void test_probe_sees_life(void **state)
{
	uint64_t a[6] = { 0 };

	(void)state;
	assert_true(lived(probe(NULL, SYS_getppid, a)));
	assert_true(killed_by_seccomp(probe(&filters[SANDBOX_ROLE_VCPU],
					    SYS_getppid, a)));
}

static void test_log_mode_lives(void **state)
{
	struct sandbox_filter f;
	uint64_t a[6] = { 0 };

	(void)state;
	assert_int_equal(sandbox_filter_build(SANDBOX_ROLE_VCPU,
					      SANDBOX_SECCOMP_LOG, &f), 0);
	/* Unlisted: logged by the kernel and allowed. */
	assert_true(lived(probe(&f, SYS_getppid, a)));
	/* Still a filter: other architectures are killed in every mode. */
	assert_true(killed_by_seccomp(probe(&f, X32_BIT | SYS_getppid, a)));
	sandbox_filter_free(&f);
}

static void test_off_mode(void **state)
{
	struct sandbox_filter f;
	int st;
	pid_t pid;

	(void)state;
	assert_int_equal(sandbox_filter_build(SANDBOX_ROLE_MAIN,
					      SANDBOX_SECCOMP_OFF, &f), 0);
	assert_null(f.insns);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		probe_child_setup();
		if (sandbox_filter_install(&f))
			_exit(100);
		_exit(prctl(PR_GET_SECCOMP) == 0 ? 0 : 101);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(lived(st));
}

static void test_digest(void **state)
{
	struct sandbox_filter again, log;
	uint8_t d[32];
	unsigned int dlen = 0;

	(void)state;
	for (int role = 0; role < SANDBOX_ROLE_COUNT; role++) {
		struct sandbox_filter *f = &filters[role];

		/* It is the SHA-256 of the installed bytes. */
		assert_true(EVP_Digest(f->insns, f->len * sizeof(f->insns[0]), d,
				       &dlen, EVP_sha256(), NULL));
		assert_memory_equal(d, f->digest, sizeof(d));
		/* Stable: compiling again gives the same program. */
		assert_int_equal(sandbox_filter_build(role, SANDBOX_SECCOMP_KILL,
						      &again), 0);
		assert_int_equal(sandbox_filter_digest(&again), 0);
		assert_int_equal(again.len, f->len);
		assert_memory_equal(again.digest, f->digest, sizeof(d));
		/* The mode is part of the program, so of the digest. */
		assert_int_equal(sandbox_filter_build(role, SANDBOX_SECCOMP_LOG,
						      &log), 0);
		assert_int_equal(sandbox_filter_digest(&log), 0);
		assert_memory_not_equal(log.digest, f->digest, sizeof(d));
		sandbox_filter_free(&again);
		sandbox_filter_free(&log);
		/* Roles differ. */
		if (role > 0)
			assert_memory_not_equal(filters[role - 1].digest,
						f->digest, sizeof(d));
	}
}

static void test_bad_arguments(void **state)
{
	struct sandbox_filter f;
	enum sandbox_role r;
	enum sandbox_seccomp_mode m;

	(void)state;
	assert_int_equal(sandbox_filter_build(SANDBOX_ROLE_COUNT,
					      SANDBOX_SECCOMP_KILL, &f), -EINVAL);
	assert_int_equal(sandbox_filter_build(SANDBOX_ROLE_MAIN,
					      (enum sandbox_seccomp_mode)7, &f),
			 -EINVAL);
	assert_int_equal(sandbox_filter_install(NULL), -EINVAL);
	assert_int_equal(sandbox_role_parse("vcpu", &r), 0);
	assert_int_equal(r, SANDBOX_ROLE_VCPU);
	assert_int_equal(sandbox_role_parse("api", &r), -EINVAL);
	assert_int_equal(sandbox_seccomp_mode_parse("log", &m), 0);
	assert_int_equal(m, SANDBOX_SECCOMP_LOG);
	assert_int_equal(sandbox_seccomp_mode_parse("KILL", &m), -EINVAL);
	assert_null(seccomp_table_get(SANDBOX_ROLE_COUNT));
}

static volatile int thread_rc = -2;

static void *other_thread(void *arg)
{
	int *go = arg;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		;
	/* getppid is in no table: this thread has no filter. */
	thread_rc = (int)syscall(SYS_getppid) > 0 ? 0 : -1;
	return NULL;
}

/* The filter is the calling thread's only: another thread is unaffected. */
static void test_per_thread(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static int go;
		pthread_t t;

		probe_child_setup();
		if (pthread_create(&t, NULL, other_thread, &go))
			_exit(102);
		if (sandbox_filter_install(&filters[SANDBOX_ROLE_VCPU]))
			_exit(100);
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		while (thread_rc == -2)
			;
		syscall(SYS_exit_group, thread_rc == 0 ? 0 : 101);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(lived(st));
}

static int group_setup(void **state)
{
	(void)state;
	if (sandbox_filters_build(SANDBOX_SECCOMP_KILL, filters))
		return -1;
	for (int role = 0; role < SANDBOX_ROLE_COUNT; role++)
		if (sandbox_filter_digest(&filters[role]))
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sandbox_filters_free(filters);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_probe_sees_life),
		cmocka_unit_test(test_rules_main),
		cmocka_unit_test(test_rules_vcpu),
		cmocka_unit_test(test_rules_io),
		cmocka_unit_test(test_unlisted_die),
		cmocka_unit_test(test_dangerous_die),
		cmocka_unit_test(test_log_mode_lives),
		cmocka_unit_test(test_off_mode),
		cmocka_unit_test(test_per_thread),
	};
	return cmocka_run_group_tests_name("seccomp", tests, group_setup,
					   group_teardown);
}
