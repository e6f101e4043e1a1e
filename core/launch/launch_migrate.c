/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration, the source (issue 18; core/launch/launch_migrate.h).
 * PUT /migrate starts a job in a thread of the launcher; in order:
 *   1. migchan_connect to the target (TLS 1.3, both sides authenticated)
 *   2. HELLO: the guest's name, canonical configuration, this host's id,
 *      the security state's text, the event log, the disks (every disk is
 *      expected on shared storage, at the same path), the vTPM's identity
 *      (UUID, EK certificate and chain, as enrolled here); READY or REFUSE
 *   3. (with a vTPM) swtpm's three blobs read once, timed and dropped: the
 *      stop rule's measure of them; VMM_CTL_MIG_START: round 0 (all of
 *      RAM) while the guest runs; then VMM_CTL_MIG_ROUND while the expected
 *      downtime (the last round's pages at the measured throughput, plus
 *      the hand-over's fixed cost: launch_migrate_cost_measured, with the
 *      target's own estimate from its ACKs) is over the budget and rounds
 *      are left.  Every record of the VMM's stream is framed here
 *      (snap_frame_check, migration mode): the VMM is not trusted to end
 *      it.  The stream goes out in STREAM messages, hashed as it goes; a
 *      PROGRESS after each round, which the target answers with an ACK
 *   4. the last ACK awaited (the target took all of the rounds: nothing of
 *      them is left in flight to lengthen the pause), VMM_CTL_PAUSE (if it
 *      ran), VMM_CTL_MIG_FINAL (the last pages and the state), swtpm's
 *      three blobs (VTPM), DONE with the SHA-256
 *   5. RUNNING from the target (the commit point)
 * Any failure before DONE, or an ABORT from the target before RUNNING:
 * ABORT sent (best effort), the order out awaited (its stream drained),
 * VMM_CTL_MIG_CANCEL, and the guest resumed if it ran: it goes on here,
 * unchanged, with the reason in the reply, the log and the audit record.
 * After DONE, a channel that breaks or stays silent is not a refusal: the
 * target may already run the guest, so this side keeps it PAUSED (two
 * running copies of one guest on one disk is worse than a paused one) and
 * says so; `bulwark resume` is the operator's call.
 * After RUNNING (launch_migrate_reap, in the loop): the disks' label
 * records are handed over (svirt_vm_disown: the target labelled them for
 * its pair), then the loop stops the VMM hard; the unwind stops swtpm and
 * releases the pair.  Audit: VIRT_CONTROL op=migrate-out.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/producer/attestd.h"
#include "attest/vtpm/measure.h"
#include "core/launch/audit.h"
#include "core/launch/launch_control.h"
#include "core/launch/launch_mighost.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/launch/migchan.h"
#include "core/launch/migwire.h"
#include "core/log.h"
#include "core/path.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "core/vmm_abi.h"

#define MIG_IO_MS      15000    /* the VMM's stream stalls no longer than this */
#define MIG_FINAL_TRIES 5
#define MIG_RUNNING_MS 120000   /* the target checks, restores, measures, resumes */

struct mig_job {
	struct launch *l;
	struct control *ctl;
	struct migrate_req req;
	struct migchan *ch;
	struct migwire_seq seq;
	pthread_t th;
	bool running;                 /* the thread exists */
	bool joined;                  /* launch_migrate_abandon joined it */
	bool was_paused;
	bool tracking;                /* MIG_START accepted: CANCEL on failure */
	bool order_out;               /* an order awaits its reply */
	bool after_done;              /* DONE sent: a silent peer may run it */
	bool peer_said;               /* the peer ended it (REFUSE or ABORT) */
	bool cancel;                  /* under mu: the operator's migrate-cancel */
	bool committing;              /* under mu: DONE is being sent: too late */
	uint8_t stream_sha256[32];    /* DONE's, for the host evidence after RUNNING */
	EVP_MD_CTX *md;
	uint8_t *chunk;               /* STREAM's payload being filled */
	size_t chunk_len;
	struct snap_frame_state st;
	struct snap_limits lim;
	struct vmm_ctl_reply rep;
	bool have_rep;                /* the reply came while the stream was read */
	long long t0, pause_ms;
	struct migrate_cost cost;     /* the hand-over's fixed cost (stop rule) */
	struct migrate_measured meas; /* what this move measured of it */
	uint64_t acked_bytes;         /* the last ACK's */
	pthread_mutex_t mu;
	struct migrate_progress p;    /* under mu */
};

static struct mig_job job = { .mu = PTHREAD_MUTEX_INITIALIZER };

#define WHY(j, ...) job_why((j), __VA_ARGS__)

static void job_why(struct mig_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void job_why(struct mig_job *j, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&j->mu);
	if (!j->p.reason[0]) {
		va_start(ap, fmt);
		vsnprintf(j->p.reason, sizeof(j->p.reason), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&j->mu);
}

static void job_phase(struct mig_job *j, const char *phase)
{
	pthread_mutex_lock(&j->mu);
	snprintf(j->p.phase, sizeof(j->p.phase), "%s", phase);
	j->p.elapsed_ms = launch_control_now_ms() - j->t0;
	pthread_mutex_unlock(&j->mu);
	log_info("migrate: %s", phase);
}

/* One message to the target, its order checked. */
static int job_send(struct mig_job *j, uint32_t type, const void *p, size_t n)
{
	char why[160];
	int rc = migwire_seq_next(&j->seq, true, type, why, sizeof(why));

	if (rc) {
		WHY(j, "protocol: %s", why);
		return rc;
	}
	rc = migchan_send(j->ch, type, p, n);
	if (rc)
		WHY(j, "the channel to %s broke sending %s: %s", j->req.to, migwire_name(type),
		    migchan_why(j->ch)[0] ? migchan_why(j->ch) : strerror(-rc));
	return rc;
}

/* One message from the target (TIMEOUT: migchan's); REFUSE and ABORT end
 * the job with the peer's reason. */
static int job_recv(struct mig_job *j, uint32_t *type, uint8_t *buf, size_t max, size_t *len)
{
	char why[160], text[MIGWIRE_REASON_MAX + 1];
	int rc = migchan_recv(j->ch, type, buf, max, len);

	if (rc) {
		WHY(j, "the target %s: %s", rc == -ETIMEDOUT ? "did not answer in time" :
		    "went away", migchan_why(j->ch)[0] ? migchan_why(j->ch) : strerror(-rc));
		return rc;
	}
	rc = migwire_seq_next(&j->seq, false, *type, why, sizeof(why));
	if (rc) {
		WHY(j, "protocol: %s", why);
		return rc;
	}
	if (*type != MIG_REFUSE && *type != MIG_ABORT)
		return 0;
	j->peer_said = true;
	if (migwire_text_decode(*type, buf, *len, text, sizeof(text), why, sizeof(why)))
		snprintf(text, sizeof(text), "(its reason does not decode: %s)", why);
	WHY(j, "the target %s: %s", *type == MIG_REFUSE ? "refused the guest" : "aborted",
	    text);
	return -ECONNABORTED;
}

/* An ACK: the target's VMM took BYTES of the stream (no more than went),
 * and its estimate of its part of the hand-over joins the stop rule. */
static int job_ack(struct mig_job *j, const uint8_t *buf, size_t len)
{
	struct mig_ack a;
	char why[160];

	if (migwire_ack_decode(buf, len, &a, why, sizeof(why)))
		return WHY(j, "ACK: %s", why), -EPROTO;
	pthread_mutex_lock(&j->mu);
	if (a.bytes > j->p.bytes || a.bytes < j->acked_bytes || a.round > j->p.round) {
		pthread_mutex_unlock(&j->mu);
		return WHY(j, "ACK: round %u, %llu bytes: not what was sent", a.round,
			   (unsigned long long)a.bytes), -EPROTO;
	}
	j->acked_bytes = a.bytes;
	j->meas.target = true;
	j->meas.target_ms = a.handover_ms;
	launch_migrate_cost_measured(j->l->cfg.cpus, &j->meas, &j->cost);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

/* One message from the target, waiting up to MS: an ACK (taken), or an
 * ABORT or a protocol error (either ends the job).  0 when none came. */
static int job_peer_wait(struct mig_job *j, int ms)
{
	static uint8_t buf[MIGWIRE_REASON_MAX + 8];
	uint32_t type;
	size_t len;
	int rc = migchan_readable(j->ch, ms);

	if (rc <= 0)
		return rc;
	rc = job_recv(j, &type, buf, sizeof(buf), &len);
	if (!rc && type == MIG_ACK)
		return job_ack(j, buf, len);
	return rc ? rc : (WHY(j, "the target sent %s during the stream", migwire_name(type)),
			  -EPROTO);
}

/* The operator's cancel, seen at each STREAM message and each round's
 * end: the job fails there, and undoes as for any failure before DONE. */
static int job_cancelled(struct mig_job *j)
{
	bool c;

	pthread_mutex_lock(&j->mu);
	c = j->cancel;
	pthread_mutex_unlock(&j->mu);
	if (!c)
		return 0;
	WHY(j, "cancelled by the operator (bulwark migrate-cancel)");
	return -ECANCELED;
}

/* Between records: an ACK, an ABORT or nothing. */
static int job_peer_check(struct mig_job *j)
{
	return job_peer_wait(j, 0);
}

/* Before the pause: every ACK awaited, so that what the rounds sent is
 * all in the target's VMM (a backlog in the channel would otherwise be
 * drained inside the pause). */
static int job_catch_up(struct mig_job *j)
{
	long long t = launch_control_now_ms(), end = t + MIG_IO_MS;
	int rc = 0;

	while (!rc && j->seq.acks_due) {
		long long left = end - launch_control_now_ms();

		if (left <= 0) {
			WHY(j, "the target did not take the rounds' stream within %d s",
			    MIG_IO_MS / 1000);
			return -ETIMEDOUT;
		}
		rc = job_peer_wait(j, (int)left);
	}
	if (!rc)
		log_info("migrate: the target took the rounds' %llu bytes, %lld ms after the "
			 "last round; its own estimate of its part: %llu ms",
			 (unsigned long long)j->acked_bytes, launch_control_now_ms() - t,
			 (unsigned long long)j->meas.target_ms);
	return rc;
}

static int job_flush(struct mig_job *j)
{
	int rc;

	if (!j->chunk_len)
		return 0;
	rc = job_cancelled(j);
	rc = rc ? rc : job_send(j, MIG_STREAM, j->chunk, j->chunk_len);
	j->chunk_len = 0;
	return rc ? rc : job_peer_check(j);
}

/* Bytes of the VMM's stream out to the target (hashed, counted). */
static int job_put(struct mig_job *j, const void *p, size_t n)
{
	EVP_DigestUpdate(j->md, p, n);
	pthread_mutex_lock(&j->mu);
	j->p.bytes += n;
	pthread_mutex_unlock(&j->mu);
	while (n) {
		size_t k = MIGWIRE_STREAM_MAX - j->chunk_len;
		int rc;

		k = k < n ? k : n;
		memcpy(j->chunk + j->chunk_len, p, k);
		j->chunk_len += k;
		p = (const uint8_t *)p + k;
		n -= k;
		if (j->chunk_len == MIGWIRE_STREAM_MAX && (rc = job_flush(j)))
			return rc;
	}
	return 0;
}

/* Exactly N bytes of the VMM's stream; a reply before them ends the order
 * (kept in j->rep). */
static int job_read(struct mig_job *j, void *buf, size_t n)
{
	int rc = launch_control_stream_read(j->ctl, j->l->snap_fd, buf, n, MIG_IO_MS, &j->rep,
					    &j->have_rep);

	if (j->have_rep)
		j->order_out = false;
	return rc;
}

static int job_order_send(struct mig_job *j, uint32_t op)
{
	struct vmm_ctl_req req = { .op = op, .seq = ++j->ctl->seq };

	if (!req.seq)
		req.seq = ++j->ctl->seq;
	j->have_rep = false;
	if (send(j->ctl->vmm_fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return -EPIPE;
	j->order_out = true;
	return 0;
}

static int job_reply(struct mig_job *j, int timeout_ms)
{
	int rc = 0;

	if (!j->have_rep)
		rc = launch_control_reply_wait(j->ctl, timeout_ms, &j->rep);
	if (!rc)
		j->order_out = false;
	return rc ? rc : j->rep.result;
}

/* An order without a stream (pause, cancel, resume): sent, its reply
 * awaited.  Not launch_control_order_sync: the job holds the channel
 * (ctl->vmm_busy) for itself.  0 (the VMM's result) or -errno. */
static int job_sync(struct mig_job *j, uint32_t op)
{
	int rc = job_order_send(j, op);

	return rc ? rc : job_reply(j, MIG_IO_MS);
}

static int job_read_cb(void *ctx, void *buf, size_t n)
{
	return job_read(ctx, buf, n);
}

static int job_put_cb(void *ctx, const void *buf, size_t n)
{
	return job_put(ctx, buf, n);
}

/* One record of the stream: framed, forwarded; 1 at the end of the
 * order's part (ROUND_END, or END for FINAL). */
static int job_record(struct mig_job *j, uint32_t op)
{
	static uint8_t buf[64 * 1024];
	const struct stream_relay s = { job_read_cb, job_put_cb, j, buf, sizeof(buf) };
	struct snap_rec r;
	int rc = launch_control_stream_record(&s, &j->lim, &j->st, &r);

	if (rc < 0)
		return rc;
	return rc == SNAP_FRAME_END || (r.type == SNAP_REC_ROUND_END && op != VMM_CTL_MIG_FINAL);
}

/* One migration order and its part of the stream, whole, then its reply. */
static int job_order(struct mig_job *j, uint32_t op)
{
	uint8_t hdr[SNAP_MAGIC_LEN];
	int rc = job_order_send(j, op);

	if (!rc && op == VMM_CTL_MIG_START) {
		rc = job_read(j, hdr, sizeof(hdr));
		rc = rc ? rc : snap_mig_header_check(hdr, sizeof(hdr));
		if (!rc) {
			j->tracking = true;
			snap_frame_init(&j->st, 1);
			j->st.offset = SNAP_MAGIC_LEN;
			rc = job_put(j, hdr, sizeof(hdr));
		}
	}
	while (!rc && (rc = job_record(j, op)) == 0)
		;
	if (rc < 0) {
		WHY(j, "the VMM's migration stream (%s): %s", op == VMM_CTL_MIG_START ? "start" :
		    op == VMM_CTL_MIG_FINAL ? "final" : "round", strerror(-rc));
		return rc;
	}
	rc = job_flush(j);
	rc = rc ? rc : job_reply(j, MIG_IO_MS);
	if (rc)
		WHY(j, "the VMM refused the migration order %u: %s", op, strerror(-rc));
	return rc;
}

/* The figures of the order just done; the expected downtime for the
 * pages it found dirty. */
static void job_figures(struct mig_job *j, long long ms, bool progress)
{
	const struct vmm_ctl_mig *m = &j->rep.mig;
	struct mig_progress g;
	uint8_t *buf = NULL;
	size_t len = 0;

	pthread_mutex_lock(&j->mu);
	j->p.round = m->round;
	j->p.last_pages = m->pages;
	j->p.throughput = launch_migrate_throughput(j->p.throughput, m->bytes, ms);
	if (ms > 0)
		j->p.dirty_rate = m->round ? m->pages * 1000u / (uint64_t)ms : 0;
	j->p.expected_ms = launch_migrate_expected_ms(m->pages, j->p.throughput, &j->cost);
	g = (struct mig_progress){ .round = m->round, .bytes = j->p.bytes,
				   .dirty_rate = j->p.dirty_rate,
				   .downtime_ms = j->p.expected_ms };
	pthread_mutex_unlock(&j->mu);
	log_info("migrate: round %u, %llu pages in %lld ms, expected downtime %llu ms",
		 m->round, (unsigned long long)m->pages, ms, (unsigned long long)g.downtime_ms);
	/* informational, and answered by an ACK: none after the pause */
	if (progress && !migwire_progress_encode(&g, &buf, &len))
		job_send(j, MIG_PROGRESS, buf, len);
	free(buf);
}

/* Step 3's measure of the vTPM's blobs: read from swtpm once while the
 * guest runs, timed, their sizes kept, the bytes wiped and dropped (the
 * blobs that move are read again after the pause, from the stopped TPM).
 * A failure only leaves the constants in the rule. */
static void job_vtpm_measure(struct mig_job *j)
{
	static const enum swtpm_blob which[] = { SWTPM_BLOB_PERMANENT, SWTPM_BLOB_VOLATILE,
						 SWTPM_BLOB_SAVESTATE };
	long long t = launch_control_now_ms();
	uint64_t bytes = 0;
	int rc = 0;

	if (!j->l->vtpm_running)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(which) && !rc; i++) {
		uint8_t *b = NULL;
		size_t n = 0;

		rc = swtpm_state_get(&j->l->vtpm.swtpm, which[i], &b, &n);
		if (b)
			explicit_bzero(b, n);
		free(b);
		bytes += n;
	}
	if (rc) {
		log_warn("migrate: the vTPM's blobs not measured (%s): the rule counts %u "
			 "bytes", strerror(-rc), MIGRATE_VTPM_BYTES);
		return;
	}
	pthread_mutex_lock(&j->mu);
	j->meas.blobs = true;
	j->meas.vtpm_bytes = bytes;
	j->meas.vtpm_read_ms = (uint64_t)(launch_control_now_ms() - t);
	launch_migrate_cost_measured(j->l->cfg.cpus, &j->meas, &j->cost);
	pthread_mutex_unlock(&j->mu);
	log_info("migrate: the vTPM's blobs: %llu bytes, read in %llu ms",
		 (unsigned long long)bytes, (unsigned long long)j->meas.vtpm_read_ms);
}

/* Steps 3: rounds until the rest fits the budget or none are left.  The
 * rest is the last round's pages and the hand-over's fixed cost (the
 * state and the vTPM's blobs at the measured throughput, and what the
 * pause, the target's checks and its resume take: launch_migrate_cost). */
static int job_rounds(struct mig_job *j)
{
	uint32_t op = VMM_CTL_MIG_START;
	enum migrate_stop stop;

	job_phase(j, "rounds");
	job_vtpm_measure(j);
	for (;;) {
		long long t = launch_control_now_ms();
		int rc = job_order(j, op);

		if (rc)
			return rc;
		job_figures(j, launch_control_now_ms() - t, true);
		rc = job_cancelled(j);
		if (rc)
			return rc;
		stop = launch_migrate_stop(j->p.expected_ms, j->req.downtime_ms, j->p.round,
					   j->req.max_rounds);
		if (stop != MIGRATE_GO_ON)
			break;
		op = VMM_CTL_MIG_ROUND;
	}
	pthread_mutex_lock(&j->mu);
	j->p.stop_expected_ms = j->p.expected_ms;
	pthread_mutex_unlock(&j->mu);
	if (stop == MIGRATE_STOP_FITS)
		log_info("migrate: expected downtime %llu ms (%llu ms of it fixed%s, %llu bytes of "
			 "state and vTPM) fits the budget of %u ms", (unsigned long long)
			 j->p.expected_ms, (unsigned long long)j->cost.fixed_ms,
			 j->meas.target ? ", the target's estimate in it" : "",
			 (unsigned long long)j->cost.fixed_bytes, j->req.downtime_ms);
	else
		log_warn("migrate: %u rounds (the limit) and the expected downtime, %llu ms, "
			 "is still over the budget of %u ms: moving anyway", j->p.round + 1,
			 (unsigned long long)j->p.expected_ms, j->req.downtime_ms);
	return 0;
}

/* The disks: each on shared storage at its path (the target opens the
 * same file or block device), its size for the target's check. */
static int job_disks(struct mig_job *j, struct mig_hello *h)
{
	const struct vm_config *cfg = &j->l->cfg;

	h->ndisks = cfg->ndisks;
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		int fd = open(cfg->disks[i].path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		int rc = fd < 0 ? -errno : path_disk_size(fd, &h->disks[i].size);

		if (fd >= 0)
			close(fd);
		if (rc) {
			WHY(j, "disk %s: %s", cfg->disks[i].path, strerror(-rc));
			return rc;
		}
		snprintf(h->disks[i].path, sizeof(h->disks[i].path), "%s", cfg->disks[i].path);
		h->disks[i].flags = MIG_DISK_F_SHARED |
				    (cfg->disks[i].readonly ? MIG_DISK_F_READONLY : 0);
	}
	return 0;
}

/* The guest's identity moves with its TPM: the UUID its AK policy binds,
 * the EK certificate and chain enrolled here (the target checks them
 * against its EK anchors and enrolls the migrated TPM again). */
static int job_identity(struct mig_job *j, struct mig_hello *h)
{
	const struct attestd_guest *id = launch_attestd_identity(j->l);

	if (!j->l->vtpm_running)
		return 0;
	if (!id || !id->g.ek.cert.len || !id->g.ek.nchain ||
	    id->g.ek.nchain > MIGWIRE_CHAIN_MAX) {
		WHY(j, "the guest's vTPM has no enrolled identity (EK certificate and "
		    "chain) to send");
		return -ENOKEY;
	}
	snprintf(h->uuid, sizeof(h->uuid), "%s", id->uuid);
	h->ek_cert = id->g.ek.cert.data;
	h->ek_cert_len = id->g.ek.cert.len;
	h->nchain = (uint32_t)id->g.ek.nchain;
	for (uint32_t i = 0; i < h->nchain; i++) {
		h->ek_chain[i] = id->g.ek.chain[i].data;
		h->ek_chain_len[i] = id->g.ek.chain[i].len;
	}
	return 0;
}

/* Step 2: HELLO, then READY (the target's new pair) or REFUSE. */
static int job_hello(struct mig_job *j)
{
	static struct mig_hello h;
	static uint8_t in[MIGWIRE_REASON_MAX + MIGWIRE_LABEL_MAX + 8];
	const struct launch *l = j->l;
	char label[MIGWIRE_LABEL_MAX + 1], why[160];
	uint8_t *buf = NULL;
	uint32_t type;
	size_t len = 0;
	int rc;

	memset(&h, 0, sizeof(h));
	h.version = MIGWIRE_VERSION;
	h.flags = (l->vtpm_running ? MIG_HELLO_F_VTPM : 0) |
		  (j->was_paused ? MIG_HELLO_F_PAUSED : 0);
	snprintf(h.name, sizeof(h.name), "%s", l->cfg.name);
	h.config = (const uint8_t *)l->canonical;
	h.config_len = l->canonical_len;
	if (gethostname(h.host_id, sizeof(h.host_id) - 1))
		snprintf(h.host_id, sizeof(h.host_id), "?");
	h.log = l->vtpm_running ? l->vtpm.log.buf : NULL;
	h.log_len = l->vtpm_running ? l->vtpm.log.len : 0;
	rc = job_disks(j, &h);
	rc = rc ? rc : job_identity(j, &h);
	rc = rc ? rc : migwire_hello_encode(&h, &buf, &len);
	if (rc) {
		WHY(j, "HELLO: %s", strerror(-rc));
		return rc;
	}
	rc = job_send(j, MIG_HELLO, buf, len);
	free(buf);
	rc = rc ? rc : job_recv(j, &type, in, sizeof(in), &len);
	if (rc)
		return rc;
	if (migwire_text_decode(MIG_READY, in, len, label, sizeof(label), why, sizeof(why))) {
		WHY(j, "READY: %s", why);
		return -EPROTO;
	}
	pthread_mutex_lock(&j->mu);
	snprintf(j->p.target_label, sizeof(j->p.target_label), "%s", label);
	pthread_mutex_unlock(&j->mu);
	log_info("migrate: the target %s takes guest %s at %s", migchan_peer(j->ch),
		 l->cfg.name, label[0] ? label : "(no label)");
	return 0;
}

/* Step 4's vTPM: swtpm's three blobs (the guest is paused, FINAL was
 * refused while a TPM command was in flight). */
static int job_vtpm(struct mig_job *j)
{
	static const enum swtpm_blob which[] = { SWTPM_BLOB_PERMANENT, SWTPM_BLOB_VOLATILE,
						 SWTPM_BLOB_SAVESTATE };
	struct mig_vtpm v = { 0 };
	uint8_t *blob[3] = { NULL }, *buf = NULL;
	size_t len = 0;
	int rc = 0;

	if (!j->l->vtpm_running)
		return 0;
	job_phase(j, "vtpm");
	for (size_t i = 0; i < ARRAY_SIZE(which) && !rc; i++) {
		rc = swtpm_state_get(&j->l->vtpm.swtpm, which[i], &blob[i], &v.len[i]);
		v.blob[i] = blob[i];
	}
	rc = rc ? rc : migwire_vtpm_encode(&v, &buf, &len);
	if (rc)
		WHY(j, "the vTPM's state: %s", strerror(-rc));
	rc = rc ? rc : job_send(j, MIG_VTPM, buf, len);
	for (size_t i = 0; i < ARRAY_SIZE(blob); i++) {
		if (blob[i])
			explicit_bzero(blob[i], v.len[i]);
		free(blob[i]);
	}
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* Pause and FINAL.  A TPM command in flight makes the VMM refuse FINAL
 * (-EBUSY, before any byte): a guest that ran runs a moment more and the
 * pause is tried again, MIG_FINAL_TRIES times in all. */
static int job_pause_final(struct mig_job *j)
{
	int rc = 0;

	for (int t = 0; t < MIG_FINAL_TRIES; t++) {
		if (t) {
			pthread_mutex_lock(&j->mu);
			j->p.reason[0] = '\0';
			pthread_mutex_unlock(&j->mu);
			rc = job_sync(j, VMM_CTL_RESUME);
			if (rc)
				return WHY(j, "the VMM could not resume: %s", strerror(-rc)), rc;
			log_info("migrate: a TPM command was in flight at the pause: again");
			usleep(20000);
		}
		j->pause_ms = launch_control_now_ms();
		if (!j->was_paused && (rc = job_sync(j, VMM_CTL_PAUSE)))
			return WHY(j, "the VMM could not pause: %s", strerror(-rc)), rc;
		rc = job_order(j, VMM_CTL_MIG_FINAL);
		if (rc != -EBUSY || j->was_paused)
			break;
	}
	return rc;
}

/* Step 4 and 5: pause, FINAL, the vTPM, DONE, RUNNING. */
static int job_final(struct mig_job *j)
{
	static uint8_t in[MIGWIRE_REASON_MAX + 8];
	struct mig_done d = { 0 };
	unsigned int dl = 32;
	uint8_t *buf = NULL;
	uint32_t type;
	size_t len = 0;
	int rc;

	job_phase(j, "final");
	rc = job_pause_final(j);
	if (rc)
		return rc;
	job_figures(j, launch_control_now_ms() - j->pause_ms, false);
	log_info("migrate: paused, last pages and state sent: %lld ms after the pause",
		 launch_control_now_ms() - j->pause_ms);
	rc = job_vtpm(j);
	if (rc)
		return rc;
	if (j->l->vtpm_running)
		log_info("migrate: vTPM blobs sent: %lld ms after the pause",
			 launch_control_now_ms() - j->pause_ms);
	pthread_mutex_lock(&j->mu);
	d.bytes = j->p.bytes;
	j->committing = !j->cancel;      /* from here a cancel is too late */
	pthread_mutex_unlock(&j->mu);
	rc = job_cancelled(j);
	if (rc)
		return rc;
	EVP_DigestFinal_ex(j->md, d.sha256, &dl);
	memcpy(j->stream_sha256, d.sha256, sizeof(j->stream_sha256));
	rc = migwire_done_encode(&d, &buf, &len);
	rc = rc ? rc : job_send(j, MIG_DONE, buf, len);
	free(buf);
	if (rc)
		return rc;
	j->after_done = true;
	log_info("migrate: DONE sent: %lld ms after the pause",
		 launch_control_now_ms() - j->pause_ms);
	job_phase(j, "confirming");
	/* The target validates the state, restores the vTPM and measures:
	 * longer than one record's wait of the channel. */
	rc = migchan_readable(j->ch, MIG_RUNNING_MS);
	if (rc <= 0) {
		WHY(j, "the target did not confirm within %d s", MIG_RUNNING_MS / 1000);
		return rc ? rc : -ETIMEDOUT;
	}
	rc = job_recv(j, &type, in, sizeof(in), &len);
	if (rc)
		return rc;
	pthread_mutex_lock(&j->mu);
	j->p.downtime_ms = launch_control_now_ms() - j->pause_ms;
	pthread_mutex_unlock(&j->mu);
	log_info("migrate: RUNNING came: downtime %lld ms, expected %llu ms", j->p.downtime_ms,
		 (unsigned long long)j->p.stop_expected_ms);
	return 0;     /* migwire_seq_next: after DONE only RUNNING or ABORT pass */
}

/* An order that is out: its stream drained, its reply awaited. */
static void job_drain(struct mig_job *j)
{
	long long end = launch_control_now_ms() + MIG_IO_MS;
	uint8_t sink[4096];

	while (j->order_out && launch_control_now_ms() < end) {
		struct pollfd p[2] = { { j->l->snap_fd, POLLIN, 0 },
				       { j->ctl->vmm_fd, POLLIN, 0 } };

		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[0].revents && read(j->l->snap_fd, sink, sizeof(sink)) <= 0)
			break;
		if (p[1].revents && !launch_control_reply_wait(j->ctl, 1, &j->rep))
			j->order_out = false;
	}
	while (recv(j->l->snap_fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

/* Any failure: the target told, dirty tracking off, the guest as it was. */
static void job_undo(struct mig_job *j, int rc)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	job_phase(j, "cancelling");
	if (j->ch && !j->peer_said && !migwire_seq_over(&j->seq) &&
	    !migwire_text_encode(MIG_ABORT, j->p.reason[0] ? j->p.reason : strerror(-rc), &buf,
				 &len))
		job_send(j, MIG_ABORT, buf, len);
	free(buf);
	job_drain(j);
	rc = j->tracking ? job_sync(j, VMM_CTL_MIG_CANCEL) : 0;
	if (rc && rc != -EALREADY)
		log_err("migrate: the cancel: %s", strerror(-rc));
	job_drain(j);
	if (j->after_done && !j->peer_said) {
		log_err("migrate: after DONE the target may run the guest: it stays paused "
			"here; resume it only once the target does not run it");
		pthread_mutex_lock(&j->mu);
		snprintf(j->p.reason, sizeof(j->p.reason), "unknown outcome");
		pthread_mutex_unlock(&j->mu);
		return;
	}
	if (!j->was_paused && j->ctl->paused &&
	    job_sync(j, VMM_CTL_RESUME))
		log_err("migrate: the guest could not be resumed");
}

static void *job_main(void *arg)
{
	struct mig_job *j = arg;
	struct migchan_conf c = {
		.cert = j->req.cert[0] ? j->req.cert : NULL, .key = j->req.key[0] ? j->req.key : NULL,
		.ca = j->req.ca[0] ? j->req.ca : NULL,
		.trusted = j->req.trusted[0] ? j->req.trusted : NULL,
	};
	char why[512] = "";
	int rc;

	job_phase(j, "connecting");
	rc = migchan_connect(j->req.to, &c, &j->ch, why, sizeof(why));
	if (rc)
		WHY(j, "%s: %s", j->req.to, why[0] ? why : strerror(-rc));
	if (!rc) {
		pthread_mutex_lock(&j->mu);
		snprintf(j->p.peer, sizeof(j->p.peer), "%s", migchan_peer(j->ch));
		pthread_mutex_unlock(&j->mu);
		job_phase(j, "hello");
		rc = job_hello(j);
	}
	rc = rc ? rc : job_rounds(j);
	rc = rc ? rc : job_catch_up(j);
	rc = rc ? rc : job_final(j);
	/* Issue 18 item 4: after RUNNING, so off the guest's downtime. */
	if (!rc) {
		job_phase(j, "host evidence");
		launch_mighost_send(j->l, j->ch, &j->seq, j->stream_sha256);
	}
	if (rc) {
		pthread_mutex_lock(&j->mu);
		snprintf(j->p.failed_in, sizeof(j->p.failed_in), "%s", j->p.phase);
		pthread_mutex_unlock(&j->mu);
		job_undo(j, rc);
	}
	migchan_close(j->ch);
	j->ch = NULL;
	pthread_mutex_lock(&j->mu);
	j->p.result = rc;
	j->p.done = true;
	snprintf(j->p.phase, sizeof(j->p.phase), "%s", rc ? "failed" : "migrated");
	j->p.elapsed_ms = launch_control_now_ms() - j->t0;
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

int launch_migrate_start(struct control *ctl, const struct migrate_req *req, char *why,
			 size_t why_len)
{
	struct mig_job *j = &job;
	int rc;

	if (j->running || ctl->vmm_busy || ctl->stopping || ctl->vmm_fd < 0 ||
	    ctl->l->snap_fd < 0) {
		snprintf(why, why_len, "%s", j->running ? "a migration is in progress" :
			 ctl->stopping ? "the guest is stopping" : "another order is out");
		return -EBUSY;
	}
	rc = snap_limits_from_config(&ctl->l->cfg, &j->lim);
	if (rc)
		return snprintf(why, why_len, "the configuration's limits"), rc;
	j->chunk = malloc(MIGWIRE_STREAM_MAX);
	j->md = EVP_MD_CTX_new();
	if (!j->chunk || !j->md || !EVP_DigestInit_ex(j->md, EVP_sha256(), NULL)) {
		free(j->chunk);
		EVP_MD_CTX_free(j->md);
		j->chunk = NULL;
		j->md = NULL;
		return snprintf(why, why_len, "no memory"), -ENOMEM;
	}
	j->l = ctl->l;
	j->ctl = ctl;
	j->req = *req;
	j->ch = NULL;
	memset(&j->seq, 0, sizeof(j->seq));
	j->chunk_len = 0;
	j->was_paused = ctl->paused;
	j->tracking = j->order_out = j->after_done = j->peer_said = j->have_rep = false;
	j->t0 = launch_control_now_ms();
	j->meas = (struct migrate_measured){ .vtpm = ctl->l->vtpm_running };
	j->acked_bytes = 0;
	launch_migrate_cost_measured(ctl->l->cfg.cpus, &j->meas, &j->cost);
	pthread_mutex_lock(&j->mu);
	memset(&j->p, 0, sizeof(j->p));
	j->cancel = j->committing = false;
	j->p.active = true;
	snprintf(j->p.to, sizeof(j->p.to), "%s", req->to);
	snprintf(j->p.phase, sizeof(j->p.phase), "connecting");
	pthread_mutex_unlock(&j->mu);
	/* The loop leaves the VMM's channel to the job until it is reaped. */
	ctl->vmm_busy = true;
	ctl->migrating = true;
	rc = -pthread_create(&j->th, NULL, job_main, j);
	if (rc) {
		ctl->vmm_busy = ctl->migrating = false;
		snprintf(why, why_len, "no thread: %s", strerror(-rc));
		return rc;
	}
	j->running = true;
	log_info("migrate: guest %s to %s, downtime budget %u ms, at most %u rounds",
		 ctl->l->cfg.name, req->to, req->downtime_ms, req->max_rounds);
	return 0;
}

int launch_migrate_cancel(char *why, size_t why_len)
{
	int rc = 0;

	if (!job.running) {
		snprintf(why, why_len, "no migration is in progress");
		return -ENOENT;
	}
	pthread_mutex_lock(&job.mu);
	if (job.committing || job.p.done) {
		snprintf(why, why_len, "too late to cancel: the last of the guest was sent "
			 "(DONE); the target may run it now (GET /migrate tells the outcome)");
		rc = -EALREADY;
	} else {
		job.cancel = true;
	}
	pthread_mutex_unlock(&job.mu);
	if (!rc)
		log_warn("migrate: cancel asked by the operator; the job undoes at its next "
			 "step and the guest goes on here");
	return rc;
}

void launch_migrate_progress(struct migrate_progress *out)
{
	pthread_mutex_lock(&job.mu);
	*out = job.p;
	if (job.p.active && !job.p.done)
		out->elapsed_ms = launch_control_now_ms() - job.t0;
	pthread_mutex_unlock(&job.mu);
}

/* After RUNNING: the disks' records handed over, the guest's stop asked. */
static void job_handover(struct control *ctl, const struct migrate_progress *p)
{
	struct launch *l = ctl->l;

	/* First, before anything is given up: this host's copy of the guest
	 * never starts again (core/launch/launch_moved.h). */
	(void)launch_moved_write(l, p, job.stream_sha256);

	for (uint32_t i = 0; l->svm && i < l->cfg.ndisks; i++) {
		int fd = open(l->cfg.disks[i].path, O_PATH | O_NOFOLLOW | O_CLOEXEC), rc;

		rc = fd < 0 ? -errno : svirt_vm_disown(l->svm, fd);
		if (rc)
			log_err("migrate: disk %s: its label record stays (%s); the stop "
				"will restore its label under the target's guest",
				l->cfg.disks[i].path, strerror(-rc));
		if (fd >= 0)
			close(fd);
	}
	ctl->actions |= CONTROL_ACT_STOP;
}

void launch_migrate_abandon(struct control *ctl)
{
	struct migrate_progress g;

	if (!job.running)
		return;
	log_warn("migrate: the guest stops while its migration runs: ended");
	if (ctl->l->snap_fd >= 0)
		shutdown(ctl->l->snap_fd, SHUT_RDWR);
	if (ctl->vmm_fd >= 0)
		shutdown(ctl->vmm_fd, SHUT_RDWR);
	pthread_join(job.th, NULL);
	job.joined = true;
	launch_migrate_reap(ctl, &g);
}

int launch_migrate_reap(struct control *ctl, struct migrate_progress *out)
{
	struct audit_guest g = { .name = ctl->l->cfg.name, .pid = ctl->vmm_pid };
	bool done;

	if (!job.running)
		return 0;
	pthread_mutex_lock(&job.mu);
	done = job.p.done;
	pthread_mutex_unlock(&job.mu);
	if (!done)
		return 0;
	if (!job.joined)
		pthread_join(job.th, NULL);
	job.running = job.joined = false;
	free(job.chunk);
	job.chunk = NULL;
	EVP_MD_CTX_free(job.md);
	job.md = NULL;
	ctl->vmm_busy = ctl->migrating = false;
	launch_migrate_progress(out);
	pthread_mutex_lock(&job.mu);
	job.p.active = false;
	pthread_mutex_unlock(&job.mu);
	if (out->result == 0) {
		log_info("migrate: guest %s runs on %s (%s): %u rounds, %llu bytes, %lld ms, "
			 "downtime %lld ms (expected %llu ms); stopping here", ctl->l->cfg.name,
			 out->to, out->peer, out->round + 1, (unsigned long long)out->bytes,
			 out->elapsed_ms, out->downtime_ms,
			 (unsigned long long)out->stop_expected_ms);
		job_handover(ctl, out);
		audit_control(&g, "migrate-out", "migrated", true);
	} else {
		log_err("migrate: to %s failed (in %s): %s", out->to, out->failed_in, out->reason);
		audit_control(&g, "migrate-out", !strcmp(out->reason, "unknown outcome") ?
			      "unknown-outcome" : out->failed_in, false);
	}
	return 1;
}
