/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event log: parsed with attest/format/eventlog.c (bounded), its shape checked
 * against the launcher's sequence (attest/vtpm/measure.h), replayed in every bank
 * against the quoted PCR values, and every payload that is the measured data
 * re-hashed.  The shape check is what catches a reordered log: moving events
 * between PCRs leaves every PCR value unchanged.
 */
#include <errno.h>
#include <string.h>

#include "attest/vtpm/measure.h"
#include "attest/verify/verify_priv.h"
#include "core/util.h"

#define ITEM_RESTORE   (-3)
#define ITEM_SECSTATE  (-2)
#define ITEM_SEPARATOR (-1)

/* How an event's data relates to its digests. */
enum payload {
	PL_HASHED,       /* digest = H(data) */
	PL_SEPARATOR,    /* data 00 00 00 00, digest = H(data) */
	PL_LABEL,        /* data = a fixed label, digest of content */
	PL_IMAGE_LOAD,   /* UEFI_IMAGE_LOAD_EVENT, digest of the image */
	PL_CMDLINE,      /* "kernel_cmdline: " CMD NUL, digest = H(CMD) */
};

/* The launcher's sequence (measure.h); (pcr, type) is unique per row. */
static const struct expected {
	uint32_t pcr, type;
	int item;              /* enum manifest_item or ITEM_* */
	enum payload payload;
	const char *label;     /* for PL_LABEL */
	int optional;
} expected[] = {
	{ MEASURE_PCR_VMM, EV_POST_CODE, MANIFEST_VMM, PL_HASHED, NULL, 0 },
	{ MEASURE_PCR_CONFIG, EV_PLATFORM_CONFIG_FLAGS, MANIFEST_CONFIG, PL_HASHED, NULL, 0 },
	{ MEASURE_PCR_ACPI, EV_TABLE_OF_DEVICES, MANIFEST_ACPI, PL_LABEL, MEASURE_ACPI_LABEL, 0 },
	{ MEASURE_PCR_SECURITY, EV_PLATFORM_CONFIG_FLAGS, ITEM_SECSTATE, PL_HASHED, NULL, 0 },
	{ 0, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 1, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 2, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 3, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 4, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 5, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 6, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ 7, EV_SEPARATOR, ITEM_SEPARATOR, PL_SEPARATOR, NULL, 0 },
	{ MEASURE_PCR_KERNEL, EV_EFI_BOOT_SERVICES_APPLICATION, MANIFEST_KERNEL, PL_IMAGE_LOAD,
	  NULL, 0 },
	{ MEASURE_PCR_CMDLINE, EV_IPL, MANIFEST_CMDLINE, PL_CMDLINE, NULL, 0 },
	{ MEASURE_PCR_INITRD, EV_IPL, MANIFEST_INITRD, PL_LABEL, MEASURE_INITRD_LABEL, 1 },
	/* after the boot, once per restore from a snapshot (measure.h) */
	{ MEASURE_PCR_SECURITY, EV_EVENT_TAG, ITEM_RESTORE, PL_HASHED, NULL, 1 },
};
#define ROW_RESTORE (ARRAY_SIZE(expected) - 1)

static int expected_row(const struct evlog_event *ev)
{
	for (size_t k = 0; k < ARRAY_SIZE(expected); k++)
		if (expected[k].pcr == ev->pcr && expected[k].type == ev->type)
			return (int)k;
	return -1;
}

static int log_read(struct verify_work *w, struct verify_result *res)
{
	struct evlog_parser p;
	char why[200];
	int rc;

	rc = evlog_parse_begin(&p, w->b.event_log.data, w->b.event_log.len);
	w->log_header = rc ? 0 : p.pos;
	while (!rc && (rc = evlog_parse_next(&p, &w->ev[w->nev])) == 1) {
		if (++w->nev == ARRAY_SIZE(w->ev)) {
			verify_fail(res, VR_EVENT_UNEXPECTED, "more than %zu events", w->nev);
			return -1;
		}
		rc = 0;
	}
	if (rc < 0) {
		verify_fail(res, VR_LOG_MALFORMED, "%s", evlog_strerror(&p.err, why, sizeof(why)));
		return -1;
	}
	w->log_banks = p.banks;
	res->events = (uint32_t)w->nev;
	return 0;
}

/*
 * The Spec ID event is not extended into any PCR, so its unmeasured fields
 * (platform class, spec version, errata, uintn size, vendor info) could be
 * anything: only the launcher's own header (evlog_writer_init() for the
 * log's banks) is the canonical one.
 */
