/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jail, for real: the test clones into new namespaces with jail_clone(),
 * enters the jail, and execs itself (--jail-child) with jail_exec(); the
 * exec'd image runs jail_finish_after_exec() and installs the main role's
 * filter, then waits.  From outside, through /proc, the test checks what the
 * lab checks of a running VMM: no capability in any set, NoNewPrivs 1,
 * Seccomp 2, its own uid, pid 1 of its own namespaces, only the kept fds,
 * no environment, an empty read-only root holding only the listed binds.
 * Needs root (skipped otherwise).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/sandbox.h"
#include "core/util.h"

#define TEST_SLOT 4242
#define TEST_MEM (64ull << 20)
#define CHILD_FLAG "--jail-child"

/* ---- the jailed side (after exec) ---- */

static int jail_child_main(int fd)
{
	char c;

	if (jail_finish_after_exec())
		return 10;
	/* Before the filter: the root holds no host file. */
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != ENOENT)
		return 11;
	if (sandbox_seccomp_apply(SANDBOX_ROLE_MAIN, SANDBOX_SECCOMP_KILL))
		return 12;
	if (write(fd, "R", 1) != 1)
		syscall(SYS_exit_group, 13);
	/* Held until the test has looked; EOF ends it. */
	while (read(fd, &c, 1) > 0)
		;
	/* exit_group directly: no atexit handler (LSan) under the filter. */
	syscall(SYS_exit_group, 0);
	return 14;
}

/* ---- the test side ---- */

static char self_exe[PATH_MAX];

static void read_status(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

/* The value of "Key:" in a status text, whitespace collapsed to one space. */
static void status_field(const char *st, const char *key, char *out, size_t len)
{
	const char *p = strstr(st, key);
	size_t o = 0;

	assert_non_null(p);
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p && *p != '\n' && o + 1 < len; p++) {
		if ((*p == ' ' || *p == '\t') && o && out[o - 1] == ' ')
			continue;
		out[o++] = *p == '\t' ? ' ' : *p;
	}
	out[o] = '\0';
}

static void expect_field(const char *st, const char *key, const char *want)
{
	char v[256];

	status_field(st, key, v, sizeof(v));
	if (strcmp(v, want))
		fail_msg("%s is '%s', want '%s'", key, v, want);
}

static void check_status(pid_t pid, const struct jail_config *cfg)
{
	char st[4096], ids[64];

	read_status(pid, st, sizeof(st));
	snprintf(ids, sizeof(ids), "%u %u %u %u", cfg->uid, cfg->uid, cfg->uid,
		 cfg->uid);
	expect_field(st, "\nUid:", ids);
	snprintf(ids, sizeof(ids), "%u %u %u %u", cfg->gid, cfg->gid, cfg->gid,
		 cfg->gid);
	expect_field(st, "\nGid:", ids);
	expect_field(st, "\nGroups:", "");
	expect_field(st, "\nCapInh:", "0000000000000000");
	expect_field(st, "\nCapPrm:", "0000000000000000");
	expect_field(st, "\nCapEff:", "0000000000000000");
	expect_field(st, "\nCapBnd:", "0000000000000000");
	expect_field(st, "\nCapAmb:", "0000000000000000");
	expect_field(st, "\nNoNewPrivs:", "1");
	expect_field(st, "\nSeccomp:", "2");
	snprintf(ids, sizeof(ids), "%d 1", pid);
	expect_field(st, "\nNSpid:", ids);
}

static void check_namespaces(pid_t pid, bool keep_netns)
{
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "net", "cgroup" };

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		char p1[64], p2[64], l1[64] = "", l2[64] = "";

		snprintf(p1, sizeof(p1), "/proc/%d/ns/%s", pid, ns[i]);
		snprintf(p2, sizeof(p2), "/proc/self/ns/%s", ns[i]);
		assert_true(readlink(p1, l1, sizeof(l1) - 1) > 0);
		assert_true(readlink(p2, l2, sizeof(l2) - 1) > 0);
		if (keep_netns && !strcmp(ns[i], "net"))
			assert_string_equal(l1, l2);
		else if (!strcmp(l1, l2))
			fail_msg("namespace %s is the host's", ns[i]);
	}
}

/* Exactly 0, 1, 2 and the kept socket are open. */
static void check_fds(pid_t pid, int kept)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd > 2 && fd != kept)
			fail_msg("fd %d is open in the jail", fd);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 4);
}

/* The root holds only the first components of the listed paths, and is
 * read-only even for the host's root. */
static void check_root(pid_t pid, const struct jail_config *cfg)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		bool ok = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
		size_t n = strlen(e->d_name);

		for (size_t i = 0; i <= cfg->n_ro_paths && !ok; i++) {
			const char *p = i < cfg->n_ro_paths ? cfg->ro_paths[i]
							    : cfg->vmm_path;

			ok = p && !strncmp(p + 1, e->d_name, n) &&
			     (p[n + 1] == '/' || p[n + 1] == '\0');
		}
		if (!ok)
			fail_msg("unlisted entry /%s in the jail root", e->d_name);
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/root/new-file", pid);
	assert_true(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0);
	assert_int_equal(errno, EROFS);
}

