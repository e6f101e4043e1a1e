/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark restore DIR [--name NAME] [--force] [--key FILE] [launcher flags]`
 * (issue 17): a guest back from a sealed snapshot, as `bulwark run` starts
 * one (core/launch/launch_run.c), with these differences:
 *   1. before anything else: the host's key, snapbox_open (every chunk of
 *      DIR/snapshot.sealed authenticated), META and DISKS decoded
 *      (core/launch/snapmeta.c), the vTPM blobs read; the configuration is
 *      META's canonical one (config_from_canonical: nothing of it can be
 *      changed at restore, the VMM checks its digest against the stream)
 *   2. after launch_validate (launch_restore_check): the disks opened are
 *      the snapshot's (same paths, same sizes, same SHA-256 when it has
 *      one), else refused unless --force
 *   3. a fresh pair (svirt_vm_create, as any start); disks labelled at it
 *      by launch_inputs_label; the snapshot folder labelled at it too
 *   4. the vTPM: a start as usual, then the snapshot's blobs
 *      (swtpm_state_restore) and its log (launch_vtpm_restore)
 *   5. bulwark-vmm --restore, no kernel or initrd fd; the VMSTATE part is
 *      written to VMM_FD_SNAP (launch_restore_feed), the write side shut;
 *      the VMM validates it whole and comes up paused
 *   6. the restore event measured (measure_restore: the launcher's PCRs
 *      are the log's replay, PCR 7 extended, the log saved), then
 *      VMM_CTL_RESUME
 * Any failure: the VMM killed, everything unwound as for a failed start
 * (no label, no registry entry, no swtpm); the snapshot is only read.
 * Audit: VIRT_CONTROL op=restore (reason restored, or the failed step).
 *
 * The name: a guest's identity (its vTPM state and EK certificate, its AK
 * enrollment, its event log, its state lock) is kept under its name, and
 * the snapshot's TPM has that identity's keys.  A restore keeps it:
 * --name must be the snapshot's name (it says which guest the operator
 * means; a clone under another name would carry the same EK with no
 * certificate of its own, and is refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/launch/launch_control.h"
#include "core/launch/launcher.h"
#include "core/launch/snapbox.h"
#include "core/launch/snapmeta.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vmm_abi.h"

#define RESTORE_READY_MS 60000     /* the VMM reads and checks the whole stream */

struct launch_restore {
	const char *dir, *name, *key_path;
	const char *svirt, *seccomp;     /* host settings, not in the configuration */
	bool force;
	struct snapbox *box;
	uint8_t digest[32];
	uint8_t *meta_buf, *disks_buf;
	size_t meta_len, disks_len;
	struct snapmeta meta;
	struct snapdisks disks;
	uint8_t *blob[3];
	size_t blob_len[3];
};

struct part_buf {
	uint8_t *p;
	size_t len, max;
};

static int part_sink(void *ctx, const void *buf, size_t n)
{
	struct part_buf *b = ctx;

	if (n > b->max - b->len)
		return -EFBIG;
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	return 0;
}

/* A whole part into memory, at most MAX bytes. */
static int restore_part(struct snapbox *box, enum snapbox_part p, size_t max, uint8_t **out,
			size_t *len)
{
	uint64_t size = snapbox_part_size(box, p);
	struct part_buf b = { .max = (size_t)size };
	int rc;

	*out = NULL;
	*len = 0;
	if (size > max)
		return -EFBIG;
	b.p = malloc(size ? size : 1);
	if (!b.p)
		return -ENOMEM;
	rc = snapbox_read(box, p, part_sink, &b);
	if (rc || b.len != size) {
		free(b.p);
		return rc ? rc : -EBADMSG;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

static void restore_free(struct launch_restore *r)
{
	snapbox_close(r->box);
	r->box = NULL;
	free(r->meta_buf);
	free(r->disks_buf);
	for (int i = 0; i < 3; i++)
		free(r->blob[i]);
}

/* Step 1: the snapshot opened and authenticated whole, its parts decoded,
 * the configuration taken from META. */
static int restore_open(struct launch_restore *r, struct vm_config *cfg)
{
	static const enum snapbox_part blobs[] = { SNAPBOX_VTPM_PERMANENT, SNAPBOX_VTPM_VOLATILE,
						   SNAPBOX_VTPM_SAVESTATE };
	struct snapbox_key k;
	int rc = snapbox_key_load(r->key_path, false, &k);

	if (rc) {
		log_err("restore %s: the host's snapshot key: %s", r->dir, strerror(-rc));
		return rc;
	}
	rc = snapbox_open(r->dir, &k, &r->box, r->digest);
	explicit_bzero(&k, sizeof(k));
	if (rc) {
		log_err("restore %s: the snapshot is refused: %s", r->dir,
			rc == -EKEYREJECTED ? "sealed under another key (see above)" :
			rc == -EBADMSG ? "it is not whole or was changed (see above)" :
			strerror(-rc));
		return rc;
	}
	rc = restore_part(r->box, SNAPBOX_META, SNAPMETA_MAX, &r->meta_buf, &r->meta_len);
	rc = rc ? rc : snapmeta_decode(r->meta_buf, r->meta_len, &r->meta);
	rc = rc ? rc : restore_part(r->box, SNAPBOX_DISKS, SNAPDISKS_MAX, &r->disks_buf,
				    &r->disks_len);
	rc = rc ? rc : snapdisks_decode(r->disks_buf, r->disks_len, &r->disks);
	for (size_t i = 0; i < ARRAY_SIZE(blobs) && !rc; i++)
		rc = restore_part(r->box, blobs[i], SWTPM_BLOB_MAX, &r->blob[i], &r->blob_len[i]);
	rc = rc ? rc : config_from_canonical(cfg, (const char *)r->meta.config,
					     r->meta.config_len);
	if (rc) {
		log_err("restore %s: the snapshot's contents: %s", r->dir, strerror(-rc));
		return rc;
	}
	if (strcmp(cfg->name, r->meta.name) || cfg->cpus != r->meta.nvcpus ||
	    cfg->memory_mib != r->meta.memory_mib ||
	    !!cfg->vtpm != !!(r->meta.flags & SNAPMETA_F_VTPM)) {
		log_err("restore %s: META does not agree with its configuration", r->dir);
		return -EBADMSG;
	}
	if (r->name && strcmp(r->name, cfg->name)) {
		log_err("restore %s: the snapshot is of guest %s, not %s: a guest is "
			"restored under its own name (its vTPM identity is that name's)",
			r->dir, cfg->name, r->name);
		return -EINVAL;
	}
	return 0;
}

/* Step 2, after launch_validate: the disks it opened against DISKS. */
int launch_restore_check(struct launch *l)
{
	struct launch_restore *r = l->restore;
	char why[PATH_MAX + 128];
	int bad = 0, rc;

	if (!r)
		return 0;
	if (r->disks.n != l->cfg.ndisks) {
		log_err("restore: the snapshot has %u disks, its configuration %u", r->disks.n,
			l->cfg.ndisks);
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < l->cfg.ndisks; i++) {
		if (strcmp(r->disks.d[i].path, l->cfg.disks[i].path)) {
			log_err("restore: disk %u is %s in DISKS, %s in the configuration", i,
				r->disks.d[i].path, l->cfg.disks[i].path);
			return -EBADMSG;
		}
		rc = snapdisk_check(&r->disks.d[i], l->disk_fd[i], why, sizeof(why));
		if (rc == -ESTALE && r->force) {
			log_warn("restore: %s (--force: restored all the same)", why);
			continue;
		}
		if (rc) {
			log_err("restore: the disk changed since the snapshot: %s%s", why,
				rc == -ESTALE ? " (--force restores all the same)" : "");
			bad = rc;
		}
	}
	return bad;
}

/* Step 3's folder and step 4: the pair exists, the vTPM runs, the VMM
 * does not yet exist. */
int launch_restore_setup(struct launch *l)
{
	struct launch_restore *r = l->restore;
	struct swtpm_blobs b = { 0 };
	int rc;

	if (!r)
		return 0;
	rc = launch_svirt_label_snapshot(l, r->dir);
	if (rc)
		return rc;
	if (!l->cfg.vtpm)
		return 0;
	for (int i = 0; i < 3; i++) {
		b.data[i] = r->blob[i];
		b.len[i] = r->blob_len[i];
	}
	return launch_vtpm_restore(l, &b, r->meta.log, r->meta.log_len);
}

static int feed_sink(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;

	for (size_t off = 0; off < n;) {
		ssize_t w = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EPIPE;
		off += (size_t)w;
	}
	return 0;
}

/* Steps 5 and 6: the VMM runs (exec'd, at its label, jailed). */
int launch_restore_feed(struct launch *l)
{
	struct launch_restore *r = l->restore;
	struct vmm_ctl_reply rep;
	long long t0 = launch_control_now_ms();
	int rc, fd = l->snap_fd;

	struct timeval tv = { RESTORE_READY_MS / 1000, 0 };

	if (!r)
		return 0;
	/* A VMM that stops reading fails the restore instead of stalling it. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	rc = snapbox_read(r->box, SNAPBOX_VMSTATE, feed_sink, &fd);
	shutdown(l->snap_fd, SHUT_WR);
	if (rc) {
		log_err("restore: the VMM's state could not be handed over: %s", strerror(-rc));
		return rc;
	}
	/* Its first answer comes once the stream is checked and the VM built. */
	rc = launch_control_order_sync(l->control, VMM_CTL_STATS, RESTORE_READY_MS, &rep);
	if (rc || !rep.paused) {
		log_err("restore: the VMM did not come up paused: %s",
			rc ? strerror(-rc) : "it runs");
		return rc ? rc : -EPROTO;
	}
	rc = launch_vtpm_measure_restore(l, r->digest);
	if (rc)
		return rc;
	rc = launch_control_order_sync(l->control, VMM_CTL_RESUME, CONTROL_VMM_MS, &rep);
	rc = rc ? rc : rep.result;
	if (rc) {
		log_err("restore: the guest could not be resumed: %s", strerror(-rc));
		return rc;
	}
	log_info("restore: guest %s resumed from %s in %lld ms (state handed over, "
		 "restore event measured)", l->cfg.name, r->dir, launch_control_now_ms() - t0);
	return 0;
}

void launch_restore_audit(const struct launch *l, const char *reason, bool ok)
{
	struct audit_guest g = { .name = l->cfg.name, .pid = l->vmm_pid };

	audit_control(&g, "restore", reason, ok);
}

static void restore_usage(void)
{
	fprintf(stderr, "usage: bulwark restore DIR [--name NAME] [--force] [--key FILE] "
		"[--log-level LEVEL] [--svirt MODE] [--seccomp MODE] [--state-dir DIR] [--vtpm-state-dir DIR] [--key-dir DIR] "
		"[--ek-ca-dir DIR] [--jail-root DIR] [--uid N] [--gid N] "
		"[--stop-timeout S] [--control-group G]\n");
}

/* One flag: --name, --key, --log-level, --svirt, --seccomp, or a launcher
 * flag of `bulwark run` (launch_run_opt); "--flag=value" or "--flag value". */
static int restore_flag(struct launch *l, struct launch_restore *r, const char *f,
			const char *v)
{
	if (!strcmp(f, "name"))
		r->name = v;
	else if (!strcmp(f, "key"))
		r->key_path = v;
	else if (!strcmp(f, "svirt"))
		r->svirt = v;
	else if (!strcmp(f, "seccomp"))
		r->seccomp = v;
	else if (!strcmp(f, "log-level"))
		return log_parse_level(v, &l->level) ? -EINVAL : 0;
	else
		return launch_run_opt(&l->opt, f, v, 0);
	return 0;
}

struct restore_argctx {
	struct launch *l;
	struct launch_restore *r;
};

/* launch_args_walk's callback: DIR, --force, or a flag with its value. */
static int restore_arg(void *ctx, const char *flag, const char *val)
{
	struct restore_argctx *a = ctx;

	if (!flag) {
		if (a->r->dir)
			return -EINVAL;
		a->r->dir = val;
		return 0;
	}
	if (!strcmp(flag, "force")) {
		a->r->force = true;
		return val ? -EINVAL : 0;
	}
	return val ? restore_flag(a->l, a->r, flag, val) : -EAGAIN;
}

static int restore_args(int argc, char **argv, struct launch *l, struct launch_restore *r)
{
	struct restore_argctx a = { l, r };
	int rc = launch_args_walk(argc, argv, restore_arg, &a);

	return rc ? rc : r->dir ? 0 : -EINVAL;
}

/* --svirt and --seccomp: the host's settings for this start (not part of
 * the guest's configuration; the restore event measures them). */
static int restore_modes(const struct launch_restore *r, struct vm_config *cfg)
{
	int rc = 0;

	if (r->svirt)
		rc = config_set(cfg, "svirt", r->svirt, "--svirt");
	if (!rc && r->seccomp)
		rc = config_set(cfg, "seccomp", r->seccomp, "--seccomp");
	return rc;
}

int cmd_restore(int argc, char **argv)
{
	static struct launch l;
	static struct launch_restore r;
	int rc, status;

	launch_init(&l);
	memset(&r, 0, sizeof(r));
	rc = restore_args(argc, argv, &l, &r);
	if (rc) {
		restore_usage();
		return 2;
	}
	log_set_level(l.level);
	rc = restore_open(&r, &l.cfg);
	if (!rc && restore_modes(&r, &l.cfg)) {
		restore_usage();
		rc = -EINVAL;
	}
	if (rc) {
		struct audit_guest g = { .name = r.meta.name[0] ? r.meta.name : "?" };

		audit_control(&g, "restore", "snapshot-refused", false);
		restore_free(&r);
		fprintf(stderr, "bulwark restore %s: refused, nothing started (see above)\n",
			r.dir);
		return VMM_EXIT_SETUP;
	}
	log_info("restore %s: guest %s, %u vCPUs, %llu MiB, snapshot sha256 %02x%02x%02x%02x...",
		 r.dir, l.cfg.name, l.cfg.cpus, (unsigned long long)l.cfg.memory_mib,
		 r.digest[0], r.digest[1], r.digest[2], r.digest[3]);
	l.restore = &r;
	status = launch_run_prepared(&l);
	restore_free(&r);
	return status;
}
