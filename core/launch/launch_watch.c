/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's watchdog: a forked copy of the launcher (no exec, same
 * domain, root) that does one thing: when the launcher dies (SIGKILL
 * included) it SIGKILLs the guest's VMM and swtpm through pidfds, so the
 * registry entry becomes provably stale and the next launcher or
 * `bulwark gc` restores the labels.  No clean shutdown here: a guest
 * outlives no supervisor (the VMM's own parent-death SIGKILL, set after
 * its exec, has usually ended it already; SECURITY.md).
 *
 * Why not PR_SET_PDEATHSIG on the VMM and swtpm themselves: SELinux clears
 * the parent-death signal on every domain transition, and both are exec'd
 * into their own domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/launch/launcher.h"

enum { WATCH_SIG = 3, WATCH_VMM = 4, WATCH_SWTPM = 5 };

static void launch_watch_kill(void)
{
	for (int fd = WATCH_VMM; fd <= WATCH_SWTPM; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

/*
 * Until the launcher is gone: the parent-death SIGTERM comes after the
 * reparenting, so getppid() tells it from a SIGTERM to the whole process
 * group (timeout(1), a service manager), which is the launcher's to handle.
 */
static void launch_watch_wait(pid_t launcher)
{
	struct pollfd p = { .fd = WATCH_SIG, .events = POLLIN };
	struct signalfd_siginfo si;

	while (getppid() == launcher) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return;
		if (p.revents & POLLIN && read(WATCH_SIG, &si, sizeof(si)) < 0 &&
		    errno != EINTR)
			return;
	}
}

/* The watchdog: pidfds at fixed numbers, nothing else open but stderr. */
static void launch_watch_child(pid_t launcher, int vmm_fd, int swtpm_fd)
{
	sigset_t set;
	int sfd;

	/* ^C at a terminal reaches the whole process group: not ours to act on. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, 0);
	if (sfd < 0 || dup2(sfd, WATCH_SIG) < 0 || dup2(vmm_fd, WATCH_VMM) < 0 ||
	    (swtpm_fd >= 0 ? dup2(swtpm_fd, WATCH_SWTPM) < 0 : close(WATCH_SWTPM) < 0 && errno != EBADF) ||
	    close_range(WATCH_SWTPM + 1, ~0U, 0))
		goto out;
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	/* SIGTERM when the launcher dies; already gone: act now. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0))
		goto out;
	launch_watch_wait(launcher);
out:
	launch_watch_kill();
	_exit(0);
}

/* After the VMM's exec was verified: start the watchdog (fail closed). */
int launch_watch_start(struct launch *l, pid_t vmm)
{
	int vfd = (int)syscall(SYS_pidfd_open, vmm, 0);
	int sfd = l->vtpm_running ? l->vtpm.swtpm.pidfd : -1;
	pid_t me = getpid(), pid;

	if (vfd < 0) {
		log_err("watchdog: pidfd of the VMM: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		launch_watch_child(me, vfd, sfd);
	close(vfd);
	if (pid < 0) {
		log_err("watchdog: fork: %s", strerror(errno));
		return -errno;
	}
	l->watch_pid = pid;
	return 0;
}

/* At stop, before the vTPM is stopped: the watchdog has nothing to do. */
void launch_watch_stop(struct launch *l)
{
	if (l->watch_pid <= 0)
		return;
	kill(l->watch_pid, SIGKILL);
	waitpid(l->watch_pid, NULL, 0);
	l->watch_pid = 0;
}
