/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest that left this host by live migration: its record, the vTPM
 * state's retirement, and the refusal to start it here again
 * (core/launch/launch_moved.h).  Runs in the launcher (root).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/vtpm/swtpm.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"

#define MOVED_TMP LAUNCH_MOVED_FILE ".new"

/* Set by launch_moved_write: the teardown removes the vTPM state. */
static bool retire_pending;

/* Printable ASCII only: the record names peers' words (CN, label). */
static void moved_clean(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static int moved_text(const struct launch *l, const struct migrate_progress *p,
		      const uint8_t sha[32], char *out, size_t len)
{
	char hex[65], when[32], peer[sizeof(p->peer)], label[sizeof(p->target_label)];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	hex_encode(sha, 32, hex);
	if (!gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)now);
	snprintf(peer, sizeof(peer), "%s", p->peer);
	snprintf(label, sizeof(label), "%s", p->target_label);
	moved_clean(peer);
	moved_clean(label);
	n = snprintf(out, len,
		     "bulwark-moved-v1\nguest %s moved by live migration at %s\n"
		     "to %s\ntarget %s\ntarget label %s\nstream sha256 %s\n"
		     "its vTPM state and key were removed from this host\n",
		     l->cfg.name, when, p->to, peer, label, hex);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* TEXT into DIRFD/moved: a temporary file, fsync, rename, the folder's fsync. */
static int moved_store(int dirfd, const char *text, size_t len)
{
	int fd, rc = 0;

	(void)unlinkat(dirfd, MOVED_TMP, 0);
	fd = openat(dirfd, MOVED_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, text, len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && renameat(dirfd, MOVED_TMP, dirfd, LAUNCH_MOVED_FILE))
		rc = -errno;
	if (!rc && fsync(dirfd))
		rc = -errno;
	if (rc)
		(void)unlinkat(dirfd, MOVED_TMP, 0);
	return rc;
}

int launch_moved_write(struct launch *l, const struct migrate_progress *p,
		       const uint8_t stream_sha256[32])
{
	char text[LAUNCH_MOVED_MAX];
	int dirfd, n, rc;

	/* The TPM's copy goes whatever comes of the record: it is the target's
	 * now, and a start here from it would fork the guest's identity. */
	retire_pending = l->cfg.vtpm;
	n = moved_text(l, p, stream_sha256, text, sizeof(text));
	dirfd = n < 0 ? n : launch_state_dirfd(l);
	rc = dirfd < 0 ? dirfd : moved_store(dirfd, text, (size_t)n);
	if (rc) {
		log_err("migrate: guest %s: the record of its move (%s/%s/%s) could not "
			"be written: %s; do NOT start it here again (its disks are the "
			"target's guest's)", l->cfg.name, l->opt.state_dir, l->cfg.name,
			LAUNCH_MOVED_FILE, strerror(-rc));
		return rc;
	}
	log_info("migrate: guest %s: moved to %s; recorded in %s/%s/%s (a start here "
		 "is refused)", l->cfg.name, p->to, l->opt.state_dir, l->cfg.name,
		 LAUNCH_MOVED_FILE);
	return 0;
}

int launch_moved_retire(struct launch *l)
{
	struct swtpm_config tc;
	int rc;

	if (!retire_pending)
		return 0;
	retire_pending = false;
	launch_vtpm_config(l, &tc);
	rc = swtpm_delete(&tc);
	if (rc)
		log_err("migrate: guest %s: its vTPM state %s could not be removed (%s); "
			"the record %s still refuses a start here", l->cfg.name, l->vtpm_dir,
			strerror(-rc), LAUNCH_MOVED_FILE);
	else
		log_info("migrate: guest %s: its vTPM state and key removed here (its TPM "
			 "runs on the target)", l->cfg.name);
	return rc;
}

int launch_moved_check(const struct launch *l, int dirfd)
{
	char text[LAUNCH_MOVED_MAX + 1];
	ssize_t n = -1;
	int fd, err;

	if (l->incoming)
		return 0;       /* the guest may come back: cleared at RUNNING */
	fd = openat(dirfd, LAUNCH_MOVED_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0)
		n = read(fd, text, LAUNCH_MOVED_MAX);
	err = errno;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		snprintf(text, sizeof(text), "(unreadable: %s)", n ? strerror(err) : "empty");
	else
		text[n] = '\0';
	for (char *c = text; *c; c++)
		if (*c == '\n')
			*c = c[1] ? ';' : '\0';
	moved_clean(text);
	log_err("guest %s: it moved to another host and does not start here; %s/%s/%s "
		"says: %s (`bulwark delete %s` removes this host's record and state)",
		l->cfg.name, l->opt.state_dir, l->cfg.name, LAUNCH_MOVED_FILE, text,
		l->cfg.name);
	return -EEXIST;
}

int launch_moved_refuse(const struct launch *l)
{
	char path[PATH_MAX];
	int fd, rc;

	if (l->incoming)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", l->opt.state_dir, l->cfg.name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;   /* the state lock says more */
	rc = launch_moved_check(l, fd);
	close(fd);
	return rc;
}

void launch_moved_clear(const struct launch *l)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s/%s", l->opt.state_dir, l->cfg.name,
		     LAUNCH_MOVED_FILE) >= (int)sizeof(path))
		return;
	if (!unlink(path))
		log_info("incoming: guest %s runs here again: the record of its earlier "
			 "move away removed", l->cfg.name);
	else if (errno != ENOENT)
		log_warn("incoming: guest %s: %s: %s (a later start here would be refused)",
			 l->cfg.name, path, strerror(errno));
}
