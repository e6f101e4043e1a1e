/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration, the source VMM's side (issue 18; core/vmm_abi.h
 * VMM_CTL_MIG_*): the migration stream (core/snapshot.h) to VMM_FD_SNAP,
 * on the main thread.
 *
 * A page is dirty when the guest wrote it (KVM's dirty log, on every RAM
 * slot from START: KVM_GET_DIRTY_LOG returns and clears it, the write
 * protection coming back at once) or when the VMM's own threads did
 * (vm->dirty, marked by virtq_push after each write: used rings, block
 * reads, network receives, entropy).  A round takes both, clears both,
 * THEN copies the pages: a write after the take is in the next round.
 * ROUNDs run with the guest running; FINAL only paused, every vCPU and
 * I/O thread parked, so its pages and the state are one instant; FINAL
 * first flushes every writable disk (fdatasync), so a target on another
 * host reads every write the guest made here.
 */
#include "core/vmm/mig.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/snap.h"
#include "core/vmm_abi.h"

struct vm_mig {
	uint32_t round;             /* the last round written */
	uint64_t words;             /* of the bitmaps below */
	uint64_t *kvm[2];           /* KVM_GET_DIRTY_LOG of slot 0, 1 */
	uint64_t *dirty;            /* one round's pages, the mapping's order */
	uint64_t dirty_total;
};

static uint64_t mig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void mig_free(struct vm *vm)
{
	struct vm_mig *m = vm->mig;

	if (!m)
		return;
	free(m->kvm[0]);
	free(m->kvm[1]);
	free(m->dirty);
	free(m);
	vm->mig = NULL;
}

/* Tracking off, the device bitmap cleared, the migration forgotten. */
static void mig_end(struct vm *vm)
{
	if (vm_mem_log_dirty(vm, 0))
		log_warn("migration: KVM's dirty log stays on (harmless, slower)");
	for (uint64_t i = 0; i < (vm->dirty.pages + 63) / 64; i++)
		atomic_store_explicit(&vm->dirty.bits[i], 0, memory_order_relaxed);
	mig_free(vm);
}

/* Slot SLOT's dirty log into BITS (KVM clears it); 0 or -errno. */
static int mig_kvm_log(struct vm *vm, uint32_t slot, uint64_t *bits)
{
	struct kvm_dirty_log l = { .slot = slot };

	l.dirty_bitmap = bits;
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &l) < 0) {
		int rc = -errno;

		log_err("migration: KVM_GET_DIRTY_LOG slot %u: %s", slot, strerror(-rc));
		return rc;
	}
	return 0;
}

/* The round's dirty pages into m->dirty: KVM's of both slots (slot 1 after
 * the low pages: the mapping's order) OR the VMM's, all three cleared. */
static int mig_collect(struct vm *vm, struct vm_mig *m, uint64_t *count)
{
	uint64_t low_words = vm->low_size / 4096 / 64;   /* whole MiBs: exact */
	int rc = mig_kvm_log(vm, 0, m->kvm[0]);

	if (!rc && vm->high_size)
		rc = mig_kvm_log(vm, 1, m->kvm[1]);
	if (rc)
		return rc;
	*count = 0;
	for (uint64_t i = 0; i < m->words; i++) {
		uint64_t w = atomic_exchange_explicit(&vm->dirty.bits[i], 0,
						      memory_order_acquire);

		w |= i < low_words ? m->kvm[0][i] : m->kvm[1][i - low_words];
		m->dirty[i] = w;
		*count += (uint64_t)__builtin_popcountll(w);
	}
	return 0;
}

/* The page at mapping offset page P: its gpa. */
static uint64_t mig_gpa(const struct vm *vm, uint64_t p)
{
	uint64_t off = p * 4096;

	return off < vm->low_size ? off : GUEST_4G + (off - vm->low_size);
}

static int mig_bit(const uint64_t *b, uint64_t p)
{
	return (int)((b[p / 64] >> (p % 64)) & 1);
}

/* m->dirty's pages as PAGES runs of round m->round (zero pages too), each
 * run inside one slot and at most SNAP_MEM_RUN_MAX, gpa increasing. */
static int mig_write_dirty(struct vm *vm, struct vm_mig *m, int fd)
{
	uint64_t pages = vm->mem_size / 4096, low = vm->low_size / 4096, p = 0;
	int rc = 0;

	while (!rc && p < pages) {
		uint64_t start, n = 0;

		if (!mig_bit(m->dirty, p)) {
			p++;
			continue;
		}
		start = p;
		while (p < pages && mig_bit(m->dirty, p) && n * 4096 < SNAP_MEM_RUN_MAX &&
		       (p == start || p != low)) {
			p++;
			n++;
		}
		rc = snap_put_run(fd, SNAP_REC_PAGES, m->round, mig_gpa(vm, start),
				  vm->mem + start * 4096, n * 4096);
	}
	return rc;
}

