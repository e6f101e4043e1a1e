/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/path.c on real files, symlinks, FIFOs, sockets and devices made
 * under the test's own mkdtemp folder (the device node needs root).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/path.h"

static char dir[64];

static const char *at(const char *name)
{
	static char p[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bulwark-test-path-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	f = fopen(at("file"), "w");
	if (!f)
		return -1;
	fputs("data", f);
	fclose(f);
	if (mkdir(at("sub"), 0755) || mkdir(at("real"), 0755) ||
	    symlink("file", at("link")) || symlink("real", at("dirlink")) ||
	    mkfifo(at("fifo"), 0600))
		return -1;
	f = fopen(at("real/disk"), "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void test_regular(void **state)
{
	struct stat st, st2;
	char buf[8];
	int fd;

	(void)state;
	fd = path_open_regular(at("file"), O_RDONLY, "test", &st);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	/* O_NONBLOCK was only for the open. */
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(stat(at("file"), &st2), 0);
	assert_true(path_same_file(&st, &st2));
	close(fd);
	fd = path_open_regular(at("file"), O_RDWR, "test", NULL);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(path_open_regular(at("file"), O_WRONLY, "test", NULL), -EINVAL);
	assert_int_equal(path_open_regular(at("none"), O_RDONLY, "test", NULL), -ENOENT);
	assert_int_equal(path_open_regular("", O_RDONLY, "test", NULL), -EINVAL);
}

/* No symlink in any component: the last one, a folder on the way, or a
 * /proc magic link. */
static void test_symlinks(void **state)
{
	char proc[64];
	int fd;

	(void)state;
	assert_int_equal(path_open_regular(at("link"), O_RDONLY, "test", NULL), -ELOOP);
	assert_int_equal(path_open_regular(at("dirlink/disk"), O_RDWR, "test", NULL), -ELOOP);
	assert_int_equal(path_open_dir(at("dirlink"), "test", NULL), -ELOOP);
	fd = path_open_regular(at("real/disk"), O_RDWR, "test", NULL);
	assert_true(fd >= 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	assert_int_equal(path_open_regular(proc, O_RDONLY, "test", NULL), -ELOOP);
	close(fd);
}

/* A FIFO, a socket, a device or a folder is refused, at once. */
static void test_not_regular(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec t0, t1;
	int s;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(path_open_regular(at("fifo"), O_RDONLY, "test", NULL), -EINVAL);
	assert_int_equal(path_open_regular(at("fifo"), O_RDWR, "test", NULL), -EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at("sock"));
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(path_open_regular(at("sock"), O_RDONLY, "test", NULL), -EINVAL);
	close(s);
	/* The same device as /dev/null (1,3), made here. */
	assert_int_equal(mknod(at("null"), S_IFCHR | 0600, makedev(1, 3)), 0);
	assert_int_equal(path_open_regular(at("null"), O_RDWR, "test", NULL), -EINVAL);
	assert_int_equal(path_open_regular(at("sub"), O_RDONLY, "test", NULL), -EINVAL);
	assert_int_equal(path_open_dir(at("file"), "test", NULL), -ENOTDIR);
	/* The stdio form: the same refusals, errno set. */
	errno = 0;
	assert_null(path_fopen_read(at("fifo"), "test"));
	assert_int_equal(errno, EINVAL);
	assert_null(path_fopen_read(at("link"), "test"));
	assert_int_equal(errno, ELOOP);
}

static void test_fopen(void **state)
{
	char buf[8] = "";
	FILE *f;

	(void)state;
	f = path_fopen_read(at("real/disk"), "test");
	assert_non_null(f);
	assert_int_equal(fcntl(fileno(f), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_null(fgets(buf, sizeof(buf), f));
	fclose(f);
}

/* Kernel interfaces that stat as regular files are not files. */
static void test_pseudo_files(void **state)
{
	char p[64];

	(void)state;
	/* /proc/self is itself a symlink: refused for that already. */
	assert_int_equal(path_open_regular("/proc/self/environ", O_RDONLY, "test", NULL),
			 -ELOOP);
	snprintf(p, sizeof(p), "/proc/%d/environ", (int)getpid());
	assert_int_equal(path_open_regular(p, O_RDONLY, "test", NULL), -EINVAL);
	snprintf(p, sizeof(p), "/proc/%d/status", (int)getpid());
	assert_int_equal(path_open_regular(p, O_RDONLY, "test", NULL), -EINVAL);
}

static void test_dir_and_names(void **state)
{
	char name[PATH_MAX];
	struct stat st;
	int fd;

	(void)state;
	fd = path_open_dir(at("real"), "test", &st);
	assert_true(fd >= 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(path_of_fd(fd, name, sizeof(name)), 0);
	assert_string_equal(name, at("real"));
	close(fd);
	assert_true(path_is_under("/a/b/c", "/a/b"));
	assert_true(path_is_under("/a/b", "/a/b/"));
	assert_true(path_is_under("/a/b", "/"));
	assert_false(path_is_under("/a/bc", "/a/b"));
	assert_false(path_is_under("/a", "/a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_pseudo_files),
		cmocka_unit_test(test_fopen),
		cmocka_unit_test(test_dir_and_names),
	};
	return cmocka_run_group_tests_name("path", tests, setup, teardown);
}
