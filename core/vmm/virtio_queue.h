/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.x, section 2.7) read from guest memory that a
 * hostile guest controls, through an accessor the queue code cannot escape.
 *
 * Rules enforced here (a violation breaks the queue; the transport then sets
 * DEVICE_NEEDS_RESET and logs it once):
 *   - size a power of two, 1..max; rings aligned and wholly inside guest RAM,
 *     checked once when the queue is activated (guest RAM never moves);
 *   - the avail index never runs more than SIZE ahead of the device;
 *   - every head and next index below SIZE, every chain at most SIZE long
 *     (so a loop ends the walk), no indirect descriptors (not offered);
 *   - every buffer [addr, addr + len) inside guest RAM, overflow-safe;
 *   - device-readable buffers before device-writable ones.
 * Each descriptor is copied once before it is checked and used, so a guest
 * rewriting the ring concurrently cannot change what was validated.
 */
#ifndef BULWARK_VIRTIO_QUEUE_H
#define BULWARK_VIRTIO_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/util.h"

/* ---- guest memory ------------------------------------------------------- */

/*
 * The VMM's own writes to guest RAM (live migration, core/vmm/mig.c): one
 * bit per 4 KiB page of the mapping (low RAM then high RAM), set by the
 * thread that wrote, AFTER the write, so that whoever clears a bit and then
 * copies the page sees the data (or the bit comes back for the next round).
 * Always kept (an atomic OR per buffer returned to the guest); the
 * migration clears it at START and collects it in each round.
 */
struct gmem_dirty {
	_Atomic uint64_t *bits;       /* NULL: nothing is tracked (unit tests) */
	const uint8_t *base;
	uint64_t pages;
};

static inline void gmem_dirty_mark(struct gmem_dirty *d, const void *p, uint64_t len)
{
	uint64_t first, last;

	if (!d || !d->bits || !len || (const uint8_t *)p < d->base)
		return;
	first = (uint64_t)((const uint8_t *)p - d->base) / 4096;
	last = ((uint64_t)((const uint8_t *)p - d->base) + len - 1) / 4096;
	for (uint64_t i = first; i <= last && i < d->pages; i++)
		atomic_fetch_or_explicit(&d->bits[i / 64], 1ULL << (i % 64),
					 memory_order_release);
}

/* Guest RAM as one host mapping: [0, low_size) then [4 GiB, 4 GiB + high_size). */
struct gmem {
	uint8_t *base;
	uint64_t low_size;
	uint64_t high_size;
	struct gmem_dirty *dirty;     /* the VM's, or NULL */
};

#define GMEM_HIGH_START 0x100000000ULL

/* Host pointer for guest [gpa, gpa + len), or NULL unless all of it is RAM. */
static inline void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (range_fits(gpa, len, m->low_size))
		return m->base + gpa;
	if (gpa >= GMEM_HIGH_START &&
	    range_fits(gpa - GMEM_HIGH_START, len, m->high_size))
		return m->base + m->low_size + (gpa - GMEM_HIGH_START);
	return NULL;
}

/* ---- the rings, as the guest lays them out (little-endian) --------------- */

#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* The largest queue any Bulwark device offers. */
#define VIRTQ_MAX_SIZE 256

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
static_assert(sizeof(struct virtq_desc) == 16, "virtio 1.x 2.7.5");

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];        /* SIZE entries, then used_event (unused) */
};
static_assert(sizeof(struct virtq_avail) == 4, "virtio 1.x 2.7.6");

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};
static_assert(sizeof(struct virtq_used_elem) == 8, "virtio 1.x 2.7.8");

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];  /* SIZE entries, then avail_event */
};
static_assert(sizeof(struct virtq_used) == 4, "virtio 1.x 2.7.8");

/* Ring sizes in guest memory for a queue of N entries (with the event words). */
#define VIRTQ_DESC_BYTES(n)  (16ULL * (n))
#define VIRTQ_AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define VIRTQ_USED_BYTES(n)  (6ULL + 8ULL * (n))

/* ---- one queue ----------------------------------------------------------- */

struct virtq {
	/* Programmed by the driver while the queue is not enabled. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Device limit, fixed at creation. */
	uint16_t max_size;
	/* Set by virtq_activate() from the fields above; valid until reset.
	 * Only these are used once active, whatever the driver writes later. */
	bool active;
	uint16_t num;
	bool broken;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;
	uint16_t used_idx;
	/* Survives resets, so a guest looping reset/violate logs only once. */
	uint32_t violations;
	const char *name;       /* "blk0.q0": for messages */
	/*
	 * The transport's halt word (survives resets; NULL: never halted).
	 * While it is non-zero no chain is popped and a device stops a long
	 * request at its next chunk: bus mastering is off, or a reset waits.
	 */
	const _Atomic uint32_t *halt;
	/* The guest memory's dirty bitmap (virtq_activate); NULL: none. */
	struct gmem_dirty *dirty;
};

/* One popped chain: device-readable iovecs first, then device-writable. */
struct virtq_chain {
	uint16_t head;
	uint16_t n_out;         /* iov[0, n_out): the device reads these */
	uint16_t n_in;          /* iov[n_out, n_out + n_in): the device writes */
	uint64_t out_len;
	uint64_t in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* MAX_SIZE: a power of two <= VIRTQ_MAX_SIZE.  NAME must outlive the queue. */
void virtq_init(struct virtq *q, uint16_t max_size, const char *name);
/* Back to the state after init (device reset); keeps the violation count
 * and the halt word. */
void virtq_reset(struct virtq *q);
/* Validate size and rings and resolve them; -EINVAL (logged) if invalid. */
int virtq_activate(struct virtq *q, const struct gmem *m);

/* Whether the transport halted the queue (see struct virtq's halt). */
static inline bool virtq_halted(const struct virtq *q)
{
	return q->halt && atomic_load_explicit(q->halt, memory_order_acquire) != 0;
}

/*
 * Take the next available chain.  Returns 1 with *C filled, 0 when the
 * driver has made nothing available or the queue is halted (nothing of
 * guest memory is read then), -EINVAL when the guest broke a rule
 * (the queue is then broken and stays so until reset), -EIO if it already was.
 */
int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_chain *c);

/* Return chain C to the driver, WRITTEN bytes of it filled in.  Every
 * device-writable buffer of C and the used ring entry are marked in the
 * dirty bitmap (the buffers wholly: WRITTEN is the guest's to trust). */
void virtq_push(struct virtq *q, const struct virtq_chain *c, uint32_t written);

/* Whether the driver has made chains available that were not popped yet. */
bool virtq_pending(const struct virtq *q);

/* Whether the driver wants an interrupt for what was pushed. */
bool virtq_want_interrupt(const struct virtq *q);

/* Mark the queue broken and log REASON (first violation only); -EINVAL. */
int virtq_fail(struct virtq *q, const char *reason, uint64_t value);

/* Give back the chain popped last (a device that found nothing to put in it). */
void virtq_unpop(struct virtq *q);

/* Point DST at LEN bytes of SRC[0, n) starting SKIP bytes in; returns the
 * count (at most N).  Fewer than LEN bytes when SRC is shorter. */
int virtq_iov_slice(const struct iovec *src, uint16_t n, uint64_t skip, uint64_t len,
		    struct iovec *dst);

/* Copy LEN bytes at offset OFF of the chain's readable part; -EINVAL if short. */
int virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len);
/* Copy into the writable part at offset OFF; -EINVAL if short. */
int virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src,
		      uint64_t len);

#endif
