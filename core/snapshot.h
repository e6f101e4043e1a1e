/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM's state stream (issue 17): what VMM_CTL_SAVE writes to VMM_FD_SNAP
 * and what `bulwark-vmm --restore` reads back from it (core/vmm_abi.h).
 * Shared by both processes: the launcher frames the stream with
 * snap_frame_check() so it knows where it ends without trusting the VMM;
 * the VMM validates the whole stream with snap_stream_check() before it
 * restores anything, then parses the payloads (core/vmm/snap*.c).
 *
 *   header: SNAP_MAGIC (8 bytes), then records, little-endian:
 *   struct snap_rec { u32 type; u32 index; u64 len; } + len bytes of payload
 *
 * The order is fixed, and every step of it is checked:
 *   META (index 0)                    once, first
 *   VCPU (index = vCPU 0..nvcpus-1)   every vCPU, increasing
 *   IRQCHIP, PIT, CLOCK (index 0)     once each, in that order
 *   DEV (index = device number)       increasing, < SNAP_MAX_DEVS
 *   MEM (index = sequence 0, 1, ...)  payload u64 gpa then whole pages;
 *                                     gpa strictly increasing, runs do not
 *                                     overlap, all inside guest RAM, total
 *                                     at most the guest's memory
 *   END (index 0, len 0)              once, last; nothing after it
 * A type out of this order (reordered), a (type, index) seen twice
 * (duplicated), a required record absent at END (missing), a length over
 * the type's bound (oversized) or a stream that stops early (truncated) is
 * refused, and the log line names the record.
 *
 * The migration stream (issue 18; core/vmm_abi.h VMM_CTL_MIG_*):
 *   header: SNAP_MIG_MAGIC (8 bytes), then
 *   rounds r = 0, 1, 2, ... (each index = r, r increases by 1, at most
 *   SNAP_MIG_MAX_ROUNDS rounds, at least one):
 *     PAGES (index r)*   payload u64 gpa then whole pages; gpa page-
 *                        aligned, inside guest RAM, strictly increasing
 *                        within the round (each round restarts), at most
 *                        SNAP_MEM_RUN_MAX bytes of pages per record, the
 *                        round's pages at most the guest's memory
 *     ROUND_END (index r, len 0)
 *   then the state as above: META, VCPU..., IRQCHIP, PIT, CLOCK, DEV...,
 *   END, without MEM.  A later round's page replaces an earlier one.
 * MEM in a migration stream, PAGES or ROUND_END in a state stream, a round
 * skipped or repeated, PAGES after META: refused naming the record.
 */
#ifndef BULWARK_SNAPSHOT_H
#define BULWARK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define SNAP_MAGIC      "BWVMST\0\1"
#define SNAP_MAGIC_LEN  8
#define SNAP_MIG_MAGIC  "BWVMMG\0\1"    /* the migration stream's header */
#define SNAP_MIG_MAX_ROUNDS 64u          /* rounds, the final one included */

enum snap_rec_type {
	SNAP_REC_META = 1,     /* struct snap_meta */
	SNAP_REC_VCPU = 2,     /* core/vmm/snap_vcpu.c */
	SNAP_REC_IRQCHIP = 3,  /* KVM PIC master, PIC slave, IOAPIC */
	SNAP_REC_PIT = 4,      /* struct kvm_pit_state2 */
	SNAP_REC_CLOCK = 5,    /* struct kvm_clock_data */
	SNAP_REC_DEV = 6,      /* one device's state (core/vmm/) */
	SNAP_REC_MEM = 7,      /* u64 gpa, then whole pages */
	SNAP_REC_END = 8,      /* len 0 */
	SNAP_REC_PAGES = 9,    /* migration: u64 gpa, then whole pages */
	SNAP_REC_ROUND_END = 10, /* migration: len 0, index = the round */
};

struct snap_rec {
	uint32_t type;         /* enum snap_rec_type */
	uint32_t index;
	uint64_t len;          /* payload bytes that follow */
};
static_assert(sizeof(struct snap_rec) == 16, "on-wire");

/* SNAP_REC_META's payload. */
struct snap_meta {
	uint8_t config_digest[32];   /* SHA-256 of the canonical config */
	uint32_t nvcpus;
	uint32_t ndevs;              /* DEV records that follow */
	uint64_t mem_bytes;
};
static_assert(sizeof(struct snap_meta) == 48, "on-wire");

#define SNAP_PAGE          4096u
#define SNAP_MAX_DEVS      64u
/* Bounds on one record's payload, per type (the VMM checks exact sizes). */
#define SNAP_VCPU_MAX      (256u << 10)   /* regs..XSAVE (AMX-sized), MSRs */
#define SNAP_IRQCHIP_MAX   (4u << 10)
#define SNAP_PIT_MAX       (1u << 10)
#define SNAP_CLOCK_MAX     (1u << 10)
#define SNAP_DEV_MAX       (64u << 10)
#define SNAP_MEM_RUN_MAX   (8u << 20)     /* pages in one MEM record */

