/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state stream's framing and whole-stream validation (core/snapshot.c):
 * a whole stream passes; every record truncated, oversized, reordered,
 * duplicated or missing is refused, and the log line names the record.
 * log_msg is wrapped (-Wl,--wrap) to keep the last error line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/snapshot.h"

static char last_log[512];

void __wrap_log_msg(enum log_level level, const char *func, const char *fmt, ...);
void __wrap_log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	(void)func;
	if (level != LOG_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

#define NVCPUS 2
#define MEM (64ULL << 20)

static const struct snap_limits lim = { .nvcpus = NVCPUS, .mem_bytes = MEM };

/* A stream under construction: records kept apart so a test can drop,
 * swap, duplicate or resize any of them before it is serialised. */
struct trec {
	struct snap_rec r;
	uint8_t *p;
};
static struct trec recs[160];
static size_t nrecs;
static uint8_t *buf;
static size_t buflen;
static int mig;             /* serialise() a migration stream */

static void add(uint32_t type, uint32_t index, uint64_t len)
{
	recs[nrecs].r = (struct snap_rec){ type, index, len };
	recs[nrecs].p = calloc(1, len ? len : 1);
	assert_non_null(recs[nrecs].p);
	nrecs++;
}

static void add_mem(uint32_t seq, uint64_t gpa, uint64_t pages)
{
	add(SNAP_REC_MEM, seq, 8 + pages);
	memcpy(recs[nrecs - 1].p, &gpa, 8);
	recs[nrecs - 1].p[8] = 0xAB;
}

/* META, VCPU 0..1, IRQCHIP, PIT, CLOCK, DEV 0, DEV 3, MEM 0..1, END. */
static int setup(void **state)
{
	struct snap_meta m = { .nvcpus = NVCPUS, .ndevs = 2, .mem_bytes = MEM };

	(void)state;
	nrecs = 0;
	add(SNAP_REC_META, 0, sizeof(m));
	memcpy(recs[0].p, &m, sizeof(m));
	add(SNAP_REC_VCPU, 0, 5000);
	add(SNAP_REC_VCPU, 1, 5000);
	add(SNAP_REC_IRQCHIP, 0, 1560);
	add(SNAP_REC_PIT, 0, 112);
	add(SNAP_REC_CLOCK, 0, 48);
	add(SNAP_REC_DEV, 0, 300);
	add(SNAP_REC_DEV, 3, 300);
	add_mem(0, 0, 2 * SNAP_PAGE);
	add_mem(1, 0x100000, 16 * SNAP_PAGE);
	add(SNAP_REC_END, 0, 0);
	last_log[0] = 0;
	mig = 0;
	return 0;
}

/* A migration stream: round 0 (two runs), round 1 (one page again, now
 * zero), then META .. DEV 3 and END as setup's, without MEM. */
static int setup_mig(void **state)
{
	setup(state);
	for (size_t i = nrecs; i-- > 0;) {
		if (recs[i].r.type == SNAP_REC_MEM) {
			free(recs[i].p);
			memmove(&recs[i], &recs[i + 1], (nrecs - i - 1) * sizeof(recs[0]));
			nrecs--;
		}
	}
	memmove(&recs[5], &recs[0], nrecs * sizeof(recs[0]));
	nrecs += 5;
	recs[0] = (struct trec){ { SNAP_REC_PAGES, 0, 8 + 2 * SNAP_PAGE },
				 calloc(1, 8 + 2 * SNAP_PAGE) };
	recs[0].p[8] = 0xAB;
	recs[0].p[8 + SNAP_PAGE] = 0xAC;
	recs[1] = (struct trec){ { SNAP_REC_PAGES, 0, 8 + SNAP_PAGE },
				 calloc(1, 8 + SNAP_PAGE) };
	memcpy(recs[1].p, &(uint64_t){ 0x100000 }, 8);
	recs[1].p[8] = 0xAB;
	recs[2] = (struct trec){ { SNAP_REC_ROUND_END, 0, 0 }, calloc(1, 1) };
	recs[3] = (struct trec){ { SNAP_REC_PAGES, 1, 8 + SNAP_PAGE },
				 calloc(1, 8 + SNAP_PAGE) };
	recs[4] = (struct trec){ { SNAP_REC_ROUND_END, 1, 0 }, calloc(1, 1) };
	mig = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nrecs; i++)
		free(recs[i].p);
	free(buf);
	buf = NULL;
	return 0;
}

