/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VMM_CTL_SAVE (core/vmm_abi.h): with the VM paused, one whole state
 * stream (core/snapshot.h) to VMM_FD_SNAP, on the main thread.  Guest
 * memory goes out in runs of up to SNAP_MEM_RUN_MAX bytes straight from
 * its mapping (large sequential writes); a page that is all zero, which
 * every page the guest never touched is, is skipped (restore starts from
 * zeroed memory).  The socket is non-blocking (set at start): each write
 * waits at most SNAP_WRITE_TIMEOUT_MS for the launcher to read.
 */
#include "core/vmm/snap.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/bootparams.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/vcpu.h"

#define SNAP_WRITE_TIMEOUT_MS 30000

static uint64_t snap_written;   /* main thread only */

uint64_t snap_written_total(void)
{
	return snap_written;
}

int snap_write(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);
		struct pollfd pf = { .fd = fd, .events = POLLOUT };

		if (w > 0) {
			snap_written += (uint64_t)w;
			b += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (w == 0)
			return -EPIPE;
		if (poll(&pf, 1, SNAP_WRITE_TIMEOUT_MS) == 0)
			return -ETIMEDOUT;     /* the launcher stopped reading */
	}
	return 0;
}

int snap_put_rec(int fd, uint32_t type, uint32_t index, const void *p, uint64_t len)
{
	struct snap_rec r = { type, index, len };
	uint8_t h[sizeof(r)];
	int rc;

	snap_rec_encode(&r, h);
	rc = snap_write(fd, h, sizeof(h));
	return rc || !len ? rc : snap_write(fd, p, len);
}

int snap_page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < SNAP_PAGE / 8; i++)
		acc |= w[i];
	return acc == 0;
}

int snap_put_run(int fd, uint32_t type, uint32_t index, uint64_t gpa,
		 const uint8_t *hva, uint64_t len)
{
	struct snap_rec r = { type, index, 8 + len };
	uint8_t h[sizeof(r) + 8];
	uint64_t g = htole64(gpa);
	int rc;

	snap_rec_encode(&r, h);
	memcpy(h + sizeof(r), &g, 8);
	rc = snap_write(fd, h, sizeof(h));
	return rc ? rc : snap_write(fd, hva, len);
}

int snap_save_range(int fd, uint32_t type, uint64_t gpa, const uint8_t *hva,
		    uint64_t size, uint32_t *seq, uint64_t *bytes)
{
	uint64_t off = 0;
	int rc = 0;

	while (!rc && off < size) {
		uint64_t start, len = 0;

		while (off < size && snap_page_zero(hva + off))
			off += SNAP_PAGE;
		start = off;
		while (off < size && len < SNAP_MEM_RUN_MAX && !snap_page_zero(hva + off)) {
			off += SNAP_PAGE;
			len += SNAP_PAGE;
		}
		if (!len)
			break;
		rc = snap_put_run(fd, type, *seq, gpa + start, hva + start, len);
		if (type == SNAP_REC_MEM)
			(*seq)++;
		*bytes += len;
	}
	return rc;
}

static int snap_save_vcpus(struct vm *vm, int fd, struct snap_buf *b)
{
	int rc = 0;

	for (uint32_t i = 0; !rc && i < vm->nvcpus; i++) {
		rc = snap_vcpu_save(&vm->vcpus[i], vm->kvm_fd, b);
		if (!rc)
			rc = snap_put_rec(fd, SNAP_REC_VCPU, i, b->p, b->len);
	}
	return rc;
}

static int snap_save_vm(struct vm *vm, int fd, struct snap_buf *b)
{
	int rc = snap_irqchip_save(vm, b);

	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_IRQCHIP, 0, b->p, b->len);
	if (!rc)
		rc = snap_pit_save(vm, b);
	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_PIT, 0, b->p, b->len);
	if (!rc)
		rc = snap_clock_save(vm, b);
	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_CLOCK, 0, b->p, b->len);
	for (int i = 0; !rc && i < snap_devices_count(vm); i++) {
		b->max = SNAP_DEV_MAX;
		rc = snap_device_save(vm, (uint32_t)i, b);
		if (!rc)
			rc = snap_put_rec(fd, SNAP_REC_DEV, (uint32_t)i, b->p, b->len);
	}
	return rc;
}

static int snap_save_meta(struct vm *vm, int fd)
{
	struct snap_meta m;

	memset(&m, 0, sizeof(m));
	memcpy(m.config_digest, vm->config_digest, sizeof(m.config_digest));
	m.nvcpus = htole32(vm->nvcpus);
	m.ndevs = htole32((uint32_t)snap_devices_count(vm));
	m.mem_bytes = htole64(vm->mem_size);
	return snap_put_rec(fd, SNAP_REC_META, 0, &m, sizeof(m));
}

int snap_save_ready(struct vm *vm)
{
	int rc;

	if (!vm->paused)
		return -EBUSY;
	rc = snap_devices_quiet(vm);
	if (rc)
		log_warn("save refused: a device is busy (%s); try again", strerror(-rc));
	return rc;
}

int snap_save_state(struct vm *vm, int fd, uint32_t *seq, uint64_t *bytes)
{
	struct snap_buf b = { .max = SNAP_VCPU_MAX };
	int rc = snap_save_meta(vm, fd);

	if (!rc)
		rc = snap_save_vcpus(vm, fd, &b);
	if (!rc)
		rc = snap_save_vm(vm, fd, &b);
	if (!rc && seq)
		rc = snap_save_range(fd, SNAP_REC_MEM, 0, vm->mem, vm->low_size, seq, bytes);
	if (!rc && seq && vm->high_size)
		rc = snap_save_range(fd, SNAP_REC_MEM, GUEST_4G, vm->mem + vm->low_size,
				     vm->high_size, seq, bytes);
	if (!rc)
		rc = snap_put_rec(fd, SNAP_REC_END, 0, NULL, 0);
	snap_buf_free(&b);
	return rc;
}

int snap_save(struct vm *vm, int fd)
{
	uint64_t bytes = 0;
	uint32_t seq = 0;
	int rc = snap_save_ready(vm);

	if (rc)
		return rc;
	rc = snap_write(fd, SNAP_MAGIC, SNAP_MAGIC_LEN);
	if (!rc)
		rc = snap_save_state(vm, fd, &seq, &bytes);
	if (rc)
		log_err("save failed: %s (the stream is incomplete: no END record)",
			strerror(-rc));
	else
		log_info("saved: %u vCPUs, %d devices, %llu of %llu bytes of memory "
			 "(%u runs)", vm->nvcpus, snap_devices_count(vm),
			 (unsigned long long)bytes, (unsigned long long)vm->mem_size, seq);
	return rc;
}