/* What the configuration allows (snap_limits_from_config). */
struct snap_limits {
	uint32_t nvcpus;
	uint64_t mem_bytes;
};

/* Where snap_frame_check is in the stream; zero it before the first record. */
struct snap_frame_state {
	uint32_t last_type;          /* 0 before META */
	uint32_t last_index;
	uint32_t nvcpu;              /* VCPU records seen */
	uint32_t ndev;               /* DEV records seen */
	uint64_t mem_total;          /* MEM page bytes so far */
	uint64_t mem_next_gpa;       /* snap_stream_check: the lowest next gpa */
	uint64_t offset;             /* stream offset of the record (for logs) */
	int ended;
	int mig;                     /* 1: a migration stream (snap_frame_init) */
	uint32_t rounds;             /* migration: ROUND_END records seen */
};

/* Zeroes ST for a stream whose header was read: MIG 1 for a migration
 * stream, 0 for a state stream. */
void snap_frame_init(struct snap_frame_state *st, int mig);

struct vm_config;

/* From the validated configuration: nvcpus, mem bytes.  0 or -EINVAL. */
int snap_limits_from_config(const struct vm_config *cfg, struct snap_limits *lim);

/* "META", "VCPU", ... or "unknown". */
const char *snap_rec_name(uint32_t type);

/* The 8-byte header: 0, or -EBADMSG (logged).  snap_mig_header_check:
 * the migration stream's (SNAP_MIG_MAGIC). */
int snap_header_check(const uint8_t *hdr, size_t len);
int snap_mig_header_check(const uint8_t *hdr, size_t len);

/* 16 on-wire bytes into R (little-endian). */
void snap_rec_decode(const uint8_t b[16], struct snap_rec *r);
void snap_rec_encode(const struct snap_rec *r, uint8_t b[16]);

/*
 * One record header, in stream order (its payload not seen).  Returns 0 (go
 * on), SNAP_FRAME_END when R was the END record and the stream is whole, or
 * -EBADMSG (reordered, duplicated, missing, after END, bad index), -EFBIG
 * (oversized), each logged naming the record.  Frames only: the payloads
 * (MEM's gpa included) are snap_stream_check's and the VMM's.
 */
#define SNAP_FRAME_END 1
int snap_frame_check(const struct snap_rec *r, const struct snap_limits *lim,
		     struct snap_frame_state *st);

/*
 * MEM's (and PAGES') payload head: GPA (the record's first 8 bytes) for
 * PAGES bytes of pages; page-aligned, above the previous run (of the
 * round), inside guest RAM (the layout of core/bootparams.h).  0 or
 * -EBADMSG (logged).
 */
int snap_mem_check(uint64_t gpa, uint64_t pages, const struct snap_limits *lim,
		   struct snap_frame_state *st);

/* META's payload against LIM (nvcpus, mem; the digest is the VMM's). */
int snap_meta_check(const uint8_t *p, uint64_t len, const struct snap_limits *lim,
		    struct snap_meta *out);

/*
 * Reading a stream (the VMM's --restore, and snap_stream_check below): the
 * header, then every record framed, META's and each MEM run's head checked,
 * in order, until END; a read that comes short is "truncated".
 *   read(ctx, buf, n)   exactly N bytes into BUF (BUF NULL: skip them);
 *                       0, -ENODATA at the end of the stream, or -errno
 *   record(ctx, r, p)   every record but MEM/PAGES, its payload P (r->len
 *                       bytes, valid during the call); MEM and PAGES with P
 *                       NULL once their pages are placed.  Non-zero stops
 *                       the walk.
 *   mem(ctx, gpa, n)    where MEM's (PAGES') N bytes of pages at GPA go
 *                       (checked: inside RAM, above the previous run of
 *                       the round); NULL: skip
 *   mig                 1: a migration stream (SNAP_MIG_MAGIC, rounds of
 *                       PAGES, no MEM); 0: a state stream
 * Returns 0 when END was read and everything before it passed, or -errno,
 * logged naming the record.  Nothing is read after END.
 */
struct snap_reader {
	int (*read)(void *ctx, void *buf, size_t n);
	int (*record)(void *ctx, const struct snap_rec *r, const uint8_t *payload);
	void *(*mem)(void *ctx, uint64_t gpa, uint64_t n);
	void *ctx;
	int mig;
};
int snap_stream_read(const struct snap_reader *rd, const struct snap_limits *lim);

/*
 * A whole stream in memory: snap_stream_read over BUF, then nothing may
 * follow END.  CB, when not NULL, is the reader's record() (MEM pages are
 * skipped).  0 or -errno, logged.
 */
typedef int (*snap_rec_cb)(void *ctx, const struct snap_rec *r, const uint8_t *payload);
int snap_stream_check(const uint8_t *buf, size_t len, const struct snap_limits *lim,
		      snap_rec_cb cb, void *ctx);
/* The same for a whole migration stream. */
int snap_mig_stream_check(const uint8_t *buf, size_t len, const struct snap_limits *lim,
			  snap_rec_cb cb, void *ctx);

#endif