static void serialise(void)
{
	size_t off = SNAP_MAGIC_LEN;

	buflen = SNAP_MAGIC_LEN;
	for (size_t i = 0; i < nrecs; i++)
		buflen += 16 + recs[i].r.len;
	free(buf);
	buf = malloc(buflen);
	assert_non_null(buf);
	memcpy(buf, mig ? SNAP_MIG_MAGIC : SNAP_MAGIC, SNAP_MAGIC_LEN);
	for (size_t i = 0; i < nrecs; i++) {
		snap_rec_encode(&recs[i].r, buf + off);
		memcpy(buf + off + 16, recs[i].p, recs[i].r.len);
		off += 16 + recs[i].r.len;
	}
}

static size_t seen;

static int count_cb(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	(void)ctx;
	if (r->type == SNAP_REC_MEM || r->type == SNAP_REC_PAGES)
		assert_null(p);
	else
		assert_non_null(p);
	seen++;
	return 0;
}

/* The stream serialised, cut to LEN bytes, checked. */
static int check_len(size_t len)
{
	return (mig ? snap_mig_stream_check : snap_stream_check)(buf, len, &lim, NULL, NULL);
}

static int check(void)
{
	serialise();
	last_log[0] = 0;
	return check_len(buflen);
}

static void drop(size_t i)
{
	free(recs[i].p);
	memmove(&recs[i], &recs[i + 1], (nrecs - i - 1) * sizeof(recs[0]));
	nrecs--;
}

static void dup_rec(size_t i)
{
	memmove(&recs[i + 1], &recs[i], (nrecs - i) * sizeof(recs[0]));
	recs[i + 1].p = malloc(recs[i].r.len ? recs[i].r.len : 1);
	memcpy(recs[i + 1].p, recs[i].p, recs[i].r.len);
	nrecs++;
}

static void swap(size_t i, size_t j)
{
	struct trec t = recs[i];

	recs[i] = recs[j];
	recs[j] = t;
}

static void assert_log_names(const char *what)
{
	if (!strstr(last_log, what))
		fail_msg("log '%s' does not name '%s'", last_log, what);
}

static void test_whole_stream(void **state)
{
	struct snap_frame_state st = { 0 };
	struct snap_rec r;
	size_t off = SNAP_MAGIC_LEN;
	int rc = 0;

	(void)state;
	serialise();
	seen = 0;
	assert_int_equal(snap_stream_check(buf, buflen, &lim, count_cb, NULL), 0);
	assert_int_equal(seen, nrecs);
	/* The launcher's framing alone finds the same end. */
	for (size_t i = 0; i < nrecs; i++) {
		snap_rec_decode(buf + off, &r);
		rc = snap_frame_check(&r, &lim, &st);
		off += 16 + r.len;
		if (i + 1 < nrecs)
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, SNAP_FRAME_END);
	assert_int_equal(off, buflen);
	assert_int_equal(st.mem_total, 18 * SNAP_PAGE);
}

/* The VMM's way: a reader whose MEM pages land in guest memory. */
struct rd_ctx {
	size_t off;
	uint8_t *ram;
	int records;
};

static int rd_read(void *ctx, void *dst, size_t n)
{
	struct rd_ctx *c = ctx;

	if (n > buflen - c->off)
		return -ENODATA;
	if (dst)
		memcpy(dst, buf + c->off, n);
	c->off += n;
	return 0;
}

static void *rd_mem(void *ctx, uint64_t gpa, uint64_t n)
{
	struct rd_ctx *c = ctx;

	assert_true(gpa + n <= MEM);
	return c->ram + gpa;
}

static int rd_record(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	struct rd_ctx *c = ctx;

	(void)r;
	(void)p;
	c->records++;
	return 0;
}

static void test_reader_places_pages(void **state)
{
	struct rd_ctx c = { .ram = calloc(1, MEM) };
	struct snap_reader rd = { rd_read, rd_record, rd_mem, &c, 0 };

	(void)state;
	assert_non_null(c.ram);
	serialise();
	assert_int_equal(snap_stream_read(&rd, &lim), 0);
	assert_int_equal(c.records, (int)nrecs);
	assert_int_equal(c.off, buflen);
	assert_int_equal(c.ram[0], 0xAB);            /* MEM[0] at gpa 0 */
	assert_int_equal(c.ram[0x100000], 0xAB);     /* MEM[1] at 1 MiB */
	assert_int_equal(c.ram[0x1000], 0);
	/* a stream cut short: refused, named */
	c.off = 0;
	buflen -= 17;
	assert_int_equal(snap_stream_read(&rd, &lim), -EBADMSG);
	assert_log_names("truncated");
	free(c.ram);
}