/* "Max open files  140  140  files": both values, from /proc/PID/limits
 * (prlimit() on another process needs CAP_SYS_RESOURCE, which a container
 * may not have). */
static void expect_limit(const char *lim, const char *name, rlim_t want)
{
	const char *p = strstr(lim, name);
	char soft[32], hard[32], w[32];

	assert_non_null(p);
	assert_int_equal(sscanf(p + strlen(name), "%31s %31s", soft, hard), 2);
	if (want == RLIM_INFINITY)
		snprintf(w, sizeof(w), "unlimited");
	else
		snprintf(w, sizeof(w), "%llu", (unsigned long long)want);
	if (strcmp(soft, w) || strcmp(hard, w))
		fail_msg("%s: %s/%s, want %s", name, soft, hard, w);
}

static void check_limits_env(pid_t pid, const struct jail_config *cfg)
{
	char path[64], lim[4096];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, lim, sizeof(lim) - 1);
	close(fd);
	assert_true(n > 0);
	lim[n] = '\0';
	expect_limit(lim, "Max open files", cfg->nofile);
	expect_limit(lim, "Max file size", cfg->fsize);
	expect_limit(lim, "Max processes", cfg->nproc);
	expect_limit(lim, "Max address space", cfg->as);
	expect_limit(lim, "Max core file size", 0);
	expect_limit(lim, "Max locked memory", 0);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	assert_int_equal(stat(path, &st), 0);
	/* Not dumpable: its /proc files belong to root, not to its uid. */
	assert_int_equal(st.st_uid, 0);
	/* No environment at all. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, lim, sizeof(lim)), 0);
	close(fd);
}

static pid_t jail_start(struct jail_config *cfg, int *sock, int *stray)
{
	char fdarg[16];
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(jail_config_keep_fd(cfg, sv[1]), 0);
	/* Open, inheritable and not listed: must not reach the jail. */
	*stray = open("/dev/null", O_RDONLY);
	assert_true(*stray > 2);
	pid = jail_clone(cfg);
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { self_exe, CHILD_FLAG, fdarg, NULL };

		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		if (jail_enter_child(cfg) == 0)
			jail_exec(cfg, argv);
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

static void run_jail(bool keep_netns, bool by_fd)
{
	char root[] = "/tmp/bulwark-jail-XXXXXX";
	struct jail_config cfg;
	struct pollfd pfd;
	int sock, stray, st;
	char c = 0;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(root));
	assert_int_equal(jail_config_init(&cfg, root, self_exe, TEST_SLOT, 1,
					  TEST_MEM), 0);
	cfg.keep_netns = keep_netns;
	if (by_fd) {
		/* As the launcher does: exec an fd opened before the jail;
		 * the binary then has no place in the root. */
		cfg.vmm_path = NULL;
		cfg.exec_fd = open(self_exe, O_RDONLY | O_CLOEXEC);
		assert_true(cfg.exec_fd > 2);
	}
	pid = jail_start(&cfg, &sock, &stray);
	if (cfg.exec_fd >= 0)
		close(cfg.exec_fd);
	pfd = (struct pollfd){ .fd = sock, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 20000), 1);
	assert_int_equal(read(sock, &c, 1), 1);
	assert_int_equal(c, 'R');
	check_status(pid, &cfg);
	check_namespaces(pid, keep_netns);
	check_fds(pid, cfg.keep_fds[0]);
	check_root(pid, &cfg);
	check_limits_env(pid, &cfg);
	close(sock);
	close(stray);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("jailed child ended with status 0x%x", st);
	/* The private tmpfs never showed on the host: the directory is empty. */
	assert_int_equal(rmdir(root), 0);
}

static void test_jail_no_net(void **state)
{
	(void)state;
	run_jail(false, false);
}

static void test_jail_keep_net(void **state)
{
	(void)state;
	run_jail(true, false);
}

static void test_jail_exec_fd(void **state)
{
	(void)state;
	run_jail(false, true);
}

