/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Save and restore of the VM (issue 17): the payloads of the state stream
 * (core/snapshot.h), written by VMM_CTL_SAVE and read by --restore
 * (core/vmm_abi.h).  One file per part: snap_vcpu.c (a vCPU), snap_vm.c
 * (irqchip, PIT, clock, memory), snap_save.c (the stream out),
 * snap_restore.c (the stream in: read all, validate all, then set).
 */
#ifndef BULWARK_VMM_SNAP_H
#define BULWARK_VMM_SNAP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "core/vmm/vm.h"

struct vcpu;

/* A growable buffer for one record's payload (at most its type's bound). */
struct snap_buf {
	uint8_t *p;
	size_t len, cap, max;
};
static inline int snap_buf_put(struct snap_buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)
		return -EFBIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *q;

		while (cap < b->len + n)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static inline void snap_buf_free(struct snap_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- one vCPU (snap_vcpu.c) ---- */
/* Main thread, every vCPU parked.  Into B (SNAP_VCPU_MAX). */
int snap_vcpu_save(struct vcpu *v, int kvm_fd, struct snap_buf *b);
/* Sizes, counts, MSR indices, flags and states against what KVM here
 * takes (KVM_FD: /dev/kvm); touches no vCPU.  0 or -EBADMSG, logged. */
int snap_vcpu_check(int kvm_fd, uint32_t id, const uint8_t *p, size_t len);
/* After snap_vcpu_check and KVM_SET_CPUID2: every state in KVM's order. */
int snap_vcpu_restore(struct vcpu *v, const uint8_t *p, size_t len);

/* ---- the VM (snap_vm.c) ---- */
int snap_irqchip_save(struct vm *vm, struct snap_buf *b);
int snap_irqchip_check(const uint8_t *p, size_t len);
int snap_irqchip_restore(struct vm *vm, const uint8_t *p, size_t len);
int snap_pit_save(struct vm *vm, struct snap_buf *b);
int snap_pit_check(const uint8_t *p, size_t len);
int snap_pit_restore(struct vm *vm, const uint8_t *p, size_t len);
/* The clock saved at pause (vm->clock), restored at resume. */
int snap_clock_save(struct vm *vm, struct snap_buf *b);
int snap_clock_check(const uint8_t *p, size_t len);
void snap_clock_restore(struct vm *vm, const uint8_t *p, size_t len);

/* ---- devices: the platform's, then virtio's, numbered in that order ---- */
int snap_devices_count(struct vm *vm);
/* How many devices CFG gives a VM (the DEV records a stream must hold). */
uint32_t snap_devices_expected(const struct vm_config *cfg);
int snap_device_save(struct vm *vm, uint32_t index, struct snap_buf *b);
/* check: VM may be NULL (before it exists): payload only. */
int snap_device_check(const struct vm_config *cfg, uint32_t index,
		      const uint8_t *p, size_t len);
int snap_device_restore(struct vm *vm, uint32_t index, const uint8_t *p, size_t len);
/* -EBUSY while a device cannot be saved now (a TPM command in flight). */
int snap_devices_quiet(struct vm *vm);

/* ---- the stream ---- */
/* VMM_CTL_SAVE: paused only (-EBUSY), one whole stream to FD. */
int snap_save(struct vm *vm, int fd);
/* Whether a save may start now: paused, no TPM command in flight; 0 or
 * -EBUSY (logged). */
int snap_save_ready(struct vm *vm);
/* META, VCPU..., IRQCHIP, PIT, CLOCK, DEV..., then (SEQ not NULL) memory
 * as MEM runs counted in *SEQ and *BYTES, then END: a state stream after
 * its header; the migration's final part with SEQ NULL. */
int snap_save_state(struct vm *vm, int fd, uint32_t *seq, uint64_t *bytes);
/* All of N bytes to FD (non-blocking: each wait bounded); 0 or -errno. */
int snap_write(int fd, const void *p, size_t n);
/* Bytes snap_write has written so far (all streams; for the figures). */
uint64_t snap_written_total(void);
/* One record: header, then LEN bytes of P. */
int snap_put_rec(int fd, uint32_t type, uint32_t index, const void *p, uint64_t len);
/* One MEM or PAGES record: GPA, then LEN bytes of pages at HVA. */
int snap_put_run(int fd, uint32_t type, uint32_t index, uint64_t gpa,
		 const uint8_t *hva, uint64_t len);
/* Guest [GPA, GPA + SIZE) at HVA: its non-zero runs (of at most
 * SNAP_MEM_RUN_MAX) as TYPE records, MEM with index *SEQ counting, PAGES
 * with index *SEQ (the round); the page bytes added to *BYTES. */
int snap_save_range(int fd, uint32_t type, uint64_t gpa, const uint8_t *hva,
		    uint64_t size, uint32_t *seq, uint64_t *bytes);
/* Whether the 4 KiB page at P is all zero. */
int snap_page_zero(const uint8_t *p);
/* Before confinement: what the save asks KVM once (the MSR list, caps). */
int snap_prepare(int kvm_fd);

/* --restore: the whole stream from FD, validated, into IMG (guest memory
 * mapped and filled; the other records kept). */
struct snap_image;
int snap_restore_read(int fd, int kvm_fd, const struct vm_config *cfg,
		      const uint8_t config_digest[32], int mig, struct snap_image **out);
/* The memory mapping, handed to vm_create_restored (then the VM's). */
uint8_t *snap_image_take_mem(struct snap_image *img);
/* After the VM, its devices and vCPUs exist: every state set, the VM left
 * paused (vm->paused, vm->pause_req), its clock to be set at resume. */
int snap_restore_apply(struct vm *vm, struct snap_image *img);
void snap_image_free(struct snap_image *img);

#endif
