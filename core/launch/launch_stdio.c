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
 * A terminal is relayed the same way: no guest domain may use one either
 * (and the VMM then holds no terminal to send ioctls to); stdin from a
 * terminal is core/launch/launch_tty.c's.
 * stdin, systemd's /dev/null (StandardInput=null), is reopened by the
 * launcher for the same reason (host lab: the VMM denied `fd use` of it).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"

#define STDIO_RELAY_UID 65534   /* nobody: it only copies bytes */

/* The relay child: pipe to OUT until every writer (the launcher, the VMM,
 * swtpm) has closed it.  If OUT fails (journald gone), it keeps draining,
 * so that no writer ever blocks on a full pipe. */
static void launch_stdio_copy(int in, int out)
{
	char buf[16384];
	bool ok = true;
	ssize_t n;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (ok && write_all(out, buf, (size_t)n))
			ok = false;
	}
}

static void launch_stdio_child(int in, int out)
{
	/* Privilege drop: the relay keeps two descriptors (the pipe's read end
	 * and the original stdout or stderr) and nothing else: no other fd,
	 * no capability, the uid and gid of nobody.  It needs no more to copy
	 * bytes; it outlives the launcher only until the guest's last
	 * process closes the pipe. */
	if (dup2(in, 3) < 0 || dup2(out, 4) < 0 ||
	    syscall(SYS_close_range, 5u, ~0u, 0) ||
	    syscall(SYS_close_range, 0u, 2u, 0) || setgroups(0, NULL) ||
	    setresgid(STDIO_RELAY_UID, STDIO_RELAY_UID, STDIO_RELAY_UID) ||
	    setresuid(STDIO_RELAY_UID, STDIO_RELAY_UID, STDIO_RELAY_UID))
		_exit(127);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_IGN);   /* a stop signals the launcher; we drain */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	launch_stdio_copy(3, 4);
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

int launch_stdio_relay(void)
{
	struct stat o, e;
	bool so, se;
	int p[2], rc;
	pid_t pid;

	rc = launch_stdin_reopen();
	if (rc)
		return rc;
	so = !fstat(STDOUT_FILENO, &o) && (S_ISSOCK(o.st_mode) || isatty(STDOUT_FILENO));
	se = !fstat(STDERR_FILENO, &e) && (S_ISSOCK(e.st_mode) || isatty(STDERR_FILENO));
	if (!so && !se)
		return 0;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		launch_stdio_child(p[0], so ? STDOUT_FILENO : STDERR_FILENO);
	rc = 0;
	if ((so && dup2(p[1], STDOUT_FILENO) < 0) ||
	    (se && dup2(p[1], STDERR_FILENO) < 0))
		rc = -errno;
out:
	close(p[0]);
	close(p[1]);
	return rc;
}