static void header_check(struct verify_work *w, struct verify_result *res)
{
	struct evlog_writer ref;
	int rc = evlog_writer_init(&ref, w->log_banks.alg, w->log_banks.count, 512);

	if (rc == -ENOMEM) {
		verify_fail(res, VR_INTERNAL, "out of memory");
		return;
	}
	if (rc || ref.len != w->log_header || memcmp(ref.buf, w->b.event_log.data, ref.len))
		verify_fail(res, VR_BUNDLE_NOT_CANONICAL, "event log: the Spec ID event is not "
			    "the launcher's for its banks");
	evlog_writer_free(&ref);
}

/* The log's banks are the bundle's (and so the quote's), as a set. */
static int banks_check(struct verify_work *w, struct verify_result *res)
{
	const struct evlog_banks *a = &w->log_banks, *b = &w->b.pcrs.banks;

	for (uint32_t i = 0; i < a->count && a->count == b->count; i++) {
		uint32_t j;

		for (j = 0; j < b->count && b->alg[j] != a->alg[i]; j++)
			;
		if (j == b->count)
			break;
		if (i + 1 == a->count)
			return 0;
	}
	verify_fail(res, VR_LOG_BANKS, "event log banks differ from the quoted banks");
	return -1;
}

/* Unexpected or repeated rows first, then missing ones, then the order. */
static int shape_check(struct verify_work *w, struct verify_result *res)
{
	int count[ARRAY_SIZE(expected)] = { 0 }, last = -1, ordered = 1;

	for (size_t i = 0; i < w->nev; i++) {
		int k = expected_row(&w->ev[i]);

		if (k < 0 || (count[k]++ && k != (int)ROW_RESTORE) ||
		    count[k] > VERIFY_MAX_RESTORES) {
			verify_fail(res, VR_EVENT_UNEXPECTED, "event %zu (PCR %u, type 0x%x)", i,
				    w->ev[i].pcr, w->ev[i].type);
			return -1;
		}
		/* boot rows once each in order; restores only after all of them */
		ordered &= k > last || (k == last && k == (int)ROW_RESTORE);
		last = k;
		if (k == (int)ROW_RESTORE)
			w->restore[w->nrestore++] = (int)i;
		else if (expected[k].item >= 0)
			w->item[expected[k].item] = (int)i;
		else if (expected[k].item == ITEM_SECSTATE)
			w->secstate = (int)i;
	}
	for (size_t k = 0; k < ARRAY_SIZE(expected); k++)
		if (!count[k] && !expected[k].optional) {
			verify_fail(res, VR_EVENT_MISSING, "no event for PCR %u type 0x%x",
				    expected[k].pcr, expected[k].type);
			return -1;
		}
	if (!ordered)
		verify_fail(res, VR_EVENT_ORDER, "events not in the launcher's order");
	return ordered ? 0 : -1;
}

static int bundle_bank(const struct bundle_pcrs *p, uint16_t alg)
{
	for (uint32_t i = 0; i < p->banks.count; i++)
		if (p->banks.alg[i] == alg)
			return (int)i;
	return -1;
}

/*
 * The replay of the parsed events (shape already checked: no EV_NO_ACTION,
 * so every PCR starts at its reset value, zero or, for PCRs 17-22, all ones
 * as evlog_replay() does): v = H(v || digest) per bank, with digests
 * fetched once (eventlog.c's evlog_replay() looks the digest up by name per
 * extend, which dominated the verifier's time).
 */
static int replay(const struct verify_work *w, uint8_t (*v)[EVLOG_NUM_PCRS][EVLOG_MAX_DIGEST],
		  uint32_t *extended)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = mc != NULL;

	*extended = 0;
	for (size_t i = 0; ok && i < w->nev; i++) {
		const struct evlog_event *ev = &w->ev[i];

		for (uint32_t b = 0; ok && b < w->log_banks.count; b++) {
			uint8_t *pcr = v[b][ev->pcr];
			size_t n = w->log_banks.size[b];

			ok = EVP_DigestInit_ex(mc, verify_md(w->log_banks.alg[b]), NULL) &&
			     EVP_DigestUpdate(mc, pcr, n) &&
			     EVP_DigestUpdate(mc, ev->digests[b].bytes, n) &&
			     EVP_DigestFinal_ex(mc, pcr, NULL);
		}
		*extended |= 1u << ev->pcr;
	}
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

