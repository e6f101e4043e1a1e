/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's stdout and stderr as the guest's processes inherit them
 * (core/launch/launcher.h).  Started by systemd, they are sockets to
 * journald that PID 1 opened: descriptors of init_t, which no guest domain
 * may use (`fd use`), so at the exec of the VMM and of swtpm the kernel
 * puts /dev/null in their place: the guest's console never reaches the
 * journal, and every start logs AVC denials (seen in the host lab,
 * tests/lab/host-test-service).  When either is a socket, the launcher
 * puts a pipe of its own there, and a relay child copies the pipe to the
 * original: the guests inherit the launcher's pipe, which the module lets
 * them write (fifo_file on bulwark_launcher_domain), as under a shell.
 * A regular file (`bulwark run 2>run.log`) is relayed too: it has the
 * user's type, which no guest domain may write either, so under sVirt every
 * line the VMM logged was lost and a VMM that ended printed nothing (issue
 * 19: the lab's AVC denial of the VMM's `write` to test-distro's log file).
 * stdout and stderr have a pipe each, so the console and the logs stay apart.
 * A terminal is relayed the same way: no guest domain may use one either
 * (and the VMM then holds no terminal to send ioctls to); stdin from a
 * terminal is core/launch/launch_tty.c's.
 * stdin, systemd's /dev/null (StandardInput=null), is reopened by the
 * launcher for the same reason (host lab: the VMM denied `fd use` of it).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"

#define STDIO_RELAY_UID 65534   /* nobody: it only copies bytes */

/* One relayed stream: a pipe's read end (fd IN in the child) to OUT. */
struct stdio_stream {
	int in, out;
	bool ok;            /* OUT still takes bytes */
};

/* Copy what IN has to OUT; false at EOF.  If OUT fails (journald gone),
 * keep draining, so that no writer ever blocks on a full pipe. */
static bool launch_stdio_copy(struct stdio_stream *s)
{
	char buf[16384];
	ssize_t n;

	do
		n = read(s->in, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return false;
	if (s->ok && write_all(s->out, buf, (size_t)n))
		s->ok = false;
	return true;
}

/* The relay child: each pipe to its stream until every writer (the
 * launcher, the VMM, swtpm) has closed it. */
static void launch_stdio_loop(struct stdio_stream *st, size_t n)
{
	struct pollfd pfd[2];
	size_t open = n;

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ st[i].in, POLLIN, 0 };
	while (open) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (pfd[i].revents && !launch_stdio_copy(&st[i])) {
				pfd[i].fd = -1;    /* poll skips it from now on */
				open--;
			}
	}
}

static void launch_stdio_child(struct stdio_stream *st, size_t n)
{
	/* Privilege drop: the relay keeps, per stream, the pipe's read end
	 * and the original stdout or stderr, and nothing else: no other fd,
	 * no capability, the uid and gid of nobody.  It needs no more to copy
	 * bytes; it outlives the launcher only until the guest's last
	 * process closes the pipes.  Fds 3..6: read end, original, per stream. */
	for (size_t i = 0; i < n; i++) {       /* out of the way first */
		st[i].in = fcntl(st[i].in, F_DUPFD, 100);
		st[i].out = fcntl(st[i].out, F_DUPFD, 100);
		if (st[i].in < 0 || st[i].out < 0)
			_exit(127);
	}
	for (size_t i = 0; i < n; i++) {
		if (dup2(st[i].in, 3 + 2 * (int)i) < 0 || dup2(st[i].out, 4 + 2 * (int)i) < 0)
			_exit(127);
		st[i].in = 3 + 2 * (int)i;
		st[i].out = 4 + 2 * (int)i;
		st[i].ok = true;
	}
	if (syscall(SYS_close_range, 3u + 2u * (unsigned int)n, ~0u, 0) ||
	    syscall(SYS_close_range, 0u, 2u, 0) || setgroups(0, NULL) ||
	    setresgid(STDIO_RELAY_UID, STDIO_RELAY_UID, STDIO_RELAY_UID) ||
	    setresuid(STDIO_RELAY_UID, STDIO_RELAY_UID, STDIO_RELAY_UID))
		_exit(127);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_IGN);   /* a stop signals the launcher; we drain */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	launch_stdio_loop(st, n);
	_exit(0);
}

/* StandardInput=null: systemd's own /dev/null, init_t's as well.  The
 * same device reopened by the launcher is one the guest may use. */
static int launch_stdin_reopen(void)
{
	struct stat st;
	int fd;

	if (fstat(STDIN_FILENO, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		return 0;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (dup2(fd, STDIN_FILENO) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* What no guest domain may write: a socket (journald's), a terminal, a
 * regular file (`2>run.log`: a file of the user's type).  A pipe from a
 * shell is left alone.  Such a descriptor is closed at the exec of the VMM
 * and of swtpm (SELinux puts /dev/null in its place, and denies that too):
 * every line the VMM logs would be lost, its last words included. */
static bool launch_stdio_relayed(int fd)
{
	struct stat st;

	return !fstat(fd, &st) &&
	       (S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode) || isatty(fd));
}

int launch_stdio_relay(void)
{
	struct stdio_stream st[2];
	int p[2][2] = { { -1, -1 }, { -1, -1 } };
	size_t n = 0;
	int rc;
	pid_t pid;

	rc = launch_stdin_reopen();
	if (rc)
		return rc;
	/* stdout and stderr each through a pipe of its own: the guest's
	 * console and the logs stay apart, as they were. */
	for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
		if (!launch_stdio_relayed(fd))
			continue;
		if (pipe2(p[n], O_CLOEXEC)) {
			rc = -errno;
			goto out;
		}
		st[n] = (struct stdio_stream){ .in = p[n][0], .out = fd };
		n++;
	}
	if (!n)
		return 0;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		launch_stdio_child(st, n);
	for (size_t i = 0; i < n && !rc; i++)
		if (dup2(p[i][1], st[i].out) < 0)
			rc = -errno;
out:
	for (size_t i = 0; i < 2; i++)
		for (size_t j = 0; j < 2; j++)
			if (p[i][j] >= 0)
				close(p[i][j]);
	return rc;
}
