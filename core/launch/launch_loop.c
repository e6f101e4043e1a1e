/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's supervision loop, one thread, one poll():
 *   signalfd    SIGTERM/SIGINT/SIGHUP: the first presses the guest's power
 *               button (SIGTERM to the VMM); the next stops it hard
 *               (VMM_SIG_STOP), the one after kills the VMM
 *   timeout     --stop-timeout after the press: stop hard; LAUNCH_STOP_GRACE_S
 *               after that: SIGKILL
 *   pidfd       the VMM exited: its status is ours
 *   swtpm pidfd swtpm died: the guest is stopped (fail closed)
 *   TPM proxy   the guest's TPM commands (tpmproxy_service); -EIO: stop
 *   attestd     the attestation control socket (attest/producer/attestd.h)
 *   control     the guest's control socket and the VMM's order channel
 *               (core/launch/launch_control.h): clients, pause/resume/stats
 *               orders; its power button and hard stop act as the first
 *               and second signal do
 * A migration's target also has two threads beside it, joined here when
 * they end: the migrated TPM's enrollment and the receiver of the source's
 * host records (launch_mighost.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include "attest/producer/cmd_attest.h"
#include "core/launch/audit.h"
#include "core/launch/launch_control.h"
#include "core/launch/launch_mighost.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launcher.h"
#include "core/util.h"
#include "core/vmm_abi.h"

static struct attestd launch_ad;
static struct attestd_guest launch_ad_id;
static struct control launch_ctl;

/* The control socket and the VMM's order channel (fail closed). */
int launch_control_setup(struct launch *l)
{
	int rc = launch_control_open(&launch_ctl, l, ATTESTD_RUN_DIR, l->opt.control_gid,
				     &l->vmm_ctl_fd);
	int sp[2];

	if (!rc)
		l->control = &launch_ctl;
	/* VMM_FD_SNAP: every start gets it (a snapshot may be asked of any
	 * guest); the launcher's end is read by the snapshot command. */
	if (!rc && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		rc = -errno;
	else if (!rc) {
		l->snap_fd = sp[0];
		l->vmm_snap_fd = sp[1];
	}
	return rc;
}

void launch_control_teardown(struct launch *l)
{
	/* A migration job still running (the guest stopped under it) ends
	 * first: it uses the fds closed below. */
	if (l->control)
		launch_migrate_abandon(l->control);
	if (l->snap_fd >= 0)
		close(l->snap_fd);
	l->snap_fd = -1;
	if (!l->control)
		return;
	launch_control_close(&launch_ctl);
	l->control = NULL;
}

/* The guest's enrollment settings (attest/producer/attestd.h). */
static struct attestd_enroll_config launch_enroll_config(const struct launch *l)
{
	return (struct attestd_enroll_config){
		.name = l->cfg.name, .ek_cert_dir = l->cert_dir,
		.ek_ca_dir = l->opt.ca_dir,
		/* issue 15: the AK certificate comes with a host quote bound to it */
		.host_tpm = l->opt.host_tpm, .host_dir = l->opt.host_dir,
		.host_bind = enroll_host_bind,
	};
}

/* A migration's target: the source's identity checked (before anything
 * moves) and, once its TPM state is here, taken (launch_incoming.c). */
int launch_attestd_ek_check(const struct launch *l, const struct bundle_chain *ek,
			    char *why, size_t whylen)
{
	return attestd_ek_check(l->opt.ca_dir, l->cfg.name, ek, why, whylen);
}

int launch_attestd_adopt(const struct launch *l, const char *uuid,
			 const struct bundle_chain *ek)
{
	struct attestd_enroll_config ec = launch_enroll_config(l);

	return attestd_adopt(&ec, uuid, ek);
}

/* A migration's target enrolls the migrated TPM after the guest runs
 * there (its downtime does not wait for two RSA-2048 derivations): a
 * thread of its own (the proxy's lock orders its TPM commands with the
 * guest's), the attestation socket open meanwhile and answering every
 * request with the reason (attestd.refuse). */
static struct {
	pthread_t th;
	struct attestd_enroll_config ec;
	char label[sizeof(((struct launch *)0)->vmm_label)];
	struct launch *l;
	int running;       /* the thread exists, not joined */
	int done;          /* atomic: the thread ended, rc set */
	int rc;
	long long t0;
} launch_enr;

/* The enrolled identity (a migration's source sends it), NULL before
 * (and while a migrated TPM is being enrolled, or could not be). */
const struct attestd_guest *launch_attestd_identity(const struct launch *l)
{
	return l->attestd && !launch_enr.running && !launch_ad.refuse[0] ? &launch_ad_id : NULL;
}

/* Enrollment at first start and the control socket (fail closed).  A
 * migration's target calls it only once the source's TPM state and
 * identity are here (launch_incoming.c), never for the TPM made here. */
int launch_attestd_open(struct launch *l)
{
	struct attestd_enroll_config ec = launch_enroll_config(l);
	int rc;

	if (!l->vtpm_running || l->attestd)
		return 0;
	rc = attestd_enroll_if_needed(&ec, &l->vtpm, l->svm ? l->vmm_label : "none",
				      &launch_ad_id);
	if (rc) {
		log_err("attestation enrollment: %s", strerror(-rc));
		return rc;
	}
	rc = attestd_open(ATTESTD_RUN_DIR, l->cfg.name, &launch_ad);
	if (rc) {
		log_err("attestation socket: %s", strerror(-rc));
		attestd_guest_free(&launch_ad_id);
		return rc;
	}
	l->attestd = &launch_ad;
	return 0;
}

static long long launch_now_ms(void);

static void *launch_enroll_main(void *arg)
{
	(void)arg;
	launch_enr.rc = attestd_enroll_if_needed(&launch_enr.ec, &launch_enr.l->vtpm,
						 launch_enr.label, &launch_ad_id);
	__atomic_store_n(&launch_enr.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* After a migration's RUNNING: the socket open, refusing, and the
 * migrated TPM's enrollment started (launch_attestd_reap ends it). */
int launch_attestd_open_migrated(struct launch *l)
{
	int rc;

	if (!l->vtpm_running || l->attestd)
		return 0;
	rc = attestd_open(ATTESTD_RUN_DIR, l->cfg.name, &launch_ad);
	if (rc) {
		log_err("attestation socket: %s", strerror(-rc));
		return rc;
	}
	l->attestd = &launch_ad;
	snprintf(launch_ad.refuse, sizeof(launch_ad.refuse), "guest %s is not yet enrolled "
		 "after a migration (its enrollment runs): try again in a moment", l->cfg.name);
	launch_enr.ec = launch_enroll_config(l);
	snprintf(launch_enr.label, sizeof(launch_enr.label), "%s",
		 l->svm ? l->vmm_label : "none");
	launch_enr.l = l;
	launch_enr.done = 0;
	launch_enr.t0 = launch_now_ms();
	rc = -pthread_create(&launch_enr.th, NULL, launch_enroll_main, NULL);
	if (rc) {
		launch_enr.rc = rc;
		launch_enr.done = 1;
		return 0;        /* launch_attestd_reap reports it */
	}
	launch_enr.running = 1;
	return 0;
}

/* The migrated TPM's enrollment ended: the socket serves, or it keeps
 * refusing with the reason (the guest runs on, unattestable). */
static void launch_attestd_reap(struct launch *l)
{
	struct audit_guest g = { .name = l->cfg.name, .pid = l->vmm_pid };
	int rc;

	if (!__atomic_load_n(&launch_enr.done, __ATOMIC_ACQUIRE) || !l->attestd ||
	    !launch_ad.refuse[0] || launch_enr.done == 2)
		return;
	if (launch_enr.running)
		pthread_join(launch_enr.th, NULL);
	launch_enr.running = 0;
	launch_enr.done = 2;
	rc = launch_enr.rc;
	if (!rc) {
		launch_ad.refuse[0] = '\0';
		log_info("attestation: the migrated vTPM enrolled, %lld ms after the guest "
			 "resumed here; the attestation socket serves", launch_now_ms() -
			 launch_enr.t0);
		audit_control(&g, "attest-enroll", "migrated", true);
		return;
	}
	snprintf(launch_ad.refuse, sizeof(launch_ad.refuse), "guest %s is NOT attestable "
		 "here: its migrated vTPM could not be enrolled (%s: the EK certificate that "
		 "came with it is not this TPM's, or this host's CA failed); it runs on",
		 l->cfg.name, strerror(-rc));
	log_err("attestation: %s", launch_ad.refuse);
	audit_control(&g, "attest-enroll", "unattestable", false);
}

void launch_attestd_close(struct launch *l)
{
	launch_mighost_end();     /* a migration's receiver of host records */
	if (launch_enr.running) {
		pthread_join(launch_enr.th, NULL);
		launch_enr.running = 0;
	}
	if (!l->attestd)
		return;
	attestd_close(&launch_ad);
	attestd_guest_free(&launch_ad_id);
	l->attestd = NULL;
}

enum { PFD_SIG, PFD_VMM, PFD_SWTPM, PFD_PROXY, PFD_ATTEST, PFD_TTY, PFD_COUNT };
#define PFD_ALL (PFD_COUNT + CONTROL_POLLFDS)

struct launch_loop {
	struct launch *l;
	pid_t pid;
	int failed;        /* the vTPM failed: the guest was stopped */
	int stage;         /* STOP_*: how far the stop has gone */
	long long deadline_ms;   /* CLOCK_MONOTONIC; 0: none */
	long long last_ms;       /* the last signal that moved the stop on */
	struct pollfd pfd[PFD_ALL];
	int nctl;          /* control pollfds after PFD_COUNT */
};

enum { STOP_NONE, STOP_BUTTON, STOP_HARD, STOP_KILLED };

static long long launch_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void launch_loop_stop(struct launch_loop *lp, const char *why)
{
	log_err("%s: stopping the guest (fail closed)", why);
	lp->failed = 1;
	kill(lp->pid, SIGKILL);
}

static void launch_loop_fds(struct launch_loop *lp)
{
	struct launch *l = lp->l;
	int vt = l->vtpm_running && !lp->failed;

	lp->pfd[PFD_SWTPM] = (struct pollfd){ vt ? l->vtpm.swtpm.pidfd : -1, POLLIN, 0 };
	lp->pfd[PFD_PROXY] = (struct pollfd){ vt ? tpmproxy_fd(&l->vtpm.proxy) : -1,
					     vt ? tpmproxy_events(&l->vtpm.proxy) : 0, 0 };
	lp->pfd[PFD_ATTEST] = (struct pollfd){ vt && l->attestd ? attestd_fd(&launch_ad) : -1,
					      POLLIN, 0 };
	lp->pfd[PFD_TTY] = (struct pollfd){ launch_tty_cmd_fd(), POLLIN, 0 };
	lp->nctl = l->control ? launch_control_fds(l->control, lp->pfd + PFD_COUNT) : 0;
	if (l->control)
		l->control->stopping = lp->stage;
}

/* One step further in stopping the guest: power button, hard stop, kill. */
static void launch_loop_escalate(struct launch_loop *lp)
{
	unsigned int t = lp->l->opt.stop_timeout;

	if (lp->stage == STOP_NONE && t > 0) {
		log_info("pressing the guest's power button; stopping it hard if it "
			 "has not powered off in %u s", t);
		kill(lp->pid, SIGTERM);
		lp->stage = STOP_BUTTON;
		lp->deadline_ms = launch_now_ms() + 1000LL * t;
	} else if (lp->stage <= STOP_BUTTON) {
		log_warn("stopping the guest hard, without its own shutdown");
		kill(lp->pid, VMM_SIG_STOP);
		lp->stage = STOP_HARD;
		lp->deadline_ms = launch_now_ms() + 1000LL * LAUNCH_STOP_GRACE_S;
	} else {
		log_err(VMM_BINARY " still runs: killing it");
		kill(lp->pid, SIGKILL);
		lp->stage = STOP_KILLED;
		lp->deadline_ms = 0;
	}
}

/* A stop request (a signal, the console's Ctrl-] q): one step further.
 * One request can arrive twice (timeout(1) signals us and our process
 * group; a key typed twice): within a second it is the same request. */
static void launch_loop_request(struct launch_loop *lp, const char *what)
{
	if (lp->stage != STOP_NONE && launch_now_ms() - lp->last_ms < 1000) {
		log_info("%s: already stopping the guest", what);
		return;
	}
	log_info("%s", what);
	lp->last_ms = launch_now_ms();
	launch_loop_escalate(lp);
}

static void launch_loop_signal(struct launch_loop *lp)
{
	struct signalfd_siginfo si;
	char what[32];

	while (read(lp->pfd[PFD_SIG].fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;   /* the pidfds say who */
		snprintf(what, sizeof(what), "signal %u", si.ssi_signo);
		launch_loop_request(lp, what);
	}
}

/* Ctrl-] q on the console (core/launch/launch_tty.c). */
static void launch_loop_tty(struct launch_loop *lp)
{
	if (!lp->pfd[PFD_TTY].revents)
		return;
	if (launch_tty_cmd_read() > 0)
		launch_loop_request(lp, "console: Ctrl-] q");
}

/* What control requests asked: the power button (once), or a hard stop. */
static void launch_loop_control(struct launch_loop *lp)
{
	int act;

	if (!lp->l->control)
		return;
	act = launch_control_service(lp->l->control, lp->pfd + PFD_COUNT, lp->nctl);
	if (act & CONTROL_ACT_STOP) {
		if (lp->stage == STOP_NONE)
			lp->stage = STOP_BUTTON;   /* straight to the hard stop */
		if (lp->stage == STOP_BUTTON)
			launch_loop_escalate(lp);
	} else if (act & CONTROL_ACT_BUTTON && lp->stage == STOP_NONE) {
		launch_loop_escalate(lp);
	}
}

/* The deadline passed: the guest ignored the button, or the VMM its stop. */
static void launch_loop_deadline(struct launch_loop *lp)
{
	if (!lp->deadline_ms || launch_now_ms() < lp->deadline_ms)
		return;
	if (lp->stage == STOP_BUTTON)
		log_warn("the guest ignored the power button for %u s (--stop-timeout)",
			 lp->l->opt.stop_timeout);
	launch_loop_escalate(lp);
}

/* The poll timeout: the TPM proxy's (TO) or the stop deadline's, if sooner. */
static int launch_loop_timeout(const struct launch_loop *lp, int to)
{
	long long left;

	if (!lp->deadline_ms)
		return to;
	left = lp->deadline_ms - launch_now_ms();
	if (left < 0)
		left = 0;
	return to < 0 || left < to ? (int)left : to;
}

static void launch_loop_vtpm(struct launch_loop *lp)
{
	struct launch *l = lp->l;
	int rc;

	if (lp->pfd[PFD_SWTPM].revents && swtpm_check(&l->vtpm.swtpm))
		return launch_loop_stop(lp, "swtpm died");
	if (lp->pfd[PFD_PROXY].fd >= 0) {
		rc = tpmproxy_service(&l->vtpm.proxy, lp->pfd[PFD_PROXY].revents);
		if (rc == -EIO)
			return launch_loop_stop(lp, "the vTPM failed");
	}
	if (lp->pfd[PFD_ATTEST].revents & POLLIN) {
		rc = attestd_service(&launch_ad, &l->vtpm, &launch_ad_id.g);
		if (rc == -EIO)
			return launch_loop_stop(lp, "the vTPM failed (attestation)");
	}
}

/* How the VMM ended, in one line whatever it could say itself (its log
 * may be lost: a full disk, a pipe gone, a kill). */
static void launch_loop_report(const struct launch_loop *lp, int status)
{
	static const char *const exits[] = {
		[VMM_EXIT_OK] = "the guest powered off or asked for a reboot",
		[VMM_EXIT_GUEST] = "the guest failed (triple fault, KVM error)",
		[VMM_EXIT_SETUP] = "set-up failed",
		[VMM_EXIT_STOPPED] = "stopped hard",
	};
	int sig = WTERMSIG(status);

	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);

		log_info(VMM_BINARY " (pid %d) exited %d: %s", lp->pid, code,
			 code < (int)ARRAY_SIZE(exits) && exits[code] ? exits[code] : "?");
	} else if (sig == SIGSYS) {
		log_err(VMM_BINARY " (pid %d) killed by SIGSYS: a system call outside "
			"its seccomp filter; the kernel's audit record names it "
			"(type=SECCOMP, pid=%d: ausearch -m SECCOMP -p %d, or dmesg)",
			lp->pid, lp->pid, lp->pid);
	} else {
		log_err(VMM_BINARY " (pid %d) killed by signal %d (%s)", lp->pid, sig,
			strsignal(sig));
	}
}

static int launch_loop_status(struct launch_loop *lp, int status)
{
	launch_loop_report(lp, status);
	if (WIFEXITED(status))
		return lp->failed ? VMM_EXIT_GUEST : WEXITSTATUS(status);
	return lp->failed ? VMM_EXIT_GUEST : 128 + WTERMSIG(status);
}

static int launch_loop_open(struct launch_loop *lp)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	lp->pfd[PFD_SIG] = (struct pollfd){
		signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK), POLLIN, 0 };
	lp->pfd[PFD_VMM] = (struct pollfd){
		(int)syscall(SYS_pidfd_open, lp->pid, 0), POLLIN, 0 };
	if (lp->pfd[PFD_SIG].fd < 0 || lp->pfd[PFD_VMM].fd < 0) {
		log_err("signalfd/pidfd: %s: stopping the guest", strerror(errno));
		kill(lp->pid, SIGKILL);
		return -errno;
	}
	return 0;
}

/* Until the VMM exits; returns the exit status of `bulwark run`. */
int launch_loop_run(struct launch *l, pid_t pid)
{
	struct launch_loop lp = { .l = l, .pid = pid };
	int status = 0;

	if (l->control)
		launch_control_start(l->control, pid);
	if (launch_loop_open(&lp) == 0)
		for (;;) {
			int to = l->vtpm_running && !lp.failed ?
				 tpmproxy_timeout_ms(&l->vtpm.proxy) : -1;

			launch_attestd_reap(l);
			launch_mighost_reap();
			launch_loop_fds(&lp);
			if (l->control)
				to = launch_control_timeout(l->control, to);
			if (launch_enr.running && (to < 0 || to > 50))
				to = 50;     /* the enrollment's end is polled */
			if (poll(lp.pfd, (nfds_t)(PFD_COUNT + lp.nctl),
				 launch_loop_timeout(&lp, to)) < 0 && errno != EINTR)
				launch_loop_stop(&lp, "poll failed");
			if (lp.pfd[PFD_SIG].revents)
				launch_loop_signal(&lp);
			launch_loop_control(&lp);
			launch_loop_tty(&lp);
			launch_loop_deadline(&lp);
			if (l->vtpm_running && !lp.failed)
				launch_loop_vtpm(&lp);
			if (lp.pfd[PFD_VMM].revents &&
			    waitpid(pid, &status, WNOHANG) == pid)
				break;
		}
	else
		waitpid(pid, &status, 0);
	for (int i = 0; i < PFD_SIG + 2; i++)
		if (lp.pfd[i].fd >= 0)
			close(lp.pfd[i].fd);
	return launch_loop_status(&lp, status);
}
