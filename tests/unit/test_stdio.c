/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/launch/launch_stdio.c: with stdout and stderr sockets (systemd's
 * journal streams), the launcher's fds 1 and 2 become a pipe of its own and
 * every byte written to it, by it or a child that inherited it, reaches the
 * socket, in order, after the launcher is gone; so with a regular file
 * (`2>run.log`); with pipes (a shell), the fds are left as they are.  Each case runs in a child (it changes fds 1, 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/launcher.h"

/* In a child: fds 1 and 2 are OUT; relay; write from it and a grandchild. */
static void stdio_child(int out, int expect_relayed)
{
	struct stat before, st;
	pid_t gc;

	if (dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
		_exit(10);
	close(out);
	if (fstat(STDOUT_FILENO, &before) || launch_stdio_relay())
		_exit(11);
	/* Relayed: a new pipe at 1 and 2; otherwise the same file as before. */
	if (fstat(STDOUT_FILENO, &st) || !S_ISFIFO(st.st_mode) ||
	    (st.st_ino != before.st_ino) != expect_relayed)
		_exit(12);
	if (write(STDOUT_FILENO, "out\n", 4) != 4 || write(STDERR_FILENO, "err\n", 4) != 4)
		_exit(13);
	gc = fork();
	if (gc == 0) {
		/* The VMM's part: written after its parent is gone. */
		usleep(100 * 1000);
		_exit(write(STDOUT_FILENO, "vmm\n", 4) == 4 ? 0 : 1);
	}
	_exit(gc > 0 ? 0 : 14);
}

static void run_case(int type, int expect_relayed)
{
	char buf[64] = { 0 };
	size_t len = 0;
	int sv[2], status;
	ssize_t n;
	pid_t pid;

	if (type == SOCK_STREAM) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	} else {
		int p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		sv[0] = p[1];   /* the child writes */
		sv[1] = p[0];   /* we read */
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		stdio_child(sv[0], expect_relayed);
	}
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* EOF only once every writer (relay's pipe: child, grandchild) is gone. */
	while (len < sizeof(buf) - 1 && (n = read(sv[1], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(sv[1]);
	assert_string_equal(buf, "out\nerr\nvmm\n");
}

/* A regular file (`2>run.log`): relayed, the streams in order in it. */
static void test_file_relayed(void **state)
{
	char path[] = "/tmp/test_stdio.XXXXXX", buf[64] = { 0 };
	int fd = mkstemp(path), status;
	ssize_t n = 0;
	pid_t pid;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		stdio_child(fd, 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* No EOF to wait for: the relay has written all once 12 bytes are in. */
	for (int i = 0; i < 500 && n < 12; i++) {
		usleep(10 * 1000);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	}
	close(fd);
	assert_string_equal(buf, "out\nerr\nvmm\n");
}

static void test_socket_relayed(void **state)
{
	(void)state;
	run_case(SOCK_STREAM, 1);
}

static void test_pipe_left_alone(void **state)
{
	(void)state;
	run_case(0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_relayed),
		cmocka_unit_test(test_pipe_left_alone),
		cmocka_unit_test(test_file_relayed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
