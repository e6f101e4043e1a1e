/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live-migration messages (core/launch/migwire.h): encoders, the strict
 * decoders of a peer's bytes, and the order both sides keep to.
 */
#include "core/launch/migwire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle.h"
#include "attest/format/bundle_host.h"
#include "attest/format/eventlog.h"
#include "attest/format/secstate.h"
#include "attest/vtpm/swtpm.h"
#include "core/launch/gstate.h"
#include "core/launch/wirebuf.h"
#include "core/util.h"
#include "svirt/svirt.h"

static_assert(MIGWIRE_LOG_MAX == EVLOG_MAX_SIZE, "event log bound");
static_assert(MIGWIRE_SECSTATE_MAX == MEASURE_MAX_TEXT, "security state bound");
static_assert(MIGWIRE_BLOB_MAX == SWTPM_BLOB_MAX, "vTPM blob bound");
static_assert(MIGWIRE_LABEL_MAX == SVIRT_LABEL_MAX, "label bound");
static_assert(CONFIG_NAME_MAX <= GSTATE_NAME_MAX, "guest name bound");
static_assert(MIGWIRE_CERT_MAX == BUNDLE_MAX_CERT, "certificate bound");
static_assert(MIGWIRE_CHAIN_MAX == BUNDLE_MAX_CHAIN, "EK chain bound");
static_assert(MIGWIRE_HOSTS_MAX == BUNDLE_MAX_HOPS, "hop records bound");

#define STR(n) (4u + (size_t)(n))
#define HELLO_MAX (8u + STR(CONFIG_NAME_MAX) + STR(MIGWIRE_CONFIG_MAX) + \
		   STR(MIGWIRE_HOSTID_MAX) + STR(MIGWIRE_SECSTATE_MAX) + \
		   STR(MIGWIRE_LOG_MAX) + 8u + CONFIG_MAX_DISKS * (STR(PATH_MAX - 1) + 16u) + \
		   STR(MIGWIRE_UUID_LEN) + STR(MIGWIRE_CERT_MAX) + 8u + \
		   MIGWIRE_CHAIN_MAX * STR(MIGWIRE_CERT_MAX))
#define PROGRESS_LEN 32u
#define DONE_LEN     40u
#define ACK_LEN      24u

static const struct {
	const char *name;
	size_t max;
} msgs[MIG_MSG_END] = {
	[MIG_HELLO]    = { "HELLO", HELLO_MAX },
	[MIG_READY]    = { "READY", STR(MIGWIRE_LABEL_MAX - 1) },
	[MIG_REFUSE]   = { "REFUSE", STR(MIGWIRE_REASON_MAX) },
	[MIG_STREAM]   = { "STREAM", MIGWIRE_STREAM_MAX },
	[MIG_PROGRESS] = { "PROGRESS", PROGRESS_LEN },
	[MIG_VTPM]     = { "VTPM", 3 * STR(MIGWIRE_BLOB_MAX) },
	[MIG_DONE]     = { "DONE", DONE_LEN },
	[MIG_RUNNING]  = { "RUNNING", 0 },
	[MIG_ABORT]    = { "ABORT", STR(MIGWIRE_REASON_MAX) },
	[MIG_HOST]     = { "HOST", BUNDLE_HOP_WIRE_MAX },
	[MIG_ACK]      = { "ACK", ACK_LEN },
};

bool migwire_known(uint32_t type)
{
	return type > 0 && type < MIG_MSG_END;
}

size_t migwire_max_len(uint32_t type)
{
	return migwire_known(type) ? msgs[type].max : 0;
}

const char *migwire_name(uint32_t type)
{
	return migwire_known(type) ? msgs[type].name : "unknown";
}

int migwire_head_check(const uint8_t h[MIGWIRE_HEAD], size_t max, uint32_t *type,
		       uint32_t *len, char *why, size_t whylen)
{
	*type = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	*len = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
	if (!migwire_known(*type))
		snprintf(why, whylen, "message type %u is unknown (%u bytes)", *type, *len);
	else if (*len > msgs[*type].max)
		snprintf(why, whylen, "%s of %u bytes, over its bound of %zu", msgs[*type].name,
			 *len, msgs[*type].max);
	else if (*len > max)
		snprintf(why, whylen, "%s of %u bytes, over the %zu this side takes",
			 msgs[*type].name, *len, max);
	else
		return 0;
	return -EBADMSG;
}

