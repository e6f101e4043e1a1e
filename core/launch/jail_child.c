/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The half of the jail that runs in the child of jail_clone() before exec,
 * still root (the half after exec is core/jail_verify.c).  Order and
 * reasons: core/sandbox.h.
 */
#include "core/jail_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

/* Soft and hard limits are set equal: an SELinux domain transition without
 * rlimitinh resets each soft limit to min(hard, init's soft), which can then
 * only tighten them. */
static int jail_rlimits_set(const struct jail_config *cfg)
{
	const struct {
		int resource;
		rlim_t value;
	} lim[] = {
		/* The fds it is given and the vCPU and event fds it makes. */
		{ RLIMIT_NOFILE, cfg->nofile },
		/* No file grows past the largest writable disk (or the
		 * console log cap). */
		{ RLIMIT_FSIZE, cfg->fsize },
		/* Its threads; the uid is this guest's own. */
		{ RLIMIT_NPROC, cfg->nproc },
		/* Guest RAM plus the VMM's own mappings. */
		{ RLIMIT_AS, cfg->as },
		/* No core file holding guest memory. */
		{ RLIMIT_CORE, 0 },
		/* Nothing to lock, no message queues. */
		{ RLIMIT_MEMLOCK, 0 },
		{ RLIMIT_MSGQUEUE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lim); i++) {
		struct rlimit r = { lim[i].value, lim[i].value };

		if (setrlimit(lim[i].resource, &r))
			return -errno;
	}
	return 0;
}

/* Kept fds lose FD_CLOEXEC so they cross the exec; the exec fd gets it, so
 * the exec consumes it; all others above 2 are closed. */
static int jail_fds_close(const struct jail_config *cfg)
{
	int keep[JAIL_MAX_KEEP_FDS + 1];
	size_t n = cfg->n_keep_fds;
	unsigned int lo = 3;

	memcpy(keep, cfg->keep_fds, n * sizeof(keep[0]));
	if (cfg->exec_fd >= 0) {
		if (fcntl(cfg->exec_fd, F_SETFD, FD_CLOEXEC))
			return -errno;
		keep[n++] = cfg->exec_fd;
	}
	for (size_t i = 1; i < n; i++)	/* insertion sort, n <= 64 */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		int fl = fcntl(keep[i], F_GETFD);

		if (fl < 0 || (keep[i] != cfg->exec_fd &&
			       fcntl(keep[i], F_SETFD, fl & ~FD_CLOEXEC)))
			return -errno;
		if ((unsigned int)keep[i] > lo && close_range(lo, (unsigned int)keep[i] - 1, 0))
			return -errno;
		lo = (unsigned int)keep[i] + 1;
	}
	return close_range(lo, ~0u, 0) ? -errno : 0;
}

int jail_enter_child(const struct jail_config *cfg)
{
	int rc;

	rc = jail_config_check(cfg);
	if (rc)
		return rc;
	rc = jail_fs_enter(cfg);
	if (rc) {
		log_err("jail root %s: %s", cfg->root, strerror(-rc));
		return rc;
	}
	rc = jail_rlimits_set(cfg);
	if (rc == 0)
		rc = jail_fds_close(cfg);
	if (rc) {
		log_err("limits and fds: %s", strerror(-rc));
		return rc;
	}
	/* After this: uid/gid cfg->uid/gid, no groups, no capability in any
	 * set.  What is left is what that uid may do in an empty read-only
	 * root with no network (unless a tap is kept): use the fds it was
	 * given. */
	rc = jail_creds_drop(cfg->uid, cfg->gid);
	if (rc) {
		log_err("dropping privileges: %s", strerror(-rc));
		return rc;
	}
	/* The launcher's death kills the VMM; set after the uid change,
	 * which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return -errno;
	return 0;
}