static void test_config(void **state)
{
	struct jail_config c, bad;

	(void)state;
	assert_int_equal(jail_config_init(&c, "/tmp", "/bin/true", 7, 2, 1 << 20), 0);
	assert_int_equal(c.uid, JAIL_ID_BASE + 7);
	assert_int_equal(c.gid, JAIL_ID_BASE + 7);
	assert_int_equal(c.nproc, 2 + 8);
	assert_int_equal(jail_config_check(&c), 0);
	assert_int_equal(jail_config_init(&c, "/tmp", "/bin/true", JAIL_ID_SLOTS,
					  1, 0), -EINVAL);
	assert_int_equal(jail_config_init(&c, "/tmp", "/bin/true", 0, 0, 0), -EINVAL);
	assert_int_equal(jail_config_init(&c, "/tmp", "/bin/true", 0, 65, 0), -EINVAL);
	/* Fds 0-2 are always kept; a bad fd is refused. */
	assert_int_equal(jail_config_keep_fd(&c, 2), -EINVAL);
	bad = c;
	bad.uid = 0;
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad = c;
	bad.gid = 0;
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad = c;
	bad.root = "tmp";
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad.root = "/";
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad.root = "/tmp/../tmp";
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad.root = "/bin/true";		/* not a directory */
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad = c;
	bad.vmm_path = "/nonexistent/bulwark-vmm";
	assert_int_equal(jail_config_check(&bad), -ENOENT);
	bad = c;
	bad.ro_paths[0] = "/lib/./x86_64-linux-gnu";
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad = c;
	bad.exec_fd = 1;	/* a path and an fd */
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad.vmm_path = NULL;	/* an fd below 3 */
	assert_int_equal(jail_config_check(&bad), -EBADF);
	bad.exec_fd = -1;	/* neither */
	assert_int_equal(jail_config_check(&bad), -EINVAL);
	bad = c;
	assert_int_equal(jail_config_keep_fd(&bad, 1000), 0);	/* not open */
	assert_int_equal(jail_config_check(&bad), -EBADF);
	/* jail_clone() refuses a bad configuration before cloning. */
	bad = c;
	bad.uid = 0;
	assert_int_equal(jail_clone(&bad), -EINVAL);
}

static void test_root_prepare(void **state)
{
	char dir[] = "/tmp/bulwark-jroot-XXXXXX", p[64], link[80];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/run/jail", dir);
	/* Creates the parent and the directory, root-owned, 0755. */
	assert_int_equal(jail_root_prepare(p), 0);
	assert_int_equal(jail_root_prepare(p), 0);
	/* Anyone may write it: refused. */
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(jail_root_prepare(p), -EPERM);
	assert_int_equal(rmdir(p), 0);
	/* A symlink in its place: refused. */
	assert_int_equal(symlink("/tmp", p), 0);
	assert_int_equal(jail_root_prepare(p), -EPERM);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(jail_root_prepare("relative/jail"), -EINVAL);
	snprintf(link, sizeof(link), "%s/run", dir);
	assert_int_equal(rmdir(link), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Outside the jail, jail_finish_after_exec() refuses: root is left. */
static void test_finish_refuses_root(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(jail_finish_after_exec() == -EPERM ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The operator's --jail-root: existing, empty, root-owned, not writable by
 * group or others, no symlink on the way, holding nothing the guest uses. */
static void test_root_check(void **state)
{
	char dir[] = "/tmp/bulwark-jcheck-XXXXXX", root[64], sub[80], disk[80], link[64];
	const char *used[2];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(root, sizeof(root), "%s/jail", dir);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	used[0] = disk;
	used[1] = "/var/lib/bulwark";
	/* Missing: refused, unless it is the default (created later). */
	assert_int_equal(jail_root_check(root, false, used, 2), -ENOENT);
	assert_int_equal(jail_root_check(root, true, used, 2), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(jail_root_check(root, false, used, 2), 0);
	/* "/" and any parent of a file the guest uses. */
	assert_int_equal(jail_root_check("/", false, used, 0), -ENOTEMPTY);
	assert_int_equal(jail_root_check("/", false, used, 2), -EINVAL);
	assert_int_equal(jail_root_check(dir, false, NULL, 0), -ENOTEMPTY);
	assert_int_equal(jail_root_check(root, false, (const char *[]){ root }, 1), -EINVAL);
	snprintf(sub, sizeof(sub), "%s/jail/x", dir);
	assert_int_equal(jail_root_check(root, false, (const char *[]){ sub }, 1), -EINVAL);
	assert_int_equal(jail_root_check(root, true, (const char *[]){ sub }, 1), -EINVAL);
	/* Not empty. */
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(jail_root_check(root, false, used, 2), -ENOTEMPTY);
	assert_int_equal(rmdir(sub), 0);
	/* Group- or other-writable, or not root's. */
	assert_int_equal(chmod(root, 0775), 0);
	assert_int_equal(jail_root_check(root, false, used, 2), -EPERM);
	assert_int_equal(chmod(root, 0755), 0);
	assert_int_equal(chown(root, 1234, 0), 0);
	assert_int_equal(jail_root_check(root, false, used, 2), -EPERM);
	assert_int_equal(chown(root, 0, 0), 0);
	/* Reached through a symlink, or with "..". */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("jail", link), 0);
	assert_int_equal(jail_root_check(link, false, used, 2), -ELOOP);
	snprintf(sub, sizeof(sub), "%s/jail/../jail", dir);
	assert_int_equal(jail_root_check(sub, false, used, 2), -EINVAL);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(root), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_finish_refuses_root),
		cmocka_unit_test(test_root_prepare),
		cmocka_unit_test(test_root_check),
		cmocka_unit_test(test_jail_no_net),
		cmocka_unit_test(test_jail_keep_net),
		cmocka_unit_test(test_jail_exec_fd),
	};
	ssize_t n;

	if (argc == 3 && !strcmp(argv[1], CHILD_FLAG))
		return jail_child_main(atoi(argv[2]));
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = '\0';
	return cmocka_run_group_tests_name("jail", tests, NULL, NULL);
}
