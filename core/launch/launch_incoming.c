/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark run --incoming ADDR [--migrate-cert F] [--migrate-key F]
 *  [--migrate-ca F] [--migrate-trusted F] [--svirt MODE] [--seccomp MODE]
 *  [launcher flags]`: the target of a live migration (issue 18).  A start
 * as `bulwark run` does it (core/launch/launch_run.c), with the restore's
 * differences (core/launch/launch_restore.c) and these:
 *   1. before anything else: migchan_listen, then migchan_accept until one
 *      source passes both checks (CA chain and trusted-hosts; a refused
 *      one is logged and audited, and the next is awaited); HELLO decoded;
 *      the configuration is HELLO's canonical one, validated as any
 *      (config_from_canonical), its name and disks agreeing with HELLO's;
 *      every disk on shared storage (MIG_DISK_F_SHARED: the same path);
 *      with a vTPM, HELLO's EK certificate and chain chain to this host's
 *      EK anchors (--ek-ca-dir), or the guest is refused
 *   2. after launch_validate (launch_incoming_check): each disk's size is
 *      HELLO's
 *   3. a fresh pair (svirt_vm_create); the disks labelled at the hand-over
 *      level, s0 (svirt_vm_label_handover), so that the source's VMM keeps
 *      its disks while this one is handed them; HELLO's event log checked
 *      to be the launcher's (measure_log_load)
 *   4. bulwark-vmm --incoming (no kernel or initrd fd); with a vTPM, the
 *      source's identity taken (UUID, EK certificate and chain, checked at
 *      step 1: attestd_adopt; no enrollment of the TPM made at this start:
 *      it was never the guest's), before READY so that it costs the
 *      paused guest nothing and a failure refuses the guest at the
 *      source; READY with the new label; each STREAM framed (snap_frame_check, migration mode: the
 *      peer is not trusted to end it), hashed and written to VMM_FD_SNAP;
 *      DONE: the digest and length must be what came
 *   5. (with a vTPM, as soon as VTPM came, while this host's VMM still
 *      checks the state and builds the VM: inc_vtpm_early) the disks
 *      claimed at this pair (svirt_vm_claim: the source is paused for
 *      good); the vTPM blobs and HELLO's log into the freshly started
 *      swtpm (launch_vtpm_restore); then, after DONE:
 *      the VMM validated it all and is paused; the disks claimed (no
 *      vTPM); the migration event measured (the source's CN and
 *      certificate digest as migchan authenticated them, the stream's
 *      digest, the new security state); VMM_CTL_RESUME (unless the guest
 *      was paused on the source); RUNNING.  Each step's time is logged
 *      (the profile)
 *   6. an ordinary launcher from then on; the migrated TPM is enrolled in
 *      a thread (launch_attestd_open_migrated), the attestation socket
 *      answering "not yet enrolled" meanwhile and, if that enrollment
 *      fails, "NOT attestable" for good (the guest runs on)
 * Any failure before RUNNING: REFUSE (before READY) or ABORT with the
 * reason, the VMM killed, everything unwound as for a failed start (labels
 * back, pair released, swtpm stopped).  Audit: VIRT_CONTROL op=migrate-in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/format/bundle.h"
#include "attest/vtpm/measure.h"
#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/launch/launch_control.h"
#include "core/launch/launch_mighost.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/launch/migchan.h"
#include "core/launch/migframe.h"
#include "core/launch/migwire.h"
#include "core/log.h"
#include "core/path.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "core/vmm_abi.h"

#define INCOMING_READY_MS 60000    /* the VMM checks the state and builds the VM */
#define INCOMING_RECV_MAX (3 * (MIGWIRE_BLOB_MAX + 4) + 64)   /* VTPM, the largest */
#define INCOMING_HELLO_MAX (MIGWIRE_CONFIG_MAX + MIGWIRE_SECSTATE_MAX + MIGWIRE_LOG_MAX + \
			    MIGWIRE_HOSTID_MAX + CONFIG_MAX_DISKS * (PATH_MAX + 32) + \
			    (MIGWIRE_CHAIN_MAX + 1) * (MIGWIRE_CERT_MAX + 4) + 256)

struct launch_incoming {
	const char *addr, *svirt, *seccomp;
	struct migchan_conf conf;
	struct migchan *ch;
	struct migwire_seq seq;
	uint8_t *hello_buf, *buf, *vtpm_buf;
	size_t hello_len, vtpm_len;
	struct mig_hello hello;
	struct mig_vtpm vtpm;
	struct bundle_chain ek;       /* HELLO's EK certificate and chain (pointers) */
	bool early, ready_sent, over, audited;   /* early: inc_vtpm_early done */
	EVP_MD_CTX *md;
	uint64_t bytes;
	struct migframe frame;        /* the incoming stream, framed */
	uint8_t stream_sha256[32];    /* DONE's, equal to what came */
	long long done_ms, step_ms;   /* DONE came; the last step of step 5 ended */
	bool estimated;               /* handover_ms timed (at the first PROGRESS) */
	uint64_t handover_ms;         /* this side's estimate, in each ACK */
	char why[512];
};

#define WHY(in, ...) snprintf((in)->why, sizeof((in)->why), __VA_ARGS__)

/* One message to the source, its order checked. */
static int inc_send(struct launch_incoming *in, uint32_t type, const void *p, size_t n)
{
	char why[160];
	int rc = migwire_seq_next(&in->seq, false, type, why, sizeof(why));

	if (rc)
		return rc;
	rc = migchan_send(in->ch, type, p, n);
	if (rc)
		log_err("incoming: %s not sent: %s", migwire_name(type), migchan_why(in->ch));
	return rc;
}

static int inc_send_text(struct launch_incoming *in, uint32_t type, const char *s)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = migwire_text_encode(type, s, &buf, &len);

	rc = rc ? rc : inc_send(in, type, buf, len);
	free(buf);
	return rc;
}

/* One message from the source, its order checked; ABORT ends it. */
static int inc_recv(struct launch_incoming *in, uint32_t *type, uint8_t *buf, size_t max,
		    size_t *len)
{
	char why[160], text[MIGWIRE_REASON_MAX + 1];
	int rc = migchan_recv(in->ch, type, buf, max, len);

	if (rc) {
		WHY(in, "the source %s: %s", rc == -ETIMEDOUT ? "went silent" : "went away",
		    migchan_why(in->ch));
		return rc;
	}
	rc = migwire_seq_next(&in->seq, true, *type, why, sizeof(why));
	if (rc) {
		WHY(in, "protocol: %s", why);
		return rc;
	}
	if (*type != MIG_ABORT)
		return 0;
	in->over = true;
	if (migwire_text_decode(MIG_ABORT, buf, *len, text, sizeof(text), why, sizeof(why)))
		snprintf(text, sizeof(text), "(its reason does not decode)");
	WHY(in, "the source aborted: %.400s", text);
	return -ECONNABORTED;
}

static int inc_audit_peer(const char *name, const char *reason, bool ok)
{
	struct audit_guest g = { .name = name && name[0] ? name : "?" };

	audit_control(&g, "migrate-in", reason, ok);
	return 0;
}

/* Step 1: one trusted source, its HELLO. */
static int inc_accept(struct launch_incoming *in)
{
	char why[512];
	uint32_t type;
	int lfd = -1, rc = migchan_listen(in->addr, &lfd, why, sizeof(why));

	if (rc) {
		log_err("incoming: %s: %s", in->addr, why);
		return rc;
	}
	log_info("incoming: listening on %s", in->addr);
	for (;;) {
		rc = migchan_accept(lfd, &in->conf, &in->ch, why, sizeof(why));
		if (!rc)
			break;
		if (rc == -ETIMEDOUT)
			continue;
		log_err("incoming: a source was refused: %s", why);
		inc_audit_peer(NULL, rc == -EACCES ? "untrusted-host" : "channel", false);
		if (rc == -EINVAL)       /* our own configuration: no use waiting */
			break;
	}
	close(lfd);
	if (rc)
		return rc;
	log_info("incoming: source %s", migchan_peer(in->ch));
	rc = inc_recv(in, &type, in->hello_buf, INCOMING_HELLO_MAX, &in->hello_len);
	if (!rc && migwire_hello_decode(in->hello_buf, in->hello_len, &in->hello, why,
					sizeof(why))) {
		WHY(in, "HELLO: %.400s", why);
		rc = -EBADMSG;
	}
	return rc;
}

/* Step 1's checks: HELLO against the configuration it carries. */
static int inc_hello_check(struct launch_incoming *in, struct vm_config *cfg)
{
	const struct mig_hello *h = &in->hello;
	int rc;

	if (h->version != MIGWIRE_VERSION) {
		WHY(in, "protocol version %u, this host speaks %u", h->version, MIGWIRE_VERSION);
		return -EPROTO;
	}
	rc = config_from_canonical(cfg, (const char *)h->config, h->config_len);
	if (rc) {
		WHY(in, "the guest's configuration is refused here: %s", strerror(-rc));
		return rc;
	}
	if (strcmp(cfg->name, h->name) || h->ndisks != cfg->ndisks ||
	    !!(h->flags & MIG_HELLO_F_VTPM) != !!cfg->vtpm) {
		WHY(in, "HELLO does not agree with its configuration (name, disks or vTPM)");
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < h->ndisks; i++) {
		if (strcmp(h->disks[i].path, cfg->disks[i].path) ||
		    !(h->disks[i].flags & MIG_DISK_F_READONLY) != !cfg->disks[i].readonly) {
			WHY(in, "disk %u: HELLO and the configuration differ", i);
			return -EBADMSG;
		}
		if (!(h->disks[i].flags & MIG_DISK_F_SHARED)) {
			WHY(in, "disk %s is not on shared storage: only shared disks migrate",
			    h->disks[i].path);
			return -EOPNOTSUPP;
		}
	}
	rc = in->svirt ? config_set(cfg, "svirt", in->svirt, "--svirt") : 0;
	rc = rc ? rc : in->seccomp ? config_set(cfg, "seccomp", in->seccomp, "--seccomp") : 0;
	if (rc)
		WHY(in, "--svirt or --seccomp");
	return rc;
}

/* Step 1's identity check: the source's EK certificate chains to this
 * host's EK anchors, or nothing starts (the source keeps its guest). */
static int inc_ek_check(struct launch_incoming *in, const struct launch *l)
{
	const struct mig_hello *h = &in->hello;
	char why[384];
	int rc;

	if (!(h->flags & MIG_HELLO_F_VTPM))
		return 0;
	in->ek = (struct bundle_chain){ .cert = { (uint8_t *)h->ek_cert, h->ek_cert_len },
					.nchain = h->nchain };
	for (uint32_t i = 0; i < h->nchain; i++)
		in->ek.chain[i] = (struct bundle_blob){ (uint8_t *)h->ek_chain[i],
							h->ek_chain_len[i] };
	rc = launch_attestd_ek_check(l, &in->ek, why, sizeof(why));
	if (rc)
		WHY(in, "the guest's vTPM identity is refused here: %.400s", why);
	return rc;
}

/* Step 2, after launch_validate: each disk is the size the source has. */
int launch_incoming_check(struct launch *l)
{
	struct launch_incoming *in = l->incoming;

	if (!in)
		return 0;
	for (uint32_t i = 0; i < l->cfg.ndisks; i++) {
		uint64_t size;

		if (path_disk_size(l->disk_fd[i], &size) || size != in->hello.disks[i].size) {
			WHY(in, "disk %s here is not the source's (%llu bytes there)",
			    l->cfg.disks[i].path, (unsigned long long)in->hello.disks[i].size);
			return -ESTALE;
		}
	}
	return 0;
}

/* Step 3's log check: the source's event log is the launcher's. */
int launch_incoming_setup(struct launch *l)
{
	struct launch_incoming *in = l->incoming;
	struct evlog_writer w;
	int rc;

	if (!in || !l->cfg.vtpm)
		return 0;
	rc = measure_log_load(&w, in->hello.log, in->hello.log_len);
	if (rc) {
		WHY(in, "the guest's event log is not a launcher's: %s", strerror(-rc));
		return rc;
	}
	evlog_writer_free(&w);
	return 0;
}

static int inc_vtpm_early(struct launch_incoming *in, struct launch *l);

/* STREAM: framed, hashed, to the VMM. */
static int inc_stream(struct launch_incoming *in, struct launch *l, const uint8_t *p,
		      size_t n)
{
	char why[256];
	int rc = migframe_feed(&in->frame, p, n, why, sizeof(why));

	if (rc)
		return WHY(in, "%s", why), rc;
	EVP_DigestUpdate(in->md, p, n);
	in->bytes += n;
	for (size_t off = 0; off < n;) {
		ssize_t w = send(l->snap_fd, p + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			WHY(in, "this host's VMM took no more of the stream (%s): it refused "
			    "a record (its log names it)", w ? strerror(errno) : "closed");
			return -EPIPE;
		}
		off += (size_t)w;
	}
	return 0;
}

/* DONE: the stream whole, its digest and length what came. */
static int inc_done(struct launch_incoming *in, const uint8_t *p, size_t n)
{
	struct mig_done d;
	uint8_t mine[32];
	unsigned int dl = 32;
	char why[160];

	if (migwire_done_decode(p, n, &d, why, sizeof(why)))
		return WHY(in, "DONE: %s", why), -EBADMSG;
	EVP_DigestFinal_ex(in->md, mine, &dl);
	if (!migframe_whole(&in->frame) || d.bytes != in->bytes || memcmp(d.sha256, mine, 32))
		return WHY(in, "the stream is not whole (%llu bytes came, %llu sent%s)",
			   (unsigned long long)in->bytes, (unsigned long long)d.bytes,
			   migframe_whole(&in->frame) ? ", digests differ" : ", no END"), -EBADMSG;
	memcpy(in->stream_sha256, mine, 32);
	return 0;
}

/* Step 4's identity: the source's UUID, EK certificate and chain stored
 * here (the TPM made at this start was never enrolled).  The migrated
 * TPM's enrollment (its AK, derived from the source's seeds under the
 * source's UUID, certified by this host's attestation CA: the EK
 * certificate must be the migrated TPM's EK) waits for RUNNING
 * (inc_attest): it is two RSA-2048 derivations, about 1 s in the lab,
 * that the paused guest need not wait for. */
static int inc_adopt(struct launch_incoming *in, struct launch *l)
{
	int rc = launch_attestd_adopt(l, in->hello.uuid, &in->ek);

	if (rc)
		return WHY(in, "the guest's identity cannot be stored here: %s",
			   strerror(-rc)), rc;
	return 0;
}

/* Step 4's answer to PROGRESS: ACK, with the stream bytes this host's VMM
 * took and this side's estimate of its part of the hand-over, timed once:
 * with a vTPM, how long this host's swtpm (fresh, never the guest's) takes
 * to give its three blobs (launch_migrate_target_ms). */
static int inc_ack(struct launch_incoming *in, struct launch *l, uint32_t round)
{
	struct mig_ack a = { .round = round, .bytes = in->bytes };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!in->estimated) {
		long long t = launch_control_now_ms();

		for (int i = SWTPM_BLOB_PERMANENT; l->vtpm_running && i <= SWTPM_BLOB_SAVESTATE;
		     i++) {
			uint8_t *b = NULL;
			size_t n = 0;

			if (!swtpm_state_get(&l->vtpm.swtpm, (enum swtpm_blob)i, &b, &n))
				explicit_bzero(b, n);
			free(b);
		}
		in->handover_ms = launch_migrate_target_ms(l->vtpm_running, (uint64_t)
							   (launch_control_now_ms() - t));
		in->estimated = true;
		log_info("incoming: this side's part of the hand-over estimated at %llu ms",
			 (unsigned long long)in->handover_ms);
	}
	a.handover_ms = in->handover_ms;
	rc = migwire_ack_encode(&a, &buf, &len);
	rc = rc ? rc : inc_send(in, MIG_ACK, buf, len);
	free(buf);
	return rc ? (WHY(in, "ACK not sent: %s", strerror(-rc)), rc) : 0;
}

/* Step 4: READY, then the messages until DONE. */
static int inc_receive(struct launch_incoming *in, struct launch *l)
{
	uint32_t type = 0;
	size_t len;
	char why[160];
	int rc = l->vtpm_running ? inc_adopt(in, l) : 0;

	if (rc)
		return rc;
	rc = inc_send_text(in, MIG_READY, l->svm ? l->vmm_label : "");
	if (rc)
		return WHY(in, "READY: %s", strerror(-rc)), rc;
	in->ready_sent = true;
	while (!rc && type != MIG_DONE) {
		rc = inc_recv(in, &type, in->buf, INCOMING_RECV_MAX, &len);
		if (rc)
			break;
		if (type == MIG_STREAM) {
			rc = inc_stream(in, l, in->buf, len);
		} else if (type == MIG_PROGRESS) {
			struct mig_progress g;

			rc = migwire_progress_decode(in->buf, len, &g, why, sizeof(why));
			if (rc)
				WHY(in, "PROGRESS: %s", why);
			else
				log_info("incoming: round %u, %llu bytes, expected downtime %llu ms",
					 g.round, (unsigned long long)g.bytes,
					 (unsigned long long)g.downtime_ms);
			rc = rc ? rc : inc_ack(in, l, g.round);
		} else if (type == MIG_VTPM) {
			/* the blobs stay in their own copy of the message */
			in->vtpm_buf = malloc(len ? len : 1);
			if (!in->vtpm_buf)
				return WHY(in, "no memory"), -ENOMEM;
			memcpy(in->vtpm_buf, in->buf, len);
			in->vtpm_len = len;
			rc = migwire_vtpm_decode(in->vtpm_buf, len, &in->vtpm, why, sizeof(why));
			if (rc)
				WHY(in, "VTPM: %s", why);
			else if (l->vtpm_running)
				rc = inc_vtpm_early(in, l);
		} else if (type == MIG_DONE) {
			rc = inc_done(in, in->buf, len);
		}
	}
	shutdown(l->snap_fd, SHUT_WR);
	return rc;
}

/* "cn=NAME sha256=HEX": NAME. */
static void inc_peer_cn(const char *peer, char *cn, size_t n)
{
	const char *p = strncmp(peer, "cn=", 3) ? NULL : peer + 3;
	size_t k = p ? strcspn(p, " ") : 0;

	snprintf(cn, n, "%.*s", (int)(k < n ? k : n - 1), p ? p : "");
}

/* One step of the paused window, timed for the profile (README). */
static void inc_step(struct launch_incoming *in, const char *what)
{
	long long now = launch_control_now_ms();

	if (in->done_ms)
		log_info("incoming: step 5: %s, %lld ms (%lld ms since DONE)", what,
			 now - in->step_ms, now - in->done_ms);
	else
		log_info("incoming: step 5: %s, %lld ms (VTPM came; before DONE)", what,
			 now - in->step_ms);
	in->step_ms = now;
}

/* Step 5's disks: at this pair (the source is paused for good: VTPM
 * and DONE come only after its FINAL). */
static int inc_claim(struct launch_incoming *in, struct launch *l)
{
	int rc = 0;

	for (uint32_t i = 0; l->svm && i < l->cfg.ndisks; i++) {
		int fd = open(l->cfg.disks[i].path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		rc = fd < 0 ? -errno : svirt_vm_claim(l->svm, fd);
		if (fd >= 0)
			close(fd);
		if (rc)
			return WHY(in, "disk %s cannot be labelled for this guest: %s",
				   l->cfg.disks[i].path, strerror(-rc)), rc;
	}
	inc_step(in, "disks claimed at this pair");
	return 0;
}

/* Step 5's vTPM, as soon as VTPM came (while this host's VMM still checks
 * the state and builds the VM): the disks claimed, the blobs and HELLO's
 * log into swtpm.  The event waits for DONE (it names the stream's
 * digest). */
static int inc_vtpm_early(struct launch_incoming *in, struct launch *l)
{
	struct swtpm_blobs b = { 0 };
	int rc;

	in->step_ms = launch_control_now_ms();
	rc = inc_claim(in, l);
	if (rc)
		return rc;
	for (int i = 0; i < 3; i++) {
		b.data[i] = in->vtpm.blob[i];
		b.len[i] = in->vtpm.len[i];
	}
	rc = launch_vtpm_restore(l, &b, in->hello.log, in->hello.log_len);
	if (rc)
		return WHY(in, "the vTPM's state is refused here: %s", strerror(-rc)), rc;
	inc_step(in, "vTPM state restored into swtpm");
	in->early = true;
	return 0;
}

/* Step 5 after DONE: the VMM paused with the VM built, the event, resumed. */
static int inc_commit(struct launch_incoming *in, struct launch *l)
{
	struct vmm_ctl_reply rep;
	struct measure_migration mg;
	char cn[MEASURE_MIGRATE_HOST_MAX + 1];
	int rc = launch_control_order_sync(l->control, VMM_CTL_STATS, INCOMING_READY_MS, &rep);

	if (rc || !rep.paused)
		return WHY(in, "this host's VMM did not come up paused: %s",
			   rc ? strerror(-rc) : "it runs"), rc ? rc : -EPROTO;
	inc_step(in, "the VMM validated the state and built the VM");
	if (l->vtpm_running && !in->early)
		return WHY(in, "no vTPM state came"), -EPROTO;
	rc = in->early ? 0 : inc_claim(in, l);
	if (rc)
		return rc;
	if (l->vtpm_running) {
		inc_peer_cn(migchan_peer(in->ch), cn, sizeof(cn));
		mg = (struct measure_migration){ .source_host = cn,
			.source_cert_sha256 = migchan_peer_sha256(in->ch),
			.stream_sha256 = in->stream_sha256 };
		rc = launch_vtpm_measure_migrate(l, &mg);
		if (rc)
			return WHY(in, "the migration event is not measured: %s", strerror(-rc)),
			       rc;
		inc_step(in, "migration event measured");
	}
	if (!(in->hello.flags & MIG_HELLO_F_PAUSED)) {
		rc = launch_control_order_sync(l->control, VMM_CTL_RESUME, CONTROL_VMM_MS, &rep);
		rc = rc ? rc : rep.result;
		if (rc)
			return WHY(in, "the guest could not be resumed: %s", strerror(-rc)), rc;
		inc_step(in, "resumed");
	}
	return 0;
}

/* Steps 4 and 5: the VMM runs (exec'd, at its label, jailed). */
int launch_incoming_feed(struct launch *l)
{
	struct launch_incoming *in = l->incoming;
	struct timeval tv = { INCOMING_READY_MS / 1000, 0 };
	long long t0 = launch_control_now_ms();
	struct audit_guest g = { .name = l->cfg.name, .pid = l->vmm_pid };
	int rc;

	if (!in)
		return 0;
	/* A VMM that stops reading fails the migration instead of stalling it. */
	if (setsockopt(l->snap_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	rc = inc_receive(in, l);
	in->done_ms = in->step_ms = launch_control_now_ms();
	rc = rc ? rc : inc_commit(in, l);
	if (rc) {
		log_err("incoming: %s", in->why);
		return rc;
	}
	rc = inc_send(in, MIG_RUNNING, NULL, 0);
	in->over = true;
	if (rc)
		log_warn("incoming: RUNNING not sent (the source keeps its copy paused)");
	inc_step(in, "RUNNING sent");
	log_info("incoming: guest %s runs here, from %s: %llu stream bytes, %lld ms after "
		 "READY", l->cfg.name, migchan_peer(in->ch), (unsigned long long)in->bytes,
		 launch_control_now_ms() - t0);
	audit_control(&g, "migrate-in", "migrated", true);
	launch_moved_clear(l);
	/* After RUNNING: the guest stays here whatever comes of this; a
	 * failed enrollment leaves it running but unattestable (SECURITY.md).
	 * The enrollment runs in a thread of its own, and so does the receiver
	 * of the source's host evidence (issue 18 item 4), which takes the
	 * channel: the launcher's loop starts at once. */
	if (launch_attestd_open_migrated(l))
		log_err("incoming: guest %s runs here without an attestation socket: NOT "
			"attestable", l->cfg.name);
	if (!rc)
		launch_mighost_receive(l, in->ch, &in->seq);
	else
		migchan_close(in->ch);
	in->ch = NULL;
	return 0;
}

/* Any failure before RUNNING: the source told; audited. */
void launch_incoming_end(struct launch *l, const char *step, bool ok)
{
	struct launch_incoming *in = l->incoming;

	if (!in || ok || in->audited)
		return;
	in->audited = true;
	if (!in->why[0])
		WHY(in, "this host could not start the guest (%s; its log says why)", step);
	if (in->ch && !in->over)
		inc_send_text(in, in->ready_sent ? MIG_ABORT : MIG_REFUSE, in->why);
	in->over = true;
	inc_audit_peer(l->cfg.name, step, false);
}

static void inc_free(struct launch_incoming *in)
{
	migchan_close(in->ch);
	in->ch = NULL;
	free(in->hello_buf);
	free(in->buf);
	if (in->vtpm_buf)
		explicit_bzero(in->vtpm_buf, in->vtpm_len);
	free(in->vtpm_buf);
	EVP_MD_CTX_free(in->md);
}

static void incoming_usage(void)
{
	fprintf(stderr, "usage: bulwark run --incoming unix:/PATH|tcp:HOST:PORT "
		"[--migrate-cert F] [--migrate-key F] [--migrate-ca F] [--migrate-trusted F] "
		"[--log-level LEVEL] [--svirt MODE] [--seccomp MODE] [--state-dir DIR] "
		"[--vtpm-state-dir DIR] [--key-dir DIR] [--ek-ca-dir DIR] [--jail-root DIR] "
		"[--uid N] [--gid N] [--stop-timeout S] [--control-group G] "
		"[--host-tpm DEV --host-dir DIR]\n"
		"  (the guest's configuration comes from the source)\n");
}

static int incoming_flag(struct launch *l, struct launch_incoming *in, const char *f,
			 const char *v)
{
	if (!strcmp(f, "incoming"))
		in->addr = v;
	else if (!strcmp(f, "migrate-cert"))
		in->conf.cert = v;
	else if (!strcmp(f, "migrate-key"))
		in->conf.key = v;
	else if (!strcmp(f, "migrate-ca"))
		in->conf.ca = v;
	else if (!strcmp(f, "migrate-trusted"))
		in->conf.trusted = v;
	else if (!strcmp(f, "svirt"))
		in->svirt = v;
	else if (!strcmp(f, "seccomp"))
		in->seccomp = v;
	else if (!strcmp(f, "log-level"))
		return log_parse_level(v, &l->level) ? -EINVAL : 0;
	else
		return launch_run_opt(&l->opt, f, v, 0);
	return 0;
}

struct incoming_argctx {
	struct launch *l;
	struct launch_incoming *in;
};

static int incoming_arg(void *ctx, const char *flag, const char *val)
{
	struct incoming_argctx *a = ctx;

	if (!flag)
		return -EINVAL;
	return val ? incoming_flag(a->l, a->in, flag, val) : -EAGAIN;
}

static int incoming_args(int argc, char **argv, struct launch *l, struct launch_incoming *in)
{
	struct incoming_argctx a = { l, in };
	int rc = launch_args_walk(argc, argv, incoming_arg, &a);

	return rc ? rc : in->addr ? 0 : -EINVAL;
}

int cmd_incoming(int argc, char **argv)
{
	static struct launch l;
	static struct launch_incoming in;
	struct snap_limits lim;
	int rc, status;

	launch_init(&l);
	memset(&in, 0, sizeof(in));
	if (incoming_args(argc, argv, &l, &in)) {
		incoming_usage();
		return 2;
	}
	log_set_level(l.level);
	in.hello_buf = malloc(INCOMING_HELLO_MAX);
	in.buf = malloc(INCOMING_RECV_MAX);
	in.md = EVP_MD_CTX_new();
	rc = in.hello_buf && in.buf && in.md && EVP_DigestInit_ex(in.md, EVP_sha256(), NULL) ?
	     0 : -ENOMEM;
	rc = rc ? rc : inc_accept(&in);
	rc = rc ? rc : inc_hello_check(&in, &l.cfg);
	rc = rc ? rc : inc_ek_check(&in, &l);
	rc = rc ? rc : snap_limits_from_config(&l.cfg, &lim);
	if (!rc)
		migframe_init(&in.frame, &lim);
	if (rc) {
		if (!in.why[0])
			WHY(&in, "%s", strerror(-rc));
		log_err("incoming: refused, nothing started: %s", in.why);
		if (in.ch && !in.over)
			inc_send_text(&in, MIG_REFUSE, in.why);
		inc_audit_peer(in.hello.name, "refused", false);
		inc_free(&in);
		return VMM_EXIT_SETUP;
	}
	log_info("incoming: guest %s, %u vCPUs, %llu MiB, from %s", l.cfg.name, l.cfg.cpus,
		 (unsigned long long)l.cfg.memory_mib, migchan_peer(in.ch));
	l.incoming = &in;
	status = launch_run_prepared(&l);
	inc_free(&in);
	return status;
}
