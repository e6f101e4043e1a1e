/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state stream's framing and whole-stream validation (core/snapshot.h).
 * Every byte here comes from a file an operator handed in, or from a VMM
 * that a guest may own: it is parsed as hostile input, and every refusal
 * names the record (type, index, stream offset).
 */
#include "core/snapshot.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bootparams.h"
#include "core/config.h"
#include "core/layout.h"
#include "core/log.h"

static const char *const snap_names[] = {
	[SNAP_REC_META] = "META", [SNAP_REC_VCPU] = "VCPU",
	[SNAP_REC_IRQCHIP] = "IRQCHIP", [SNAP_REC_PIT] = "PIT",
	[SNAP_REC_CLOCK] = "CLOCK", [SNAP_REC_DEV] = "DEV",
	[SNAP_REC_MEM] = "MEM", [SNAP_REC_END] = "END",
	[SNAP_REC_PAGES] = "PAGES", [SNAP_REC_ROUND_END] = "ROUND_END",
};

const char *snap_rec_name(uint32_t type)
{
	if (type < ARRAY_SIZE(snap_names) && snap_names[type])
		return snap_names[type];
	return "unknown";
}

int snap_limits_from_config(const struct vm_config *cfg, struct snap_limits *lim)
{
	if (!cfg || !lim || !cfg->cpus || !cfg->memory_mib ||
	    cfg->memory_mib > (UINT64_MAX >> 20))
		return -EINVAL;
	memset(lim, 0, sizeof(*lim));
	lim->nvcpus = cfg->cpus;
	lim->mem_bytes = (uint64_t)cfg->memory_mib << 20;
	return 0;
}

static int snap_magic_check(const uint8_t *hdr, size_t len, const char *magic,
			    const char *what)
{
	if (len < SNAP_MAGIC_LEN || memcmp(hdr, magic, SNAP_MAGIC_LEN)) {
		log_err("%s stream: bad header (not a Bulwark %s stream, or another "
			"version)", what, what);
		return -EBADMSG;
	}
	return 0;
}

int snap_header_check(const uint8_t *hdr, size_t len)
{
	return snap_magic_check(hdr, len, SNAP_MAGIC, "state");
}

int snap_mig_header_check(const uint8_t *hdr, size_t len)
{
	return snap_magic_check(hdr, len, SNAP_MIG_MAGIC, "migration");
}

void snap_frame_init(struct snap_frame_state *st, int mig)
{
	memset(st, 0, sizeof(*st));
	st->offset = SNAP_MAGIC_LEN;
	st->mig = !!mig;
}

void snap_rec_decode(const uint8_t b[16], struct snap_rec *r)
{
	uint32_t t, i;
	uint64_t l;

	memcpy(&t, b, 4);
	memcpy(&i, b + 4, 4);
	memcpy(&l, b + 8, 8);
	r->type = le32toh(t);
	r->index = le32toh(i);
	r->len = le64toh(l);
}

void snap_rec_encode(const struct snap_rec *r, uint8_t b[16])
{
	uint32_t t = htole32(r->type), i = htole32(r->index);
	uint64_t l = htole64(r->len);

	memcpy(b, &t, 4);
	memcpy(b + 4, &i, 4);
	memcpy(b + 8, &l, 8);
}