static void test_bad_header(void **state)
{
	(void)state;
	serialise();
	buf[7] = 2;
	assert_int_equal(snap_stream_check(buf, buflen, &lim, NULL, NULL), -EBADMSG);
	assert_log_names("bad header");
	assert_int_equal(snap_stream_check(buf, 3, &lim, NULL, NULL), -EBADMSG);
}

/* Every record cut in its header, and in its payload (either stream). */
static void test_truncated(void **state)
{
	size_t off = SNAP_MAGIC_LEN;

	(void)state;
	serialise();
	for (size_t i = 0; i < nrecs; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s[%u]", snap_rec_name(recs[i].r.type),
			 recs[i].r.index);
		last_log[0] = 0;
		assert_int_equal(check_len(off + 7), -EBADMSG);
		assert_log_names("truncated");
		if (recs[i].r.len) {
			last_log[0] = 0;
			assert_int_equal(check_len(off + 16 + recs[i].r.len - 1), -EBADMSG);
			assert_log_names(name);
			assert_log_names("truncated");
		}
		off += 16 + recs[i].r.len;
	}
	assert_int_equal(off, buflen);
}

/* Every record one byte (or a page) over its type's bound. */
static void test_oversized(void **state)
{
	static const struct { uint32_t type; uint64_t max; } t[] = {
		{ SNAP_REC_VCPU, SNAP_VCPU_MAX }, { SNAP_REC_IRQCHIP, SNAP_IRQCHIP_MAX },
		{ SNAP_REC_PIT, SNAP_PIT_MAX }, { SNAP_REC_CLOCK, SNAP_CLOCK_MAX },
		{ SNAP_REC_DEV, SNAP_DEV_MAX },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(t); k++) {
		for (size_t i = 0; i < nrecs; i++) {
			if (recs[i].r.type != t[k].type)
				continue;
			uint64_t keep = recs[i].r.len;
			uint8_t *kp = recs[i].p;

			recs[i].p = calloc(1, t[k].max + 1);
			recs[i].r.len = t[k].max;
			assert_int_equal(check(), 0);
			recs[i].r.len = t[k].max + 1;
			assert_int_equal(check(), -EFBIG);
			assert_log_names(snap_rec_name(t[k].type));
			free(recs[i].p);
			recs[i].p = kp;
			recs[i].r.len = keep;
			break;
		}
	}
	/* META has one size; END none. */
	recs[0].r.len++;
	recs[0].p = realloc(recs[0].p, recs[0].r.len);
	assert_int_equal(check(), -EFBIG);
	assert_log_names("META");
	recs[0].r.len -= 2;
	assert_int_equal(check(), -EBADMSG);
	recs[0].r.len++;
	recs[nrecs - 1].r.len = 1;
	assert_int_equal(check(), -EFBIG);
	assert_log_names("END");
}

/* MEM: more pages than the guest has, pages not whole, a huge length. */
static void test_oversized_mem(void **state)
{
	struct snap_limits small = { .nvcpus = 1, .mem_bytes = 2 * SNAP_PAGE };
	struct snap_frame_state st = { .last_type = SNAP_REC_CLOCK };
	struct snap_rec r = { SNAP_REC_MEM, 0, 8 + 3 * SNAP_PAGE };

	(void)state;
	assert_int_equal(snap_frame_check(&r, &small, &st), -EFBIG);
	r.len = 8 + 2 * SNAP_PAGE;
	assert_int_equal(snap_frame_check(&r, &small, &st), 0);
	r.index = 1;
	r.len = 8 + SNAP_PAGE;      /* the guest has no more */
	assert_int_equal(snap_frame_check(&r, &small, &st), -EFBIG);
	assert_log_names("MEM[1]");
	r.len = 8 + 100;
	assert_int_equal(snap_frame_check(&r, &lim, &st), -EFBIG);
	r.len = UINT64_MAX;
	assert_int_equal(snap_frame_check(&r, &lim, &st), -EFBIG);
	r.len = 8;
	assert_int_equal(snap_frame_check(&r, &lim, &st), -EFBIG);
}

