/* SPDX-License-Identifier: Apache-2.0 */
/* TCG crypto-agile event log: writer, bounded parser, replay (eventlog.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest/format/eventlog.h"
#include "core/log.h"
#include "core/util.h"

static const char spec_id_sig[16] = "Spec ID Event03";
static const char locality_sig[16] = "StartupLocality";

/* Fixed part of the header event: pcr, type, sha1 digest, size. */
#define HDR_FIXED 32u
/* Fixed part of TCG_EfiSpecIDEvent before the algorithm list. */
#define SPEC_FIXED 28u
/* TCG_EfiSpecIdEventAlgorithmSize on the wire: algId u16, digestSize u16. */
#define SPEC_ALG_SIZE 4u

static EVP_MD *evlog_mds[EVLOG_MAX_BANKS];
static pthread_once_t evlog_mds_once = PTHREAD_ONCE_INIT;
static const uint16_t evlog_md_algs[EVLOG_MAX_BANKS] = {
	EVLOG_ALG_SHA1, EVLOG_ALG_SHA256, EVLOG_ALG_SHA384, EVLOG_ALG_SHA512,
};

static void evlog_mds_fetch(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(evlog_md_algs); i++)
		evlog_mds[i] = EVP_MD_fetch(NULL, evlog_alg_name(evlog_md_algs[i]), NULL);
}

const EVP_MD *evlog_md(uint16_t alg)
{
	pthread_once(&evlog_mds_once, evlog_mds_fetch);
	for (size_t i = 0; i < ARRAY_SIZE(evlog_md_algs); i++)
		if (evlog_md_algs[i] == alg)
			return evlog_mds[i];
	return NULL;
}

int evlog_hash(uint16_t alg, const void *data, size_t len, struct evlog_digest *out)
{
	uint16_t size = evlog_alg_size(alg);
	const EVP_MD *md = evlog_md(alg);
	unsigned int n = 0;

	if (!size)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!md || !EVP_Digest(data, len, out->bytes, &n, md, NULL) || n != size)
		return -EIO;
	out->alg = alg;
	out->size = size;
	return 0;
}

/* ---- little-endian helpers -------------------------------------------- */

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)get_le16(p) | ((uint32_t)get_le16(p + 2) << 16);
}

/* ---- writer ----------------------------------------------------------- */

static int writer_put(struct evlog_writer *w, const void *data, size_t len)
{
	if (!range_fits(w->len, len, w->capacity))
		return -ENOSPC;
	if (len)
		memcpy(w->buf + w->len, data, len);
	w->len += len;
	return 0;
}

static int writer_put32(struct evlog_writer *w, uint32_t v)
{
	uint8_t b[4];

	put_le(b, v, 4);
	return writer_put(w, b, sizeof(b));
}