#define snap_bad(r, st, fmt, ...) \
	log_err("%s stream: record %s[%u] at offset %llu: " fmt, \
		(st)->mig ? "migration" : "state", snap_rec_name((r)->type), (r)->index, \
		(unsigned long long)(st)->offset, ##__VA_ARGS__)

/* The payload bound of R's type (0: the type is unknown). */
static uint64_t snap_len_max(const struct snap_rec *r, const struct snap_limits *lim)
{
	uint64_t mem_run = lim->mem_bytes < SNAP_MEM_RUN_MAX ? lim->mem_bytes
							      : SNAP_MEM_RUN_MAX;

	switch (r->type) {
	case SNAP_REC_META: return sizeof(struct snap_meta);
	case SNAP_REC_VCPU: return SNAP_VCPU_MAX;
	case SNAP_REC_IRQCHIP: return SNAP_IRQCHIP_MAX;
	case SNAP_REC_PIT: return SNAP_PIT_MAX;
	case SNAP_REC_CLOCK: return SNAP_CLOCK_MAX;
	case SNAP_REC_DEV: return SNAP_DEV_MAX;
	case SNAP_REC_MEM: return 8 + mem_run;
	case SNAP_REC_PAGES: return 8 + mem_run;
	case SNAP_REC_END: return 0;
	case SNAP_REC_ROUND_END: return 0;
	default: return 0;
	}
}

/* The index R must carry after the previous record (order, no duplicate). */
static int snap_index_check(const struct snap_rec *r, const struct snap_limits *lim,
			    const struct snap_frame_state *st)
{
	switch (r->type) {
	case SNAP_REC_VCPU:
		if (r->index != st->nvcpu || r->index >= lim->nvcpus) {
			snap_bad(r, st, "%s (expected VCPU[%u] of %u)",
				 r->index < st->nvcpu ? "duplicated or reordered" :
				 r->index >= lim->nvcpus ? "no such vCPU" : "a vCPU is missing",
				 st->nvcpu, lim->nvcpus);
			return -EBADMSG;
		}
		return 0;
	case SNAP_REC_DEV:
	case SNAP_REC_MEM:
		if (r->type == SNAP_REC_DEV && r->index >= SNAP_MAX_DEVS) {
			snap_bad(r, st, "no such device (at most %u)", SNAP_MAX_DEVS);
			return -EBADMSG;
		}
		if (st->last_type == r->type && r->index <= st->last_index) {
			snap_bad(r, st, "duplicated or reordered (after %s[%u])",
				 snap_rec_name(st->last_type), st->last_index);
			return -EBADMSG;
		}
		if (r->type == SNAP_REC_MEM &&
		    r->index != (st->last_type == SNAP_REC_MEM ? st->last_index + 1 : 0)) {
			snap_bad(r, st, "out of sequence (a MEM record is missing)");
			return -EBADMSG;
		}
		return 0;
	case SNAP_REC_IRQCHIP:
		if (st->nvcpu != lim->nvcpus) {
			snap_bad(r, st, "VCPU[%u] is missing before it", st->nvcpu);
			return -EBADMSG;
		}
		/* fall through */
	default:
		if (r->index) {
			snap_bad(r, st, "index must be 0");
			return -EBADMSG;
		}
		return 0;
	}
}

/* Every record the END needs before it. */
static int snap_end_check(const struct snap_rec *r, const struct snap_limits *lim,
			  const struct snap_frame_state *st)
{
	if (st->nvcpu != lim->nvcpus) {
		snap_bad(r, st, "VCPU[%u] is missing", st->nvcpu);
		return -EBADMSG;
	}
	if (st->last_type < SNAP_REC_CLOCK) {
		snap_bad(r, st, "%s is missing", snap_rec_name(st->last_type + 1));
		return -EBADMSG;
	}
	return SNAP_FRAME_END;
}

/* The type order: META, VCPU..., IRQCHIP, PIT, CLOCK, DEV..., MEM..., END. */
static int snap_order_check(const struct snap_rec *r, const struct snap_frame_state *st)
{
	uint32_t prev = st->last_type;
	int ok;

	if (r->type == prev)
		return r->type == SNAP_REC_VCPU || r->type == SNAP_REC_DEV ||
		       r->type == SNAP_REC_MEM ? 0 : -EEXIST;
	if (r->type < prev)
		return -EBADMSG;
	/* Forward: only over records that may be absent (DEV, MEM) or that
	 * come more than once (VCPU, which snap_index_check counts). */
	switch (r->type) {
	case SNAP_REC_META: ok = prev == 0; break;
	case SNAP_REC_VCPU: ok = prev == SNAP_REC_META; break;
	case SNAP_REC_IRQCHIP: ok = prev == SNAP_REC_VCPU; break;
	case SNAP_REC_PIT: ok = prev == SNAP_REC_IRQCHIP; break;
	case SNAP_REC_CLOCK: ok = prev == SNAP_REC_PIT; break;
	case SNAP_REC_DEV: ok = prev == SNAP_REC_CLOCK; break;
	case SNAP_REC_MEM: ok = prev >= SNAP_REC_CLOCK; break;
	case SNAP_REC_END: ok = prev >= SNAP_REC_META; break;  /* snap_end_check */
	default: ok = 0; break;
	}
	return ok ? 0 : -ENOENT;
}

/*
 * A migration stream's rounds: PAGES[r]* ROUND_END[r] for r = 0, 1, ...
 * then META.  0 when R fits here, or -EBADMSG (logged).
 */
static int snap_round_check(const struct snap_rec *r, const struct snap_frame_state *st)
{
	int is_round = r->type == SNAP_REC_PAGES || r->type == SNAP_REC_ROUND_END;

	if (!st->mig) {
		if (is_round) {
			snap_bad(r, st, "a migration record in a state stream");
			return -EBADMSG;
		}
		return 0;
	}
	if (r->type == SNAP_REC_MEM) {
		snap_bad(r, st, "MEM in a migration stream (memory comes in rounds)");
		return -EBADMSG;
	}
	if (st->last_type && st->last_type != SNAP_REC_PAGES &&
	    st->last_type != SNAP_REC_ROUND_END) {
		if (is_round) {
			snap_bad(r, st, "pages after %s (rounds end before META)",
				 snap_rec_name(st->last_type));
			return -EBADMSG;
		}
		return 0;
	}
	if (!is_round) {
		if (r->type != SNAP_REC_META || st->last_type != SNAP_REC_ROUND_END) {
			snap_bad(r, st, "out of order: %s",
				 st->last_type == SNAP_REC_PAGES ? "round not ended" :
				 r->type == SNAP_REC_META ? "no round before it" :
				 "META is missing before it");
			return -EBADMSG;
		}
		return 0;
	}
	if (r->index != st->rounds) {
		snap_bad(r, st, "round %s (expected round %u)",
			 r->index < st->rounds ? "repeated" : "skipped", st->rounds);
		return -EBADMSG;
	}
	if (st->rounds >= SNAP_MIG_MAX_ROUNDS) {
		snap_bad(r, st, "more than %u rounds", SNAP_MIG_MAX_ROUNDS);
		return -EBADMSG;
	}
	return 0;
}

/* PAGES and ROUND_END (snap_round_check passed): lengths and the round's
 * total, then the state moves on. */
static int snap_round_frame(const struct snap_rec *r, const struct snap_limits *lim,
			    struct snap_frame_state *st)
{
	uint64_t max = snap_len_max(r, lim);

	if (r->len > max) {
		snap_bad(r, st, "%llu bytes (at most %llu)", (unsigned long long)r->len,
			 (unsigned long long)max);
		return -EFBIG;
	}
	if (r->type == SNAP_REC_PAGES) {
		if (r->len <= 8 || (r->len - 8) % SNAP_PAGE ||
		    r->len - 8 > lim->mem_bytes - st->mem_total) {
			snap_bad(r, st, "%llu bytes: not whole pages, or the round "
				 "over the guest's memory", (unsigned long long)r->len);
			return -EFBIG;
		}
		st->mem_total += r->len - 8;
	} else {
		st->rounds++;
		st->mem_total = 0;
		st->mem_next_gpa = 0;
	}
	st->last_type = r->type;
	st->last_index = r->index;
	st->offset += sizeof(struct snap_rec) + r->len;
	return 0;
}

int snap_frame_check(const struct snap_rec *r, const struct snap_limits *lim,
		     struct snap_frame_state *st)
{
	uint64_t max = snap_len_max(r, lim);
	int rc;

	if (st->ended) {
		snap_bad(r, st, "after END");
		return -EBADMSG;
	}
	if (r->type < SNAP_REC_META || r->type > SNAP_REC_ROUND_END) {
		snap_bad(r, st, "unknown record type %u", r->type);
		return -EBADMSG;
	}
	rc = snap_round_check(r, st);
	if (rc)
		return rc;
	if (r->type == SNAP_REC_PAGES || r->type == SNAP_REC_ROUND_END)
		return snap_round_frame(r, lim, st);
	if (r->type == SNAP_REC_META && st->mig)
		st->last_type = 0;	/* the state's order starts here */
	rc = snap_order_check(r, st);
	if (rc == -EEXIST)
		snap_bad(r, st, "duplicated");
	else if (rc == -ENOENT)
		snap_bad(r, st, "out of order: %s is missing before it",
			 snap_rec_name(st->last_type + 1));
	else if (rc)
		snap_bad(r, st, "reordered (after %s)", snap_rec_name(st->last_type));
	if (rc)
		return -EBADMSG;
	rc = snap_index_check(r, lim, st);
	if (rc)
		return rc;
	if (r->len > max || (r->type == SNAP_REC_META && r->len != max)) {
		snap_bad(r, st, "%llu bytes (%s %llu)", (unsigned long long)r->len,
			 r->type == SNAP_REC_META ? "must be" : "at most",
			 (unsigned long long)max);
		return r->len > max ? -EFBIG : -EBADMSG;
	}
	if (r->type == SNAP_REC_MEM && (r->len <= 8 || (r->len - 8) % SNAP_PAGE ||
					r->len - 8 > lim->mem_bytes - st->mem_total)) {
		snap_bad(r, st, "%llu bytes: not whole pages, or more than the guest's memory",
			 (unsigned long long)r->len);
		return -EFBIG;
	}
	if (r->type == SNAP_REC_END) {
		rc = snap_end_check(r, lim, st);
		if (rc < 0)
			return rc;
		st->ended = 1;
	}
	if (r->type == SNAP_REC_VCPU)
		st->nvcpu++;
	if (r->type == SNAP_REC_DEV)
		st->ndev++;
	if (r->type == SNAP_REC_MEM)
		st->mem_total += r->len - 8;
	st->last_type = r->type;
	st->last_index = r->index;
	st->offset += sizeof(struct snap_rec) + r->len;
	return st->ended ? SNAP_FRAME_END : 0;
}

int snap_mem_check(uint64_t gpa, uint64_t pages, const struct snap_limits *lim,
		   struct snap_frame_state *st)
{
	uint64_t low, high;
	int in_low, in_high;

	bootparams_ram_split(lim->mem_bytes, &low, &high);
	in_low = gpa < low && pages <= low - gpa;
	in_high = gpa >= GUEST_4G && gpa - GUEST_4G < high &&
		  pages <= high - (gpa - GUEST_4G);
	if (gpa % SNAP_PAGE || !pages || gpa < st->mem_next_gpa || (!in_low && !in_high)) {
		log_err("state stream: %s run at gpa 0x%llx, %llu bytes: %s",
			st->mig ? "PAGES" : "MEM",
			(unsigned long long)gpa, (unsigned long long)pages,
			gpa % SNAP_PAGE ? "not page-aligned" :
			gpa < st->mem_next_gpa ? "overlaps or is below the previous run" :
			"not inside guest RAM");
		return -EBADMSG;
	}
	st->mem_next_gpa = gpa + pages;
	return 0;
}

int snap_meta_check(const uint8_t *p, uint64_t len, const struct snap_limits *lim,
		    struct snap_meta *out)
{
	struct snap_meta m;

	if (len != sizeof(m)) {
		log_err("state stream: META is %llu bytes, not %zu",
			(unsigned long long)len, sizeof(m));
		return -EBADMSG;
	}
	memcpy(&m, p, sizeof(m));
	m.nvcpus = le32toh(m.nvcpus);
	m.ndevs = le32toh(m.ndevs);
	m.mem_bytes = le64toh(m.mem_bytes);
	if (m.nvcpus != lim->nvcpus || m.mem_bytes != lim->mem_bytes ||
	    m.ndevs > SNAP_MAX_DEVS) {
		log_err("state stream: META says %u vCPUs, %llu bytes of memory, %u devices;"
			" the configuration has %u vCPUs, %llu bytes (at most %u devices)",
			m.nvcpus, (unsigned long long)m.mem_bytes, m.ndevs, lim->nvcpus,
			(unsigned long long)lim->mem_bytes, SNAP_MAX_DEVS);
		return -EBADMSG;
	}
	if (out)
		*out = m;
	return 0;
}

/* A record's payload into a heap buffer, checked (META), given to record(). */
static int snap_read_payload(const struct snap_reader *rd, const struct snap_rec *r,
			     const struct snap_limits *lim, uint32_t *ndevs)
{
	uint8_t *p = malloc(r->len ? r->len : 1);
	struct snap_meta m;
	int rc;

	if (!p)
		return -ENOMEM;
	rc = rd->read(rd->ctx, p, r->len);
	if (!rc && r->type == SNAP_REC_META) {
		rc = snap_meta_check(p, r->len, lim, &m);
		*ndevs = m.ndevs;
	}
	if (!rc && rd->record)
		rc = rd->record(rd->ctx, r, p);
	free(p);
	return rc;
}

/* MEM: the gpa, checked, then the pages straight to where mem() says. */
static int snap_read_mem(const struct snap_reader *rd, const struct snap_rec *r,
			 const struct snap_limits *lim, struct snap_frame_state *st)
{
	uint64_t gpa, n = r->len - 8;
	void *dst;
	int rc = rd->read(rd->ctx, &gpa, 8);

	if (!rc)
		rc = snap_mem_check(le64toh(gpa), n, lim, st);
	if (rc)
		return rc;
	dst = rd->mem ? rd->mem(rd->ctx, le64toh(gpa), n) : NULL;
	rc = rd->read(rd->ctx, dst, n);
	if (!rc && rd->record)
		rc = rd->record(rd->ctx, r, NULL);
	return rc;
}

static int snap_read_one(const struct snap_reader *rd, const struct snap_limits *lim,
			 struct snap_frame_state *st, uint32_t *ndevs)
{
	uint8_t hdr[sizeof(struct snap_rec)];
	uint64_t at = st->offset;
	struct snap_rec r;
	int rc, frame;

	rc = rd->read(rd->ctx, hdr, sizeof(hdr));
	if (rc) {
		log_err("state stream: %s at offset %llu (no END record)",
			rc == -ENODATA ? "truncated" : strerror(-rc), (unsigned long long)at);
		return rc == -ENODATA ? -EBADMSG : rc;
	}
	snap_rec_decode(hdr, &r);
	frame = snap_frame_check(&r, lim, st);
	if (frame < 0)
		return frame;
	if (r.type == SNAP_REC_MEM || r.type == SNAP_REC_PAGES)
		rc = snap_read_mem(rd, &r, lim, st);
	else if (r.type == SNAP_REC_END && st->ndev != *ndevs) {
		log_err("state stream: END: %u DEV records, META announced %u",
			st->ndev, *ndevs);
		rc = -EBADMSG;
	} else
		rc = snap_read_payload(rd, &r, lim, ndevs);
	if (rc == -ENODATA) {
		log_err("state stream: record %s[%u] at offset %llu: truncated (%llu "
			"bytes announced)", snap_rec_name(r.type), r.index,
			(unsigned long long)at, (unsigned long long)r.len);
		rc = -EBADMSG;
	}
	return rc ? rc : frame;
}

int snap_stream_read(const struct snap_reader *rd, const struct snap_limits *lim)
{
	struct snap_frame_state st;
	uint8_t magic[SNAP_MAGIC_LEN];
	uint32_t ndevs = 0;
	int rc = rd->read(rd->ctx, magic, sizeof(magic));

	if (rc && rc != -ENODATA)
		return rc;
	snap_frame_init(&st, rd->mig);
	rc = (rd->mig ? snap_mig_header_check : snap_header_check)(magic,
								  rc ? 0 : sizeof(magic));
	while (!rc)
		rc = snap_read_one(rd, lim, &st, &ndevs);
	return rc == SNAP_FRAME_END ? 0 : rc;
}

struct snap_buf {
	const uint8_t *buf;
	size_t len, off;
	snap_rec_cb cb;
	void *ctx;
};

static int snap_buf_read(void *ctx, void *dst, size_t n)
{
	struct snap_buf *b = ctx;

	if (n > b->len - b->off)
		return -ENODATA;
	if (dst)
		memcpy(dst, b->buf + b->off, n);
	b->off += n;
	return 0;
}

static int snap_buf_record(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	struct snap_buf *b = ctx;

	return b->cb ? b->cb(b->ctx, r, p) : 0;
}

static int snap_buf_check(const uint8_t *buf, size_t len, const struct snap_limits *lim,
			  int mig, snap_rec_cb cb, void *ctx)
{
	struct snap_buf b = { .buf = buf, .len = len, .cb = cb, .ctx = ctx };
	struct snap_reader rd = { snap_buf_read, snap_buf_record, NULL, &b, mig };
	int rc = snap_stream_read(&rd, lim);

	if (!rc && b.off != len) {
		log_err("state stream: %zu bytes after END", len - b.off);
		rc = -EBADMSG;
	}
	return rc;
}

int snap_stream_check(const uint8_t *buf, size_t len, const struct snap_limits *lim,
		      snap_rec_cb cb, void *ctx)
{
	return snap_buf_check(buf, len, lim, 0, cb, ctx);
}

int snap_mig_stream_check(const uint8_t *buf, size_t len, const struct snap_limits *lim,
			  snap_rec_cb cb, void *ctx)
{
	return snap_buf_check(buf, len, lim, 1, cb, ctx);
}