static void test_reordered(void **state)
{
	(void)state;
	swap(3, 4);                          /* PIT before IRQCHIP */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("IRQCHIP");
	swap(3, 4);
	swap(1, 2);                          /* VCPU 1 before VCPU 0 */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("VCPU[1]");
	swap(1, 2);
	swap(6, 7);                          /* DEV 3 before DEV 0 */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("DEV[0]");
	swap(6, 7);
	swap(7, 8);                          /* MEM before a DEV */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("DEV[3]");
	swap(7, 8);
	swap(0, 1);                          /* META not first */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("VCPU[0]");
	swap(0, 1);
	swap(8, 9);                          /* MEM runs out of order */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("MEM[1]");
	swap(8, 9);
	/* the gpa going down, with the sequence right */
	memcpy(recs[9].p, &(uint64_t){ 0 }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("below the previous run");
	memcpy(recs[9].p, &(uint64_t){ 0x100000 }, 8);
	assert_int_equal(check(), 0);
}

static void test_duplicated(void **state)
{
	(void)state;
	for (size_t i = 0; i + 1 < nrecs; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s[%u]", snap_rec_name(recs[i].r.type),
			 recs[i].r.index);
		dup_rec(i);
		assert_int_equal(check(), -EBADMSG);
		assert_log_names(name);
		drop(i + 1);
	}
	/* two ENDs: the second is after END */
	dup_rec(nrecs - 1);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("after END");
	drop(nrecs - 1);
	assert_int_equal(check(), 0);
}

/* Each required record left out: META, each VCPU, IRQCHIP, PIT, CLOCK, END,
 * a DEV that META announced, a MEM in the sequence. */
static void test_missing(void **state)
{
	static const char *const what[] = {
		"META", "VCPU[1]", "VCPU[1]", "IRQCHIP", "PIT", "CLOCK",
		"DEV records", "DEV records", "MEM[1]", NULL, "no END",
	};

	(void)state;
	assert_int_equal(nrecs, ARRAY_SIZE(what));
	for (size_t i = 0; i < nrecs; i++) {
		struct trec keep = recs[i];

		if (!what[i])
			continue;   /* the last MEM run may go: its pages are zero */
		memmove(&recs[i], &recs[i + 1], (nrecs - i - 1) * sizeof(recs[0]));
		nrecs--;
		assert_int_equal(check(), -EBADMSG);
		assert_log_names(what[i]);
		memmove(&recs[i + 1], &recs[i], (nrecs - i) * sizeof(recs[0]));
		recs[i] = keep;
		nrecs++;
	}
	assert_int_equal(check(), 0);
}

static void test_after_end(void **state)
{
	(void)state;
	serialise();
	buf = realloc(buf, buflen + 1);
	buf[buflen] = 0;
	assert_int_equal(snap_stream_check(buf, buflen + 1, &lim, NULL, NULL), -EBADMSG);
	assert_log_names("after END");
}

