/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark snapshot` on the launcher's side: PUT /snapshot on the guest's
 * control socket (core/launch/launch_control.h), body
 *   {"dir": "/abs/path", "then": "resume"|"stop"|"keep", "digest_disks": bool}
 * In order, the guest paused throughout:
 *   1. checks: DIR absolute and new (its parent exists), no order out, not
 *      stopping; the host's snapshot key (made on first use)
 *   2. DIR created 0700 and, under sVirt, labelled at the guest's pair
 *      (the vTPM-state type: no guest domain, not even this guest's VMM,
 *      reads it); the label is the guest's until it stops (registry entry).
 *      The file made in it has the folder's type at the launcher's level:
 *      reaching it takes the folder, at the pair
 *   3. pause, if the guest runs (VMM_CTL_PAUSE)
 *   4. snapbox_create; META (config, label, event log, vCPUs, memory)
 *   5. VMM_CTL_SAVE: the stream read from VMM_FD_SNAP, every record framed
 *      by snap_frame_check (the VMM is not trusted to end it), sealed as
 *      VMSTATE; the VMM's reply must be 0
 *   6. swtpm's three blobs (the VMM refused the save if a TPM command was in
 *      flight, and the guest is paused: none can start)
 *   7. DISKS: each disk's path, size and, when asked, SHA-256
 *   8. snapbox_commit (fsync, rename): the snapshot's digest
 *   9. resume (as asked; default resume), or the hard stop through the loop
 * Any failure: snapbox_abort (no file), DIR removed, and the guest resumed
 * if it was running.  Audit: VIRT_CONTROL op=snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/launch/launch_control.h"
#include "core/launch/launch_snapshot.h"
#include "core/launch/launcher.h"
#include "core/launch/snapbox.h"
#include "core/launch/snapmeta.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "core/util.h"

#define SNAP_IO_MS 15000      /* the VMM's stream stalls no longer than this */

struct snap_job {
	struct launch *l;
	struct control *ctl;
	const struct snapshot_req *req;
	struct snapbox *box;
	char *why;
	size_t why_len;
	uint64_t vm_bytes;
	bool saved_reply;          /* the VMM's SAVE reply came (early) */
	struct vmm_ctl_reply rep;
};

#define WHY(j, ...) snprintf((j)->why, (j)->why_len, __VA_ARGS__)

/* Exactly N bytes of the stream; a VMM reply before the end fails it. */
static int snap_read(struct snap_job *j, void *buf, size_t n)
{
	return launch_control_stream_read(j->ctl, j->l->snap_fd, buf, n, SNAP_IO_MS, &j->rep,
					  &j->saved_reply);
}

static int snap_put(struct snap_job *j, const void *buf, size_t n)
{
	j->vm_bytes += n;
	return snapbox_put(j->box, SNAPBOX_VMSTATE, buf, n);
}

static int snap_read_cb(void *ctx, void *buf, size_t n)
{
	return snap_read(ctx, buf, n);
}

static int snap_put_cb(void *ctx, const void *buf, size_t n)
{
	return snap_put(ctx, buf, n);
}

/* The VMM's stream, framed, into VMSTATE; then its reply. */
static int snap_vmstate(struct snap_job *j)
{
	static uint8_t buf[SNAPBOX_CHUNK];
	const struct stream_relay s = { snap_read_cb, snap_put_cb, j, buf, sizeof(buf) };
	struct snap_frame_state st = { .offset = SNAP_MAGIC_LEN };
	struct snap_limits lim;
	struct vmm_ctl_req req;
	int rc = snap_limits_from_config(&j->l->cfg, &lim);

	if (rc)
		return rc;
	req = (struct vmm_ctl_req){ .op = VMM_CTL_SAVE, .seq = ++j->ctl->seq };
	if (send(j->ctl->vmm_fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return -EPIPE;
	rc = snap_read(j, buf, SNAP_MAGIC_LEN);
	rc = rc ? rc : snap_header_check(buf, SNAP_MAGIC_LEN);
	rc = rc ? rc : snap_put(j, buf, SNAP_MAGIC_LEN);
	while (!rc) {
		struct snap_rec r;

		rc = launch_control_stream_record(&s, &lim, &st, &r);
		if (rc == SNAP_FRAME_END) {
			rc = 0;
			break;
		}
	}
	if (rc) {
		WHY(j, "the VMM's state stream: %s", strerror(-rc));
		return rc;
	}
	if (!j->saved_reply &&
	    (rc = launch_control_reply_wait(j->ctl, SNAP_IO_MS, &j->rep)) != 0)
		return WHY(j, "the VMM did not answer the save: %s", strerror(-rc)), rc;
	if (j->rep.result)
		WHY(j, "the VMM refused the save: %s", strerror(-j->rep.result));
	return j->rep.result;
}

static int snap_meta(struct snap_job *j)
{
	const struct launch *l = j->l;
	struct snapmeta m = {
		.nvcpus = l->cfg.cpus, .memory_mib = l->cfg.memory_mib,
		.flags = l->vtpm_running ? SNAPMETA_F_VTPM : 0, .time = (int64_t)time(NULL),
		.config = (const uint8_t *)l->canonical,
		.config_len = l->canonical_len,
		.log = l->vtpm_running ? l->vtpm.log.buf : NULL,
		.log_len = l->vtpm_running ? l->vtpm.log.len : 0,
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(m.name, sizeof(m.name), "%s", l->cfg.name);
	snprintf(m.label, sizeof(m.label), "%s", l->svm ? l->vmm_label : "");
	rc = snapmeta_encode(&m, &buf, &len);
	rc = rc ? rc : snapbox_put(j->box, SNAPBOX_META, buf, len);
	free(buf);
	if (rc)
		WHY(j, "META: %s", strerror(-rc));
	return rc;
}

static int snap_vtpm(struct snap_job *j)
{
	static const enum swtpm_blob blobs[] = { SWTPM_BLOB_PERMANENT, SWTPM_BLOB_VOLATILE,
						 SWTPM_BLOB_SAVESTATE };
	static const enum snapbox_part parts[] = { SNAPBOX_VTPM_PERMANENT,
		SNAPBOX_VTPM_VOLATILE, SNAPBOX_VTPM_SAVESTATE };
	int rc = 0;

	static_assert(ARRAY_SIZE(blobs) == ARRAY_SIZE(parts), "one part per blob");
	if (!j->l->vtpm_running)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(blobs) && !rc; i++) {
		uint8_t *b = NULL;
		size_t n = 0;

		rc = swtpm_state_get(&j->l->vtpm.swtpm, blobs[i], &b, &n);
		rc = rc ? rc : snapbox_put(j->box, parts[i], b, n);
		free(b);
	}
	if (rc)
		WHY(j, "the vTPM's state: %s", strerror(-rc));
	return rc;
}

static int snap_disks(struct snap_job *j)
{
	const struct vm_config *cfg = &j->l->cfg;
	struct snapdisks d = { .n = cfg->ndisks };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = 0;

	for (uint32_t i = 0; i < cfg->ndisks && !rc; i++) {
		int fd = open(cfg->disks[i].path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		snprintf(d.d[i].path, sizeof(d.d[i].path), "%s", cfg->disks[i].path);
		d.d[i].flags = (j->req->digest_disks ? SNAPDISK_F_DIGEST : 0) |
			       (cfg->disks[i].readonly ? SNAPDISK_F_READONLY : 0);
		rc = fd < 0 ? -errno : snapdisk_measure(fd, j->req->digest_disks,
							&d.d[i].size, d.d[i].digest);
		if (fd >= 0)
			close(fd);
		if (rc)
			WHY(j, "disk %s: %s", cfg->disks[i].path, strerror(-rc));
	}
	rc = rc ? rc : snapdisks_encode(&d, &buf, &len);
	rc = rc ? rc : snapbox_put(j->box, SNAPBOX_DISKS, buf, len);
	free(buf);
	if (rc && !j->why[0])
		WHY(j, "DISKS: %s", strerror(-rc));
	return rc;
}

/* DIR: new, 0700, labelled at the guest's pair (vTPM-state type). */
static int snap_dir(struct snap_job *j)
{
	const char *dir = j->req->dir;
	int rc;

	if (mkdir(dir, 0700)) {
		rc = -errno;
		WHY(j, "%s: %s", dir, rc == -EEXIST ? "exists already (a snapshot "
		    "goes to a new folder)" : strerror(-rc));
		return rc;
	}
	rc = launch_svirt_label_snapshot(j->l, dir);
	if (rc) {
		WHY(j, "%s: cannot label it at the guest's pair: %s", dir, strerror(-rc));
		rmdir(dir);
	}
	return rc;
}

/* Steps 4-8, the guest paused. */
static int snap_write(struct snap_job *j, const struct snapbox_key *k, uint8_t digest[32])
{
	int rc = snapbox_create(j->req->dir, k, &j->box);

	if (rc)
		return WHY(j, "%s: %s", j->req->dir, strerror(-rc)), rc;
	rc = snap_meta(j);
	rc = rc ? rc : snap_vmstate(j);
	rc = rc ? rc : snap_vtpm(j);
	rc = rc ? rc : snap_disks(j);
	if (rc) {
		snapbox_abort(j->box);
		j->box = NULL;
		return rc;
	}
	rc = snapbox_commit(j->box, digest);
	j->box = NULL;
	if (rc)
		WHY(j, "sealing %s: %s", j->req->dir, strerror(-rc));
	return rc;
}

int launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			struct snapshot_result *res, char *why, size_t why_len)
{
	struct snap_job j = { .l = ctl->l, .ctl = ctl, .req = req, .why = why,
			      .why_len = why_len };
	struct vmm_ctl_reply rep;
	struct snapbox_key k;
	bool was_paused = ctl->paused;
	long long t0 = launch_control_now_ms();
	int rc;

	why[0] = '\0';
	memset(res, 0, sizeof(*res));
	if (ctl->vmm_busy || ctl->stopping || ctl->vmm_fd < 0 || j.l->snap_fd < 0) {
		WHY(&j, ctl->stopping ? "the guest is stopping" : "another order is out");
		return -EBUSY;
	}
	rc = snapbox_key_load(NULL, true, &k);
	if (rc)
		return WHY(&j, "the host's snapshot key: %s", strerror(-rc)), rc;
	rc = snap_dir(&j);
	if (rc)
		goto out_key;
	if (!was_paused) {
		rc = launch_control_order_sync(ctl, VMM_CTL_PAUSE, SNAP_IO_MS, &rep);
		rc = rc ? rc : rep.result;
		if (rc) {
			WHY(&j, "the VMM could not pause: %s", strerror(-rc));
			goto out_dir;
		}
	}
	rc = snap_write(&j, &k, res->sha256);
	if (rc)
		goto out_resume;
	res->vm_bytes = j.vm_bytes;
	res->ms = launch_control_now_ms() - t0;
	if (req->then == SNAPSHOT_THEN_STOP) {
		ctl->actions |= CONTROL_ACT_STOP;    /* the loop's hard stop */
		res->stopped = true;
	} else if (req->then == SNAPSHOT_THEN_RESUME) {
		if (launch_control_order_sync(ctl, VMM_CTL_RESUME, SNAP_IO_MS, &rep) == 0 &&
		    rep.result == 0)
			res->resumed = true;
		else
			log_err("snapshot sealed, but the guest could not be resumed");
	}
	goto out_key;
out_resume:
	if (!was_paused && launch_control_order_sync(ctl, VMM_CTL_RESUME, SNAP_IO_MS, &rep))
		log_err("snapshot: the guest could not be resumed");
out_dir:
	rmdir(req->dir);
out_key:
	explicit_bzero(&k, sizeof(k));
	log_info("snapshot %s: %s", req->dir, rc ? why : "sealed");
	return rc;
}