/* ---- text: valid UTF-8, no control character (C0, DEL, C1) ------------- */

static bool text_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		uint32_t cp, min;
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (k > n - i - 1)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += k + 1;
	}
	return true;
}

/* A string field: read as rbuf_str does, then required to be text. */
static void r_text(struct rbuf *r, char *dst, size_t min, size_t size, const char *field)
{
	rbuf_str(r, dst, min, size, field);
	if (!r->err && !text_ok((const uint8_t *)dst, strlen(dst)))
		rbuf_fail(r, field);
}

/* A reading cursor over a peer's payload. */
static struct rbuf r_open(const uint8_t *p, size_t len, const char *what, char *why,
			  size_t whylen)
{
	struct rbuf r = { .p = p, .len = len, .what = what, .why = why, .whylen = whylen };

	return r;
}

/* ---- HELLO --------------------------------------------------------------- */

static bool disk_ok(const struct mig_disk *d)
{
	size_t pl = strnlen(d->path, sizeof(d->path));

	return pl && pl < sizeof(d->path) && d->path[0] == '/' &&
	       text_ok((const uint8_t *)d->path, pl) &&
	       !(d->flags & ~(MIG_DISK_F_SHARED | MIG_DISK_F_READONLY));
}

/* "8-4-4-4-12" lower-case hex, as attestd_uuid writes it. */
static bool uuid_ok(const char *s, size_t n)
{
	if (n != MIGWIRE_UUID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
					   (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* With a vTPM: a UUID, an EK certificate and 1..4 chain certificates;
 * without: none of them. */
static bool identity_ok(const struct mig_hello *h)
{
	size_t ul = strnlen(h->uuid, sizeof(h->uuid));

	if (!(h->flags & MIG_HELLO_F_VTPM))
		return !ul && !h->ek_cert_len && !h->nchain;
	if (!uuid_ok(h->uuid, ul) || !h->ek_cert || !h->ek_cert_len ||
	    h->ek_cert_len > MIGWIRE_CERT_MAX || !h->nchain || h->nchain > MIGWIRE_CHAIN_MAX)
		return false;
	for (uint32_t i = 0; i < h->nchain; i++)
		if (!h->ek_chain[i] || !h->ek_chain_len[i] ||
		    h->ek_chain_len[i] > MIGWIRE_CERT_MAX)
			return false;
	return true;
}

static bool hello_ok(const struct mig_hello *h)
{
	size_t hl = strnlen(h->host_id, sizeof(h->host_id));

	if (h->version != MIGWIRE_VERSION ||
	    (h->flags & ~(MIG_HELLO_F_VTPM | MIG_HELLO_F_PAUSED)) ||
	    strnlen(h->name, sizeof(h->name)) >= sizeof(h->name) ||
	    !gstate_name_valid(h->name) || !h->config || !h->config_len ||
	    h->config_len > MIGWIRE_CONFIG_MAX || !hl || hl >= sizeof(h->host_id) ||
	    !text_ok((const uint8_t *)h->host_id, hl) ||
	    h->secstate_len > MIGWIRE_SECSTATE_MAX || h->log_len > MIGWIRE_LOG_MAX ||
	    (h->secstate_len && !h->secstate) || (h->log_len && !h->log) ||
	    h->ndisks > CONFIG_MAX_DISKS)
		return false;
	for (uint32_t i = 0; i < h->ndisks; i++)
		if (!disk_ok(&h->disks[i]))
			return false;
	return identity_ok(h);
}

int migwire_hello_encode(const struct mig_hello *h, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	if (!hello_ok(h))
		return -EINVAL;
	wbuf_u32(&w, h->version);
	wbuf_u32(&w, h->flags);
	wbuf_str(&w, h->name, strlen(h->name));
	wbuf_str(&w, h->config, h->config_len);
	wbuf_str(&w, h->host_id, strlen(h->host_id));
	wbuf_str(&w, h->secstate, h->secstate_len);
	wbuf_str(&w, h->log, h->log_len);
	wbuf_u32(&w, h->ndisks);
	wbuf_u32(&w, 0);
	for (uint32_t i = 0; i < h->ndisks; i++) {
		wbuf_str(&w, h->disks[i].path, strlen(h->disks[i].path));
		wbuf_u64(&w, h->disks[i].size);
		wbuf_u32(&w, h->disks[i].flags);
		wbuf_u32(&w, 0);
	}
	wbuf_str(&w, h->uuid, strlen(h->uuid));
	wbuf_str(&w, h->ek_cert, h->ek_cert_len);
	wbuf_u32(&w, h->nchain);
	wbuf_u32(&w, 0);
	for (uint32_t i = 0; i < h->nchain; i++)
		wbuf_str(&w, h->ek_chain[i], h->ek_chain_len[i]);
	return wbuf_done(&w, out, len);
}

static void hello_disk(struct rbuf *r, struct mig_disk *d)
{
	r_text(r, d->path, 1, sizeof(d->path), "disk path");
	if (!r->err && d->path[0] != '/')
		rbuf_fail(r, "disk path is not absolute");
	d->size = rbuf_u64(r, "disk size");
	d->flags = rbuf_u32(r, "disk flags");
	if (!r->err && (d->flags & ~(MIG_DISK_F_SHARED | MIG_DISK_F_READONLY)))
		rbuf_fail(r, "unknown disk flags");
	if (rbuf_u32(r, "disk reserved") && !r->err)
		rbuf_fail(r, "disk reserved bytes set");
}

/* The guest's identity: present exactly when it has a vTPM. */
static void hello_identity(struct rbuf *r, struct mig_hello *h)
{
	bool vtpm = h->flags & MIG_HELLO_F_VTPM;

	rbuf_str(r, h->uuid, 0, sizeof(h->uuid), "guest UUID");
	if (!r->err && (vtpm ? !uuid_ok(h->uuid, strlen(h->uuid)) : h->uuid[0] != '\0')) {
		rbuf_fail(r, vtpm ? "guest UUID not lower-case 8-4-4-4-12 hex" :
			  "a guest UUID without a vTPM");
		return;
	}
	h->ek_cert = rbuf_bytes(r, vtpm ? 1 : 0, vtpm ? MIGWIRE_CERT_MAX : 0, &h->ek_cert_len,
				"EK certificate");
	h->nchain = rbuf_u32(r, "EK chain count");
	if (!r->err && (vtpm ? !h->nchain || h->nchain > MIGWIRE_CHAIN_MAX : h->nchain)) {
		rbuf_fail(r, vtpm ? "EK chain not 1 to 4 certificates" :
			  "an EK chain without a vTPM");
		return;
	}
	if (rbuf_u32(r, "identity reserved") && !r->err) {
		rbuf_fail(r, "identity reserved bytes set");
		return;
	}
	for (uint32_t i = 0; i < h->nchain && !r->err; i++)
		h->ek_chain[i] = rbuf_bytes(r, 1, MIGWIRE_CERT_MAX, &h->ek_chain_len[i],
					    "EK chain certificate");
}

int migwire_hello_decode(const uint8_t *p, size_t len, struct mig_hello *h,
			 char *why, size_t whylen)
{
	struct rbuf r = r_open(p, len, "migration HELLO", why, whylen);

	rbuf_start(&r, NULL, h, sizeof(*h));
	h->version = rbuf_u32(&r, "version");
	if (!r.err && h->version != MIGWIRE_VERSION)
		return rbuf_fail(&r, "protocol version not 3");
	h->flags = rbuf_u32(&r, "flags");
	if (!r.err && (h->flags & ~(MIG_HELLO_F_VTPM | MIG_HELLO_F_PAUSED)))
		return rbuf_fail(&r, "unknown flags");
	rbuf_str(&r, h->name, 1, sizeof(h->name), "guest name");
	if (!r.err && !gstate_name_valid(h->name))
		return rbuf_fail(&r, "guest name not [A-Za-z0-9_.-]");
	h->config = rbuf_bytes(&r, 1, MIGWIRE_CONFIG_MAX, &h->config_len, "configuration");
	r_text(&r, h->host_id, 1, sizeof(h->host_id), "source host id");
	h->secstate = rbuf_bytes(&r, 0, MIGWIRE_SECSTATE_MAX, &h->secstate_len,
				 "security state");
	h->log = rbuf_bytes(&r, 0, MIGWIRE_LOG_MAX, &h->log_len, "event log");
	h->ndisks = rbuf_u32(&r, "disk count");
	if (!r.err && h->ndisks > CONFIG_MAX_DISKS)
		return rbuf_fail(&r, "more than 8 disks");
	if (rbuf_u32(&r, "reserved") && !r.err)
		return rbuf_fail(&r, "reserved bytes set");
	for (uint32_t i = 0; i < h->ndisks && !r.err; i++)
		hello_disk(&r, &h->disks[i]);
	if (!r.err)
		hello_identity(&r, h);
	return rbuf_end(&r);
}

/* ---- READY, REFUSE, ABORT: one string ------------------------------------ */

static int text_bounds(uint32_t type, size_t *min, size_t *max)
{
	if (type == MIG_READY) {
		*min = 0;
		*max = MIGWIRE_LABEL_MAX - 1;
	} else if (type == MIG_REFUSE || type == MIG_ABORT) {
		*min = 1;
		*max = MIGWIRE_REASON_MAX;
	} else {
		return -EINVAL;
	}
	return 0;
}

int migwire_text_encode(uint32_t type, const char *s, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };
	size_t min, max, n = s ? strlen(s) : 0;

	if (text_bounds(type, &min, &max) || n < min || n > max ||
	    !text_ok((const uint8_t *)s, n))
		return -EINVAL;
	wbuf_str(&w, s, n);
	return wbuf_done(&w, out, len);
}

int migwire_text_decode(uint32_t type, const uint8_t *p, size_t len, char *s,
			size_t cap, char *why, size_t whylen)
{
	struct rbuf r = r_open(p, len, "migration message", why, whylen);
	size_t min, max;

	if (text_bounds(type, &min, &max) || cap < max + 1)
		return rbuf_fail(&r, "not a text message, or no room for it");
	r.what = type == MIG_READY ? "migration READY" :
		 type == MIG_REFUSE ? "migration REFUSE" : "migration ABORT";
	r_text(&r, s, min, max + 1, type == MIG_READY ? "label" : "reason");
	return rbuf_end(&r);
}

/* ---- PROGRESS, VTPM, DONE ------------------------------------------------ */

int migwire_progress_encode(const struct mig_progress *g, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	wbuf_u32(&w, g->round);
	wbuf_u32(&w, 0);
	wbuf_u64(&w, g->bytes);
	wbuf_u64(&w, g->dirty_rate);
	wbuf_u64(&w, g->downtime_ms);
	return wbuf_done(&w, out, len);
}

int migwire_progress_decode(const uint8_t *p, size_t len, struct mig_progress *g,
			    char *why, size_t whylen)
{
	struct rbuf r = r_open(p, len, "migration PROGRESS", why, whylen);

	rbuf_start(&r, NULL, g, sizeof(*g));
	g->round = rbuf_u32(&r, "round");
	if (rbuf_u32(&r, "reserved") && !r.err)
		return rbuf_fail(&r, "reserved bytes set");
	g->bytes = rbuf_u64(&r, "bytes");
	g->dirty_rate = rbuf_u64(&r, "dirty rate");
	g->downtime_ms = rbuf_u64(&r, "expected downtime");
	return rbuf_end(&r);
}

int migwire_ack_encode(const struct mig_ack *a, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	if (a->handover_ms > MIGWIRE_HANDOVER_MAX_MS)
		return -EINVAL;
	wbuf_u32(&w, a->round);
	wbuf_u32(&w, 0);
	wbuf_u64(&w, a->bytes);
	wbuf_u64(&w, a->handover_ms);
	return wbuf_done(&w, out, len);
}

int migwire_ack_decode(const uint8_t *p, size_t len, struct mig_ack *a,
		       char *why, size_t whylen)
{
	struct rbuf r = r_open(p, len, "migration ACK", why, whylen);

	rbuf_start(&r, NULL, a, sizeof(*a));
	a->round = rbuf_u32(&r, "round");
	if (rbuf_u32(&r, "reserved") && !r.err)
		return rbuf_fail(&r, "reserved bytes set");
	a->bytes = rbuf_u64(&r, "bytes");
	a->handover_ms = rbuf_u64(&r, "hand-over estimate");
	if (!r.err && a->handover_ms > MIGWIRE_HANDOVER_MAX_MS)
		return rbuf_fail(&r, "a hand-over estimate over 60 s");
	return rbuf_end(&r);
}

int migwire_vtpm_encode(const struct mig_vtpm *v, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(v->blob); i++) {
		if (v->len[i] > MIGWIRE_BLOB_MAX || (v->len[i] && !v->blob[i])) {
			free(w.p);
			return -EINVAL;
		}
		wbuf_str(&w, v->blob[i], v->len[i]);
	}
	return wbuf_done(&w, out, len);
}

int migwire_vtpm_decode(const uint8_t *p, size_t len, struct mig_vtpm *v,
			char *why, size_t whylen)
{
	static const char *const names[] = { "permanent state", "volatile state",
					     "savestate" };
	struct rbuf r = r_open(p, len, "migration VTPM", why, whylen);

	static_assert(ARRAY_SIZE(names) == ARRAY_SIZE(v->blob), "one name per blob");
	rbuf_start(&r, NULL, v, sizeof(*v));
	for (size_t i = 0; i < ARRAY_SIZE(v->blob); i++)
		v->blob[i] = rbuf_bytes(&r, 0, MIGWIRE_BLOB_MAX, &v->len[i], names[i]);
	return rbuf_end(&r);
}

int migwire_done_encode(const struct mig_done *d, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	wbuf_u64(&w, d->bytes);
	wbuf_put(&w, d->sha256, sizeof(d->sha256));
	return wbuf_done(&w, out, len);
}

int migwire_done_decode(const uint8_t *p, size_t len, struct mig_done *d,
			char *why, size_t whylen)
{
	struct rbuf r = r_open(p, len, "migration DONE", why, whylen);
	const uint8_t *sha;

	rbuf_start(&r, NULL, d, sizeof(*d));
	d->bytes = rbuf_u64(&r, "stream bytes");
	sha = rbuf_take(&r, sizeof(d->sha256), "stream SHA-256");
	if (sha)
		memcpy(d->sha256, sha, sizeof(d->sha256));
	return rbuf_end(&r);
}

/* ---- the order ----------------------------------------------------------- */

enum seq_state { SEQ_START, SEQ_HELLO, SEQ_STREAMING, SEQ_DONE, SEQ_RUNNING, SEQ_OVER };

int migwire_seq_next(struct migwire_seq *s, bool from_source, uint32_t type,
		     char *why, size_t whylen)
{
	int next = -1;

	if (s->state == SEQ_OVER)
		next = -1;
	else if (s->state == SEQ_RUNNING)      /* only the source's host evidence */
		next = from_source && type == MIG_HOST && s->hosts < MIGWIRE_HOSTS_MAX ?
		       (s->hosts++, SEQ_RUNNING) : -1;
	else if (type == MIG_ABORT)
		next = SEQ_OVER;
	else if (from_source && s->state == SEQ_START && type == MIG_HELLO)
		next = SEQ_HELLO;
	else if (!from_source && s->state == SEQ_HELLO && type == MIG_READY)
		next = SEQ_STREAMING;
	else if (!from_source && s->state == SEQ_HELLO && type == MIG_REFUSE)
		next = SEQ_OVER;
	else if (from_source && s->state == SEQ_STREAMING && type == MIG_STREAM &&
		 !s->vtpm_seen)
		next = SEQ_STREAMING;
	else if (from_source && s->state == SEQ_STREAMING && type == MIG_PROGRESS &&
		 !s->vtpm_seen && s->acks_due < UINT32_MAX)
		next = SEQ_STREAMING, s->acks_due++;
	else if (!from_source && s->state == SEQ_STREAMING && type == MIG_ACK &&
		 !s->vtpm_seen && s->acks_due)
		next = SEQ_STREAMING, s->acks_due--;
	else if (from_source && s->state == SEQ_STREAMING && type == MIG_VTPM &&
		 !s->vtpm_seen && !s->acks_due)
		next = SEQ_STREAMING, s->vtpm_seen = true;
	else if (from_source && s->state == SEQ_STREAMING && type == MIG_DONE && !s->acks_due)
		next = SEQ_DONE;
	else if (!from_source && s->state == SEQ_DONE && type == MIG_RUNNING)
		next = SEQ_RUNNING;
	if (next < 0) {
		if (why && whylen)
			snprintf(why, whylen, "migration protocol: %s from the %s is out of order",
				 migwire_name(type), from_source ? "source" : "target");
		s->state = SEQ_OVER;
		return -EPROTO;
	}
	s->state = next;
	return 0;
}

bool migwire_seq_over(const struct migwire_seq *s)
{
	return s->state == SEQ_OVER || s->state == SEQ_RUNNING;
}
