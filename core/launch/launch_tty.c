/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's terminal as the guest's console (README, "Running a
 * guest").  When stdin is a terminal, the launcher puts it in raw mode
 * (every key to the guest, ^C, ^Z and ^\ included; output processing left
 * on, so log lines keep their line starts) and a relay child reads it:
 * keys go through a pipe that becomes the VMM's stdin, and Ctrl-] q
 * (core/launch/console_esc.h) goes to the launcher as a byte on a second
 * pipe, which presses the power button as SIGTERM does
 * (core/launch/launch_loop.c).  The VMM never holds the terminal: under
 * sVirt its domain may not use one, and a pipe gives it no terminal ioctl
 * (TIOCSTI) to abuse.  Backpressure, not loss: when the guest does not
 * read, the VMM stops reading the pipe, the relay blocks writing it and
 * keys wait in the terminal.
 *
 * The mode is put back on every way out: the end of `bulwark run`
 * (launch_tty_restore, whatever the VMM did: exit, crash, SIGKILL), the
 * stop signals (taken by signalfd, they end the same way) and a fatal
 * signal to the launcher (the handlers below restore, then die of the
 * signal as before).  Only SIGKILL of the launcher leaves the terminal raw
 * (`stty sane` mends it).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/launch/console_esc.h"
#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"

#define TTY_RELAY_UID 65534   /* nobody: it only copies bytes */

static struct termios launch_tty_mode;
static volatile sig_atomic_t launch_tty_fd = -1;   /* the terminal, saved */
static pid_t launch_tty_pid = -1;
static int launch_tty_cmd = -1;

/* Those whose default action ends the launcher (SIGPIPE is ignored:
 * launch_run.c); not the stop signals, which it survives. */
static const int launch_tty_fatal[] = {
	SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGUSR1, SIGUSR2,
	SIGALRM,
};

static void launch_tty_fatal_handler(int sig)
{
	/* tcsetattr and raise are async-signal-safe; SA_RESETHAND put the
	 * default action back, so the signal does what it did before. */
	if (launch_tty_fd >= 0)
		tcsetattr(launch_tty_fd, TCSANOW, &launch_tty_mode);
	raise(sig);
}

/* The relay child: terminal (3) to the VMM's pipe (4), Ctrl-] q as a byte
 * on the command pipe (5), until the terminal or either pipe is gone. */
static void launch_tty_relay(void)
{
	struct console_esc esc = { 0 };
	uint8_t buf[4096];

	for (;;) {
		ssize_t n = read(3, buf, sizeof(buf));
		size_t len;
		unsigned int quits;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len = (size_t)n;
		quits = console_esc_filter(&esc, buf, &len);
		if (len && write_all(4, buf, len))
			return;
		while (quits--)
			if (write(5, "q", 1) != 1)
				return;
	}
}

static void launch_tty_child(pid_t launcher, int tty, int data, int cmd)
{
	/* Privilege drop: the relay keeps three descriptors (the terminal,
	 * the write ends of the VMM's input and of the launcher's command
	 * pipe) and nothing else: no other fd, no capability, the uid and gid
	 * of nobody.  It dies with the launcher (PDEATHSIG), and the launcher
	 * kills it at its end: it never reads the terminal after `bulwark
	 * run` returns. */
	if (dup2(tty, 3) < 0 || dup2(data, 4) < 0 || dup2(cmd, 5) < 0 ||
	    syscall(SYS_close_range, 6u, ~0u, 0) ||
	    syscall(SYS_close_range, 0u, 2u, 0) ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != launcher ||
	    setgroups(0, NULL) ||
	    setresgid(TTY_RELAY_UID, TTY_RELAY_UID, TTY_RELAY_UID) ||
	    setresuid(TTY_RELAY_UID, TTY_RELAY_UID, TTY_RELAY_UID))
		_exit(127);
	signal(SIGPIPE, SIG_IGN);
	launch_tty_relay();
	_exit(0);
}

static void launch_tty_raw(void)
{
	struct termios t = launch_tty_mode;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = launch_tty_fatal_handler;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(launch_tty_fatal); i++)
		sigaction(launch_tty_fatal[i], &sa, NULL);
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(launch_tty_fd, TCSANOW, &t);
}

int launch_tty_start(void)
{
	int data[2] = { -1, -1 }, cmd[2] = { -1, -1 }, fd, rc = 0;
	pid_t self = getpid(), pid;

	if (!isatty(STDIN_FILENO))
		return 0;
	fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || tcgetattr(fd, &launch_tty_mode) < 0) {
		rc = -errno;
		goto fail;
	}
	if (pipe2(data, O_CLOEXEC) || pipe2(cmd, O_CLOEXEC | O_NONBLOCK)) {
		rc = -errno;
		goto fail;
	}
	launch_tty_fd = fd;
	launch_tty_raw();
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		launch_tty_restore();
		goto fail;
	}
	if (pid == 0)
		launch_tty_child(self, fd, data[1], cmd[1]);
	launch_tty_pid = pid;
	launch_tty_cmd = cmd[0];
	if (dup2(data[0], STDIN_FILENO) < 0)   /* the VMM's stdin (no CLOEXEC) */
		rc = -errno;
	close(data[0]);
	close(data[1]);
	close(cmd[1]);
	return rc;
fail:
	for (int i = 0; i < 2; i++) {
		if (data[i] >= 0)
			close(data[i]);
		if (cmd[i] >= 0)
			close(cmd[i]);
	}
	if (fd >= 0 && launch_tty_fd < 0)
		close(fd);
	return rc;
}

int launch_tty_cmd_fd(void)
{
	return launch_tty_cmd;
}

int launch_tty_cmd_read(void)
{
	char b[16];
	ssize_t n = read(launch_tty_cmd, b, sizeof(b));

	if (n > 0)
		return (int)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	close(launch_tty_cmd);   /* the relay is gone: no more escapes */
	launch_tty_cmd = -1;
	return -1;
}

void launch_tty_restore(void)
{
	if (launch_tty_pid > 0) {
		kill(launch_tty_pid, SIGKILL);
		waitpid(launch_tty_pid, NULL, 0);
		launch_tty_pid = -1;
	}
	if (launch_tty_fd >= 0)
		tcsetattr(launch_tty_fd, TCSANOW, &launch_tty_mode);
}