/* Every quoted PCR of every bank equals the log's replay. */
static void replay_check(struct verify_work *w, struct verify_result *res)
{
	static uint8_t v[EVLOG_MAX_BANKS][EVLOG_NUM_PCRS][EVLOG_MAX_DIGEST];
	const struct bundle_pcrs *p = &w->b.pcrs;
	uint32_t extended;

	memset(v, 0, sizeof(v));
	/* PC Client PTP: the DRTM PCRs 17-22 reset to all ones at Startup. */
	for (uint32_t b = 0; b < EVLOG_MAX_BANKS; b++)
		for (uint32_t pcr = 17; pcr <= 22; pcr++)
			memset(v[b][pcr], 0xff, sizeof(v[b][pcr]));
	if (replay(w, v, &extended)) {
		verify_fail(res, VR_INTERNAL, "replay failed");
		return;
	}
	for (uint32_t i = 0; i < w->log_banks.count; i++) {
		int b = bundle_bank(p, w->log_banks.alg[i]);

		if (b < 0 || (extended & ~p->mask[b])) {
			verify_fail(res, VR_LOG_REPLAY, "the log extends PCRs that were not quoted");
			return;
		}
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			if (!(p->mask[b] & (1u << pcr)) ||
			    !memcmp(v[i][pcr], p->value[b][pcr], w->log_banks.size[i]))
				continue;
			verify_fail(res, VR_LOG_REPLAY, "%s PCR %u: replay differs from the quote",
				    evlog_alg_name(w->log_banks.alg[i]), pcr);
			return;
		}
	}
}

/* UEFI_IMAGE_LOAD_EVENT as measure.c writes it: only the length may vary. */
static int image_load_ok(const struct evlog_event *ev)
{
	static const uint8_t zero[8];

	return ev->data_size == 32 && !memcmp(ev->data, zero, 8) &&
	       !memcmp(ev->data + 16, zero, 8) && !memcmp(ev->data + 24, zero, 8);
}

/* The bytes whose hash the digests must be, or NULL if the data is not the digest's input. */
static const uint8_t *hashed_part(const struct evlog_event *ev, enum payload pl, size_t *len)
{
	static const uint8_t separator[4];
	size_t pre = strlen(MEASURE_CMDLINE_PREFIX);

	*len = ev->data_size;
	switch (pl) {
	case PL_SEPARATOR:
		return ev->data_size == sizeof(separator) &&
		       !memcmp(ev->data, separator, sizeof(separator)) ? ev->data : NULL;
	case PL_CMDLINE:
		if (ev->data_size <= pre || memcmp(ev->data, MEASURE_CMDLINE_PREFIX, pre) ||
		    ev->data[ev->data_size - 1] || memchr(ev->data + pre, 0, ev->data_size - pre - 1))
			return NULL;
		*len = ev->data_size - pre - 1;
		return ev->data + pre;
	default:
		return ev->data;
	}
}

/* Data events hash to their digests in every bank; others carry their fixed form. */
static void payload_check(struct verify_work *w, struct verify_result *res)
{
	for (size_t i = 0; i < w->nev; i++) {
		const struct evlog_event *ev = &w->ev[i];
		const struct expected *x = &expected[expected_row(ev)];
		const uint8_t *data = NULL;
		size_t len = 0;
		int bad;

		if (x->payload == PL_LABEL)
			bad = ev->data_size != strlen(x->label) ||
			      memcmp(ev->data, x->label, ev->data_size);
		else if (x->payload == PL_IMAGE_LOAD)
			bad = !image_load_ok(ev);
		else
			bad = !(data = hashed_part(ev, x->payload, &len));
		for (uint32_t b = 0; data && !bad && b < w->log_banks.count; b++) {
			uint8_t d[EVP_MAX_MD_SIZE];

			bad = !EVP_Digest(data, len, d, NULL, verify_md(w->log_banks.alg[b]), NULL) ||
			      memcmp(d, ev->digests[b].bytes, w->log_banks.size[b]);
		}
		if (bad)
			verify_fail(res, VR_EVENT_PAYLOAD, "event %zu (PCR %u): payload does not "
				    "match its digest", i, ev->pcr);
	}
}

int verify_log(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_work *w = &ctx->w;

	if (log_read(w, res))
		return -1;
	header_check(w, res);
	if (banks_check(w, res) || shape_check(w, res))
		return -1;
	replay_check(w, res);
	payload_check(w, res);
	return 0;
}