static int banks_check(const uint16_t *alg_ids, size_t n, struct evlog_banks *out)
{
	if (n == 0 || n > EVLOG_MAX_BANKS)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!evlog_alg_size(alg_ids[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (alg_ids[j] == alg_ids[i])
				return -EINVAL;
		out->alg[i] = alg_ids[i];
		out->size[i] = evlog_alg_size(alg_ids[i]);
	}
	out->count = (uint32_t)n;
	return 0;
}

static int writer_header(struct evlog_writer *w)
{
	uint8_t fixed[HDR_FIXED + SPEC_FIXED] = { 0 };
	uint8_t *spec = fixed + HDR_FIXED;
	uint32_t size = SPEC_FIXED + w->banks.count * SPEC_ALG_SIZE + 1;
	int rc;

	put_le(fixed + 4, EV_NO_ACTION, 4);         /* pcr 0, sha1 digest zero */
	put_le(fixed + 28, size, 4);
	memcpy(spec, spec_id_sig, sizeof(spec_id_sig));
	put_le(spec + 16, EVLOG_PLATFORM_CLIENT, 4);
	spec[20] = 0;                               /* specVersionMinor */
	spec[21] = 2;                               /* specVersionMajor */
	spec[22] = 0;                               /* specErrata */
	spec[23] = 2;                               /* uintnSize: UINT64 */
	put_le(spec + 24, w->banks.count, 4);
	rc = writer_put(w, fixed, sizeof(fixed));
	for (uint32_t i = 0; !rc && i < w->banks.count; i++) {
		uint8_t b[SPEC_ALG_SIZE];

		put_le(b, w->banks.alg[i], 2);
		put_le(b + 2, w->banks.size[i], 2);
		rc = writer_put(w, b, sizeof(b));
	}
	if (!rc)
		rc = writer_put(w, "", 1);              /* vendorInfoSize 0 */
	return rc;
}

int evlog_writer_init(struct evlog_writer *w, const uint16_t *alg_ids, size_t nalgs,
		      size_t capacity)
{
	int rc;

	memset(w, 0, sizeof(*w));
	if (capacity > EVLOG_MAX_SIZE)
		return -EINVAL;
	rc = banks_check(alg_ids, nalgs, &w->banks);
	if (rc)
		return rc;
	w->buf = calloc(1, capacity ? capacity : 1);
	if (!w->buf)
		return -ENOMEM;
	w->capacity = capacity;
	rc = writer_header(w);
	if (rc)
		evlog_writer_free(w);
	return rc;
}

void evlog_writer_free(struct evlog_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* Maps each bank of the log to its digest in d[0..n); -EINVAL if not 1:1. */
static int digests_order(const struct evlog_banks *banks, const struct evlog_digest *d,
			 size_t n, const struct evlog_digest **out)
{
	if (n != banks->count)
		return -EINVAL;
	for (uint32_t b = 0; b < banks->count; b++) {
		out[b] = NULL;
		for (size_t i = 0; i < n; i++) {
			if (d[i].alg != banks->alg[b])
				continue;
			if (out[b] || d[i].size != banks->size[b])
				return -EINVAL;
			out[b] = &d[i];
		}
		if (!out[b])
			return -EINVAL;
	}
	return 0;
}

int evlog_append(struct evlog_writer *w, uint32_t pcr, uint32_t type,
		 const struct evlog_digest *digests, size_t ndigests,
		 const void *data, size_t size)
{
	const struct evlog_digest *ord[EVLOG_MAX_BANKS];
	size_t start = w->len;
	int rc;

	if (!w->buf || pcr >= EVLOG_NUM_PCRS || size > UINT32_MAX || (size && !data))
		return -EINVAL;
	rc = digests_order(&w->banks, digests, ndigests, ord);
	if (rc)
		return rc;
	rc = writer_put32(w, pcr);
	rc = rc ? rc : writer_put32(w, type);
	rc = rc ? rc : writer_put32(w, w->banks.count);
	for (uint32_t b = 0; !rc && b < w->banks.count; b++) {
		uint8_t alg[2];

		put_le(alg, ord[b]->alg, 2);
		rc = writer_put(w, alg, sizeof(alg));
		rc = rc ? rc : writer_put(w, ord[b]->bytes, ord[b]->size);
	}
	rc = rc ? rc : writer_put32(w, (uint32_t)size);
	rc = rc ? rc : writer_put(w, data, size);
	if (rc)
		w->len = start;       /* all or nothing */
	return rc;
}

int evlog_digest_data(const struct evlog_writer *w, const void *data, size_t len,
		      struct evlog_digest *digests)
{
	for (uint32_t b = 0; b < w->banks.count; b++) {
		int rc = evlog_hash(w->banks.alg[b], data, len, &digests[b]);

		if (rc)
			return rc;
	}
	return 0;
}

int evlog_append_startup_locality(struct evlog_writer *w, uint8_t locality)
{
	struct evlog_digest zero[EVLOG_MAX_BANKS];
	uint8_t data[sizeof(locality_sig) + 1];

	if (locality != 0 && locality != 3 && locality != 4)
		return -EINVAL;
	memset(zero, 0, sizeof(zero));
	for (uint32_t b = 0; b < w->banks.count; b++) {
		zero[b].alg = w->banks.alg[b];
		zero[b].size = w->banks.size[b];
	}
	memcpy(data, locality_sig, sizeof(locality_sig));
	data[sizeof(locality_sig)] = locality;
	return evlog_append(w, 0, EV_NO_ACTION, zero, w->banks.count, data, sizeof(data));
}

/* ---- parser ----------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int parse_fail(struct evlog_parser *p, const char *field, const char *fmt, ...)
{
	va_list ap;

	p->err.offset = p->pos;
	snprintf(p->err.field, sizeof(p->err.field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->err.reason, sizeof(p->err.reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Consumes n bytes; NULL (and p->err set) if fewer are left. */
static const uint8_t *take(struct evlog_parser *p, size_t n, const char *field)
{
	const uint8_t *b;

	if (!range_fits(p->pos, n, p->len)) {
		parse_fail(p, field, "truncated: need %zu bytes, %zu left", n,
			   p->len - p->pos);
		return NULL;
	}
	b = p->buf + p->pos;
	p->pos += n;
	return b;
}

static int take32(struct evlog_parser *p, const char *field, uint32_t *v)
{
	const uint8_t *b = take(p, 4, field);

	if (!b)
		return -EBADMSG;
	*v = get_le32(b);
	return 0;
}

/* The algorithm list of the Spec ID event, into p->banks. */
static int parse_spec_algs(struct evlog_parser *p, uint32_t n)
{
	char field[48];

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *b;
		uint16_t alg, size;

		snprintf(field, sizeof(field), "specId.digestSizes[%u]", i);
		b = take(p, SPEC_ALG_SIZE, field);
		if (!b)
			return -EBADMSG;
		alg = get_le16(b);
		size = get_le16(b + 2);
		p->pos -= SPEC_ALG_SIZE;   /* report the entry's own offset */
		if (!evlog_alg_size(alg))
			return parse_fail(p, field, "unsupported algorithm 0x%04x", alg);
		if (size != evlog_alg_size(alg))
			return parse_fail(p, field, "digest size %u for %s", size,
					  evlog_alg_name(alg));
		for (uint32_t j = 0; j < i; j++)
			if (p->banks.alg[j] == alg)
				return parse_fail(p, field, "duplicate algorithm 0x%04x", alg);
		p->pos += SPEC_ALG_SIZE;
		p->banks.alg[i] = alg;
		p->banks.size[i] = size;
		p->banks.count = i + 1;
	}
	return 0;
}

/* TCG_EfiSpecIDEvent occupying exactly [p->pos, end). */
static int parse_spec_id(struct evlog_parser *p, size_t end)
{
	const uint8_t *s;
	const uint8_t *vendor;
	uint32_t nalgs;
	int rc;

	s = take(p, SPEC_FIXED, "specId");
	if (!s)
		return -EBADMSG;
	p->pos -= SPEC_FIXED;
	if (memcmp(s, spec_id_sig, sizeof(spec_id_sig)))
		return parse_fail(p, "specId.signature", "not \"Spec ID Event03\"");
	if (s[20] != 0 || s[21] != 2)
		return parse_fail(p, "specId.specVersion", "version %u.%u, want 2.0",
				  s[21], s[20]);
	if (s[23] != 1 && s[23] != 2)
		return parse_fail(p, "specId.uintnSize", "%u, want 1 or 2", s[23]);
	p->platform_class = get_le32(s + 16);
	p->pos += SPEC_FIXED - 4;
	nalgs = get_le32(s + 24);
	if (nalgs == 0 || nalgs > EVLOG_MAX_BANKS)
		return parse_fail(p, "specId.numberOfAlgorithms",
				  "%u algorithms, 1..%u supported", nalgs, EVLOG_MAX_BANKS);
	p->pos += 4;
	rc = parse_spec_algs(p, nalgs);
	if (rc)
		return rc;
	vendor = take(p, 1, "specId.vendorInfoSize");
	if (!vendor || !take(p, *vendor, "specId.vendorInfo"))
		return -EBADMSG;
	if (p->pos != end)
		return parse_fail(p, "header.eventSize", "%zu bytes left inside the Spec ID event",
				  end - p->pos);
	return 0;
}

int evlog_parse_begin(struct evlog_parser *p, const uint8_t *buf, size_t len)
{
	static const uint8_t zero20[20];
	const uint8_t *h;
	uint32_t size;
	int rc;

	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	p->startup_locality = -1;
	h = take(p, HDR_FIXED, "header");
	if (!h)
		return -EBADMSG;
	p->pos = 0;
	if (get_le32(h) != 0)
		return parse_fail(p, "header.pcrIndex", "%u, want 0", get_le32(h));
	p->pos = 4;
	if (get_le32(h + 4) != EV_NO_ACTION)
		return parse_fail(p, "header.eventType", "0x%x, want EV_NO_ACTION",
				  get_le32(h + 4));
	p->pos = 8;
	if (memcmp(h + 8, zero20, sizeof(zero20)))
		return parse_fail(p, "header.digest", "not zero");
	p->pos = 28;
	size = get_le32(h + 28);
	if (!range_fits(HDR_FIXED, size, len))
		return parse_fail(p, "header.eventSize", "%u bytes, %zu left", size,
				  len - HDR_FIXED);
	/* The Spec ID event is parsed inside its own size, not the log's. */
	p->pos = HDR_FIXED;
	p->len = HDR_FIXED + (size_t)size;
	rc = parse_spec_id(p, p->len);
	p->len = len;
	return rc;
}

/* The digest list of one event, stored in header order into ev. */
static int parse_digests(struct evlog_parser *p, struct evlog_event *ev)
{
	uint32_t seen = 0, count;
	char field[48];

	snprintf(field, sizeof(field), "event[%u].digests.count", ev->index);
	if (take32(p, field, &count))
		return -EBADMSG;
	if (count != p->banks.count) {
		p->pos -= 4;
		return parse_fail(p, field, "%u digests, the header has %u banks", count,
				  p->banks.count);
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *b;
		uint32_t bank;
		uint16_t alg;

		snprintf(field, sizeof(field), "event[%u].digests[%u].hashAlg", ev->index, i);
		b = take(p, 2, field);
		if (!b)
			return -EBADMSG;
		alg = get_le16(b);
		for (bank = 0; bank < p->banks.count && p->banks.alg[bank] != alg; bank++)
			;
		p->pos -= 2;
		if (bank == p->banks.count)
			return parse_fail(p, field, "algorithm 0x%04x not in the header", alg);
		if (seen & (1u << bank))
			return parse_fail(p, field, "second digest for 0x%04x", alg);
		p->pos += 2;
		seen |= 1u << bank;
		snprintf(field, sizeof(field), "event[%u].digests[%u].digest", ev->index, i);
		b = take(p, p->banks.size[bank], field);
		if (!b)
			return -EBADMSG;
		ev->digests[bank].alg = alg;
		ev->digests[bank].size = p->banks.size[bank];
		memcpy(ev->digests[bank].bytes, b, p->banks.size[bank]);
	}
	return 0;
}

/* EV_NO_ACTION events: StartupLocality rules (PFP 10.4.5.3). */
static int parse_no_action(struct evlog_parser *p, const struct evlog_event *ev)
{
	char field[48];

	if (ev->data_size < sizeof(locality_sig) ||
	    memcmp(ev->data, locality_sig, sizeof(locality_sig)))
		return 0;             /* other EV_NO_ACTION data is informational */
	snprintf(field, sizeof(field), "event[%u].StartupLocality", ev->index);
	p->pos = ev->offset;
	if (ev->pcr != 0 || ev->data_size != sizeof(locality_sig) + 1)
		return parse_fail(p, field, "must be PCR 0 with 17 bytes of data");
	if (p->startup_locality >= 0 || p->pcr0_extended)
		return parse_fail(p, field, "after PCR 0 started");
	if (ev->data[16] != 0 && ev->data[16] != 3 && ev->data[16] != 4)
		return parse_fail(p, field, "locality %u", ev->data[16]);
	p->startup_locality = ev->data[16];
	return 1;
}

static int parse_event_head(struct evlog_parser *p, struct evlog_event *ev)
{
	char field[48];

	snprintf(field, sizeof(field), "event[%u].pcrIndex", ev->index);
	if (take32(p, field, &ev->pcr))
		return -EBADMSG;
	if (ev->pcr >= EVLOG_NUM_PCRS) {
		p->pos -= 4;
		return parse_fail(p, field, "PCR %u, want 0..%u", ev->pcr, EVLOG_NUM_PCRS - 1);
	}
	snprintf(field, sizeof(field), "event[%u].eventType", ev->index);
	return take32(p, field, &ev->type);
}

int evlog_parse_next(struct evlog_parser *p, struct evlog_event *ev)
{
	char field[48];
	int rc;

	if (p->pos == p->len)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->offset = p->pos;
	ev->index = p->next_index;
	rc = parse_event_head(p, ev);
	rc = rc ? rc : parse_digests(p, ev);
	if (rc)
		return rc;
	snprintf(field, sizeof(field), "event[%u].eventSize", ev->index);
	if (take32(p, field, &ev->data_size))
		return -EBADMSG;
	snprintf(field, sizeof(field), "event[%u].event", ev->index);
	ev->data = take(p, ev->data_size, field);
	if (!ev->data)
		return -EBADMSG;
	if (ev->type == EV_NO_ACTION) {
		size_t end = p->pos;

		rc = parse_no_action(p, ev);
		if (rc < 0)
			return rc;
		p->pos = end;
	} else if (ev->pcr == 0) {
		p->pcr0_extended = 1;
	}
	p->next_index++;
	return 1;
}

const char *evlog_strerror(const struct evlog_error *err, char *buf, size_t size)
{
	snprintf(buf, size, "offset %zu: %s: %s", err->offset, err->field, err->reason);
	return buf;
}

/* ---- replay ----------------------------------------------------------- */

static int replay_extend(struct evlog_pcrs *out, const struct evlog_event *ev)
{
	for (uint32_t b = 0; b < out->banks.count; b++) {
		uint8_t cat[2 * EVLOG_MAX_DIGEST];
		struct evlog_digest d;
		uint16_t n = out->banks.size[b];
		int rc;

		memcpy(cat, out->value[b][ev->pcr], n);
		memcpy(cat + n, ev->digests[b].bytes, n);
		rc = evlog_hash(out->banks.alg[b], cat, 2u * n, &d);
		if (rc)
			return rc;
		memcpy(out->value[b][ev->pcr], d.bytes, n);
	}
	out->extended |= 1u << ev->pcr;
	return 0;
}

int evlog_replay(const uint8_t *buf, size_t len, struct evlog_pcrs *out,
		 struct evlog_error *err)
{
	struct evlog_parser p;
	struct evlog_event ev;
	int locality_done = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = evlog_parse_begin(&p, buf, len);
	out->banks = p.banks;
	/* PC Client PTP: the DRTM PCRs 17-22 reset to all ones at Startup. */
	for (uint32_t b = 0; b < p.banks.count; b++)
		for (uint32_t pcr = 17; pcr <= 22; pcr++)
			memset(out->value[b][pcr], 0xFF, p.banks.size[b]);
	while (!rc && (rc = evlog_parse_next(&p, &ev)) == 1) {
		out->events++;
		rc = 0;
		/* The parser guarantees StartupLocality precedes PCR 0's extends. */
		if (p.startup_locality >= 0 && !locality_done) {
			for (uint32_t b = 0; b < p.banks.count; b++)
				out->value[b][0][p.banks.size[b] - 1] =
					(uint8_t)p.startup_locality;
			locality_done = 1;
		}
		if (ev.type != EV_NO_ACTION && replay_extend(out, &ev))
			return -EIO;
	}
	if (rc == 0)
		return 0;
	if (err)
		*err = p.err;
	log_debug("event log rejected at offset %zu: %s: %s", p.err.offset,
		  p.err.field, p.err.reason);
	return -EBADMSG;
}