static void test_mem_range(void **state)
{
	struct snap_limits big = { .nvcpus = 1, .mem_bytes = 4ULL << 30 };
	struct snap_frame_state st = { 0 };

	(void)state;
	memcpy(recs[8].p, &(uint64_t){ 0x1001 }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("not page-aligned");
	memcpy(recs[8].p, &(uint64_t){ MEM - SNAP_PAGE }, 8);   /* runs past RAM */
	memcpy(recs[9].p, &(uint64_t){ MEM }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("not inside guest RAM");
	/* 4 GiB: 3 GiB low, 1 GiB at 4 GiB; nothing in the hole. */
	assert_int_equal(snap_mem_check(GUEST_MMIO_HOLE - SNAP_PAGE, SNAP_PAGE, &big, &st), 0);
	assert_int_equal(snap_mem_check(GUEST_MMIO_HOLE, SNAP_PAGE, &big, &st), -EBADMSG);
	assert_int_equal(snap_mem_check(GUEST_4G, 1ULL << 30, &big, &st), 0);
	st.mem_next_gpa = 0;
	assert_int_equal(snap_mem_check(GUEST_4G + (1ULL << 30), SNAP_PAGE, &big, &st),
			 -EBADMSG);
	assert_int_equal(snap_mem_check(UINT64_MAX - SNAP_PAGE + 1, SNAP_PAGE, &big, &st),
			 -EBADMSG);
	assert_int_equal(snap_mem_check(GUEST_MMIO_HOLE - SNAP_PAGE, 2 * SNAP_PAGE, &big, &st),
			 -EBADMSG);
}

static void test_meta_mismatch(void **state)
{
	struct snap_meta *m;

	(void)state;
	m = (struct snap_meta *)recs[0].p;
	m->nvcpus = 1;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("META says 1 vCPUs");
	m->nvcpus = NVCPUS;
	m->mem_bytes = MEM * 2;
	assert_int_equal(check(), -EBADMSG);
	m->mem_bytes = MEM;
	m->ndevs = 3;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("META announced 3");
	m->ndevs = 2;
	recs[nrecs - 1].r.index = 1;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("index must be 0");
	recs[nrecs - 1].r.index = 0;
	recs[2].r.index = 5;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("no such vCPU");
	recs[2].r.index = 1;
	recs[7].r.index = SNAP_MAX_DEVS;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("no such device");
	recs[7].r.index = 3;
	recs[5].r.type = 99;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("unknown record type 99");
}

static int cb_fail(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	(void)ctx;
	(void)p;
	return r->type == SNAP_REC_DEV ? -EPROTO : 0;
}

static void test_cb_error_stops(void **state)
{
	(void)state;
	serialise();
	assert_int_equal(snap_stream_check(buf, buflen, &lim, cb_fail, NULL), -EPROTO);
}


/* ---- the migration stream (issue 18) ---- */

/* Whole: the check, the launcher's framing in migration mode, and the
 * VMM's reader, where round 1's page replaces round 0's. */
static void test_mig_whole(void **state)
{
	struct rd_ctx c = { .ram = calloc(1, MEM) };
	struct snap_reader rd = { rd_read, rd_record, rd_mem, &c, 1 };
	struct snap_frame_state st;
	struct snap_rec r;
	size_t off = SNAP_MAGIC_LEN;
	int rc = 0;

	(void)state;
	assert_non_null(c.ram);
	serialise();
	seen = 0;
	assert_int_equal(snap_mig_stream_check(buf, buflen, &lim, count_cb, NULL), 0);
	assert_int_equal(seen, nrecs);
	assert_int_equal(snap_mig_header_check(buf, buflen), 0);
	snap_frame_init(&st, 1);
	for (size_t i = 0; i < nrecs; i++) {
		snap_rec_decode(buf + off, &r);
		rc = snap_frame_check(&r, &lim, &st);
		off += 16 + r.len;
		if (i + 1 < nrecs)
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, SNAP_FRAME_END);
	assert_int_equal(off, buflen);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(snap_stream_read(&rd, &lim), 0);
	assert_int_equal(c.ram[0], 0);               /* round 1: zero now */
	assert_int_equal(c.ram[SNAP_PAGE], 0xAC);    /* round 0's second page */
	assert_int_equal(c.ram[0x100000], 0xAB);
	free(c.ram);
	/* Either stream under the other's check: refused at the header. */
	assert_int_equal(snap_stream_check(buf, buflen, &lim, NULL, NULL), -EBADMSG);
	assert_log_names("bad header");
	mig = 0;
	serialise();
	assert_int_equal(snap_mig_stream_check(buf, buflen, &lim, NULL, NULL), -EBADMSG);
	assert_log_names("bad header");
}

static void test_mig_rounds(void **state)
{
	(void)state;
	recs[3].r.index = recs[4].r.index = 2;        /* round 1 skipped */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("PAGES[2]");
	assert_log_names("skipped");
	recs[3].r.index = recs[4].r.index = 0;        /* round 0 again */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("PAGES[0]");
	assert_log_names("repeated");
	recs[3].r.index = recs[4].r.index = 1;
	recs[4].r.index = 0;                          /* ROUND_END repeated */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("ROUND_END[0]");
	recs[4].r.index = 1;
	swap(1, 2);                                   /* reordered: PAGES[0] after its end */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("PAGES[0]");
	swap(1, 2);
	swap(4, 5);                                   /* META inside round 1 */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("round not ended");
	swap(4, 5);
	swap(3, 5);                                   /* PAGES after META */
	swap(4, 5);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("pages after META");
	swap(4, 5);
	swap(3, 5);
	dup_rec(2);                                   /* a round ended twice */
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("ROUND_END[0]");
	drop(3);
	/* Within a round the gpa rises; the next round starts low again. */
	memcpy(recs[1].p, &(uint64_t){ 0 }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("below the previous run");
	memcpy(recs[1].p, &(uint64_t){ 0x100000 }, 8);
	assert_int_equal(check(), 0);
}

/* No round at all, MEM in a migration, PAGES in a snapshot, a gpa outside
 * RAM, a round over RAM, an empty PAGES. */
static void test_mig_refused(void **state)
{
	struct snap_limits small = { .nvcpus = 1, .mem_bytes = 2 * SNAP_PAGE };
	struct snap_frame_state st;
	struct snap_rec r = { SNAP_REC_PAGES, 0, 8 + 2 * SNAP_PAGE };

	(void)state;
	for (int i = 0; i < 5; i++)
		drop(0);
	assert_int_equal(check(), -EBADMSG);          /* META first: no round */
	assert_log_names("no round before it");
	teardown(state);
	setup_mig(state);
	recs[3].r.type = SNAP_REC_MEM;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("MEM in a migration stream");
	recs[3].r.type = SNAP_REC_PAGES;
	memcpy(recs[3].p, &(uint64_t){ MEM }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("not inside guest RAM");
	memcpy(recs[3].p, &(uint64_t){ 0x10 }, 8);
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("not page-aligned");
	memcpy(recs[3].p, &(uint64_t){ 0 }, 8);
	assert_int_equal(check(), 0);
	/* A round's pages at most the guest's memory; each round anew. */
	snap_frame_init(&st, 1);
	assert_int_equal(snap_frame_check(&r, &small, &st), 0);
	r.len = 8 + SNAP_PAGE;
	assert_int_equal(snap_frame_check(&r, &small, &st), -EFBIG);
	assert_log_names("over the guest's memory");
	r.type = SNAP_REC_ROUND_END;
	r.len = 0;
	assert_int_equal(snap_frame_check(&r, &small, &st), 0);
	r = (struct snap_rec){ SNAP_REC_PAGES, 1, 8 + 2 * SNAP_PAGE };
	assert_int_equal(snap_frame_check(&r, &small, &st), 0);
	r.len = 8;
	assert_int_equal(snap_frame_check(&r, &small, &st), -EFBIG);
	r = (struct snap_rec){ SNAP_REC_ROUND_END, 1, 1 };
	assert_int_equal(snap_frame_check(&r, &small, &st), -EFBIG);
	/* PAGES and ROUND_END in a state stream. */
	teardown(state);
	setup(state);
	recs[8].r.type = SNAP_REC_PAGES;
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("a migration record in a state stream");
}

/* At most SNAP_MIG_MAX_ROUNDS rounds, the final one included. */
static void test_mig_max_rounds(void **state)
{
	(void)state;
	drop(4);
	drop(3);
	for (uint32_t k = 1; k < SNAP_MIG_MAX_ROUNDS; k++) {
		memmove(&recs[2 * k + 3], &recs[2 * k + 1], (nrecs - 2 * k - 1) * sizeof(recs[0]));
		nrecs += 2;
		recs[2 * k + 1] = (struct trec){ { SNAP_REC_PAGES, k, 8 + SNAP_PAGE },
						 calloc(1, 8 + SNAP_PAGE) };
		recs[2 * k + 2] = (struct trec){ { SNAP_REC_ROUND_END, k, 0 }, calloc(1, 1) };
	}
	assert_int_equal(recs[2 * SNAP_MIG_MAX_ROUNDS + 1].r.type, SNAP_REC_META);
	assert_int_equal(check(), 0);
	memmove(&recs[2 * SNAP_MIG_MAX_ROUNDS + 2], &recs[2 * SNAP_MIG_MAX_ROUNDS + 1],
		(nrecs - 2 * SNAP_MIG_MAX_ROUNDS - 1) * sizeof(recs[0]));
	nrecs++;
	recs[2 * SNAP_MIG_MAX_ROUNDS + 1] = (struct trec){
		{ SNAP_REC_ROUND_END, SNAP_MIG_MAX_ROUNDS, 0 }, calloc(1, 1) };
	assert_int_equal(check(), -EBADMSG);
	assert_log_names("more than 64 rounds");
}

/* FIPS 180-4 examples, and lengths around the padding boundary against
 * OpenSSL's values (sha256sum of N bytes of 'a'). */
#define A10 "aaaaaaaaaa"
#define A120 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
static void test_sha256(void **state)
{
	static const struct { const char *in; size_t n; const char *hex; } v[] = {
		{ "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ A120, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ A120, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ A120, 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	};
	uint8_t d[32];
	char hex[65];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		sha256(v[i].in, v[i].n, d);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		assert_string_equal(hex, v[i].hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_places_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_mem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cb_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mig_whole, setup_mig, teardown),
		cmocka_unit_test_setup_teardown(test_mig_rounds, setup_mig, teardown),
		cmocka_unit_test_setup_teardown(test_mig_refused, setup_mig, teardown),
		cmocka_unit_test_setup_teardown(test_mig_max_rounds, setup_mig, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup_mig, teardown),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