static int mig_start(struct vm *vm, int fd, struct vmm_ctl_mig *out)
{
	struct vm_mig *m;
	uint64_t pages = 0;
	uint32_t round = 0;
	int rc;

	if (vm->mig)
		return -EBUSY;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	vm->mig = m;
	m->words = (vm->dirty.pages + 63) / 64;
	m->kvm[0] = calloc(m->words, 8);
	m->kvm[1] = calloc(m->words, 8);
	m->dirty = calloc(m->words, 8);
	if (!m->kvm[0] || !m->kvm[1] || !m->dirty) {
		mig_free(vm);
		return -ENOMEM;
	}
	/* KVM logs from here; the VMM's bitmap restarts; then every page. */
	rc = vm_mem_log_dirty(vm, 1);
	if (rc) {
		mig_end(vm);
		return rc;
	}
	for (uint64_t i = 0; i < m->words; i++)
		atomic_exchange_explicit(&vm->dirty.bits[i], 0, memory_order_acquire);
	rc = snap_write(fd, SNAP_MIG_MAGIC, SNAP_MAGIC_LEN);
	if (!rc)
		rc = snap_save_range(fd, SNAP_REC_PAGES, 0, vm->mem, vm->low_size,
				     &round, &pages);
	if (!rc && vm->high_size)
		rc = snap_save_range(fd, SNAP_REC_PAGES, GUEST_4G, vm->mem + vm->low_size,
				     vm->high_size, &round, &pages);
	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_ROUND_END, 0, NULL, 0);
	out->pages = pages / 4096;
	return rc;
}

/* One round of dirty pages: collect, write, ROUND_END. */
static int mig_round(struct vm *vm, int fd, struct vmm_ctl_mig *out)
{
	struct vm_mig *m = vm->mig;
	uint64_t count = 0;
	int rc;

	m->round++;
	rc = mig_collect(vm, m, &count);
	if (!rc)
		rc = mig_write_dirty(vm, m, fd);
	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_ROUND_END, m->round, NULL, 0);
	m->dirty_total += count;
	out->pages = count;
	return rc;
}

/*
 * FINAL, paused (every I/O thread parked, so every guest write has
 * returned): each writable disk's writes on the disk itself before the
 * state leaves.  On one host the page cache hid a missing flush; across two
 * hosts sharing a LUN (or any storage with a cache of its own) an unflushed
 * write is guest data the target never sees.  A failed flush fails FINAL:
 * the guest stays here, paused, and the launcher cancels.
 */
static int mig_flush_disks(struct vm *vm)
{
	for (uint32_t i = 0; vm->cfg && i < vm->cfg->ndisks; i++) {
		if (vm->cfg->disks[i].readonly)
			continue;
		if (fdatasync(VMM_FD_DISK0 + (int)i)) {
			int rc = -errno;

			log_err("migration: disk %u (%s) cannot be flushed: %s; not moved",
				i, vm->cfg->disks[i].path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int mig_order(struct vm *vm, uint32_t op, int fd, struct vmm_ctl_mig *out)
{
	uint64_t t0 = mig_now_ns(), w0 = snap_written_total();
	int rc;

	memset(out, 0, sizeof(*out));
	switch (op) {
	case VMM_CTL_MIG_START:
		rc = mig_start(vm, fd, out);
		break;
	case VMM_CTL_MIG_ROUND:
		if (!vm->mig)
			return -EINVAL;
		if (vm->mig->round + 2 >= SNAP_MIG_MAX_ROUNDS)
			return -E2BIG;    /* the last round is FINAL's */
		rc = mig_round(vm, fd, out);
		break;
	case VMM_CTL_MIG_FINAL:
		if (!vm->mig)
			return -EINVAL;
		rc = snap_save_ready(vm);
		if (rc)
			return rc;
		rc = mig_flush_disks(vm);
		if (!rc)
			rc = mig_round(vm, fd, out);
		if (!rc)
			rc = snap_save_state(vm, fd, NULL, NULL);
		break;
	case VMM_CTL_MIG_CANCEL:
		if (!vm->mig)
			return -EALREADY;
		log_info("migration cancelled after round %u", vm->mig->round);
		mig_end(vm);
		return 0;
	default:
		return -EINVAL;
	}
	out->ns = mig_now_ns() - t0;
	out->bytes = snap_written_total() - w0;
	if (vm->mig) {
		out->round = vm->mig->round;
		out->dirty_pages_total = vm->mig->dirty_total;
	}
	if (rc) {
		log_err("migration: round %u failed: %s; migration ended (the guest "
			"is untouched)", out->round, strerror(-rc));
		mig_end(vm);
	} else if (op == VMM_CTL_MIG_FINAL) {
		log_info("migration: final round %u, %llu pages; state written, the "
			 "guest stays paused", out->round, (unsigned long long)out->pages);
		mig_end(vm);
	} else {
		log_debug("migration: round %u: %llu pages, %llu bytes, %llu us",
			  out->round, (unsigned long long)out->pages,
			  (unsigned long long)out->bytes,
			  (unsigned long long)(out->ns / 1000));
	}
	return rc;
}

void mig_fini(struct vm *vm)
{
	mig_free(vm);
}
