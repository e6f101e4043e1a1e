/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --restore (core/vmm_abi.h): the whole state stream is read from
 * VMM_FD_SNAP and validated before the VM exists: the framing and every
 * MEM run by snap_stream_read (core/snapshot.c), META against the
 * configuration, each vCPU, the irqchip, the PIT, the clock and every
 * device's payload by its own check.  Guest memory is an anonymous mapping
 * the MEM runs land in directly; it becomes the VM's only once everything
 * passed (vm_create_restored).  Then snap_restore_apply sets each state,
 * and the VM comes up paused: the launcher measures the restore event and
 * sends VMM_CTL_RESUME, which sets the saved guest clock.
 */
#include "core/vmm/snap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/bootparams.h"
#include "core/config.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/vcpu.h"

struct snap_part {
	uint8_t *p;
	size_t len;
	int seen;
};

struct snap_image {
	const struct vm_config *cfg;
	const uint8_t *config_digest;
	int fd, kvm_fd;
	uint8_t *mem;
	uint64_t mem_size, low, high;
	struct snap_part vcpu[VM_MAX_CPUS];
	struct snap_part irqchip, pit, clock;
	struct snap_part dev[SNAP_MAX_DEVS];
};

static int snap_fd_read(void *ctx, void *buf, size_t n)
{
	struct snap_image *img = ctx;
	uint8_t *b = buf, sink[4096];

	while (n) {
		size_t want = b || n < sizeof(sink) ? n : sizeof(sink);
		ssize_t r = read(img->fd, b ? b : sink, want);

		if (r == 0)
			return -ENODATA;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n -= (size_t)r;
		if (b)
			b += r;
	}
	return 0;
}

static void *snap_img_mem(void *ctx, uint64_t gpa, uint64_t n)
{
	struct snap_image *img = ctx;

	/* snap_mem_check put [gpa, gpa + n) inside RAM already. */
	if (gpa + n <= img->low)
		return img->mem + gpa;
	return img->mem + img->low + (gpa - GUEST_4G);
}

static int snap_keep(struct snap_part *part, const uint8_t *p, size_t len)
{
	part->p = malloc(len ? len : 1);
	if (!part->p)
		return -ENOMEM;
	memcpy(part->p, p, len);
	part->len = len;
	part->seen = 1;
	return 0;
}

static int snap_img_meta(struct snap_image *img, const uint8_t *p)
{
	struct snap_meta m;

	memcpy(&m, p, sizeof(m));   /* nvcpus, mem: snap_meta_check did */
	if (memcmp(m.config_digest, img->config_digest, sizeof(m.config_digest))) {
		log_err("state stream: record META: saved under another configuration "
			"(its digest differs from this one's)");
		return -EBADMSG;
	}
	if (le32toh(m.ndevs) != snap_devices_expected(img->cfg)) {
		log_err("state stream: record META: %u devices; this configuration "
			"has %u", le32toh(m.ndevs), snap_devices_expected(img->cfg));
		return -EBADMSG;
	}
	return 0;
}

/* Each record as it arrives: checked by its own parser, then kept. */
static int snap_img_record(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	struct snap_image *img = ctx;
	int rc = 0;

	switch (r->type) {
	case SNAP_REC_META:
		return snap_img_meta(img, p);
	case SNAP_REC_VCPU:
		rc = snap_vcpu_check(img->kvm_fd, r->index, p, r->len);
		return rc ? rc : snap_keep(&img->vcpu[r->index], p, r->len);
	case SNAP_REC_IRQCHIP:
		rc = snap_irqchip_check(p, r->len);
		return rc ? rc : snap_keep(&img->irqchip, p, r->len);
	case SNAP_REC_PIT:
		rc = snap_pit_check(p, r->len);
		return rc ? rc : snap_keep(&img->pit, p, r->len);
	case SNAP_REC_CLOCK:
		rc = snap_clock_check(p, r->len);
		return rc ? rc : snap_keep(&img->clock, p, r->len);
	case SNAP_REC_DEV:
		if (r->index >= snap_devices_expected(img->cfg)) {
			log_err("state stream: record DEV[%u]: no such device here", r->index);
			return -EBADMSG;
		}
		rc = snap_device_check(img->cfg, r->index, p, r->len);
		return rc ? rc : snap_keep(&img->dev[r->index], p, r->len);
	default:
		return 0;     /* MEM, PAGES: placed; ROUND_END, END: nothing */
	}
}

/* Every device once (the framing saw increasing indices, META the count). */
static int snap_img_complete(const struct snap_image *img)
{
	for (uint32_t i = 0; i < snap_devices_expected(img->cfg); i++) {
		if (!img->dev[i].seen) {
			log_err("state stream: record DEV[%u] is missing", i);
			return -EBADMSG;
		}
	}
	return 0;
}

int snap_restore_read(int fd, int kvm_fd, const struct vm_config *cfg,
		      const uint8_t config_digest[32], int mig, struct snap_image **out)
{
	struct snap_image *img = calloc(1, sizeof(*img));
	struct snap_reader rd = { snap_fd_read, snap_img_record, snap_img_mem, img, mig };
	struct snap_limits lim;
	int rc;

	if (!img)
		return -ENOMEM;
	*img = (struct snap_image){ .cfg = cfg, .config_digest = config_digest, .fd = fd,
				    .kvm_fd = kvm_fd };
	rc = snap_limits_from_config(cfg, &lim);
	img->mem_size = lim.mem_bytes;
	bootparams_ram_split(img->mem_size, &img->low, &img->high);
	img->mem = rc ? NULL : vm_mem_map(img->mem_size);
	if (!rc && !img->mem)
		rc = -ENOMEM;
	if (!rc)
		rc = snap_stream_read(&rd, &lim);
	if (!rc)
		rc = snap_img_complete(img);
	if (rc) {
		log_err("%s refused: the %s stream is not whole and valid (%s)",
			mig ? "incoming migration" : "restore",
			mig ? "migration" : "state", strerror(-rc));
		snap_image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

uint8_t *snap_image_take_mem(struct snap_image *img)
{
	uint8_t *m = img->mem;

	img->mem = NULL;
	return m;
}

int snap_restore_apply(struct vm *vm, struct snap_image *img)
{
	int rc = 0;

	for (uint32_t i = 0; !rc && i < vm->nvcpus; i++)
		rc = snap_vcpu_restore(&vm->vcpus[i], img->vcpu[i].p, img->vcpu[i].len);
	if (!rc)
		rc = snap_irqchip_restore(vm, img->irqchip.p, img->irqchip.len);
	if (!rc)
		rc = snap_pit_restore(vm, img->pit.p, img->pit.len);
	for (int i = 0; !rc && i < snap_devices_count(vm); i++)
		rc = snap_device_restore(vm, (uint32_t)i, img->dev[i].p, img->dev[i].len);
	if (rc)
		return rc;
	snap_clock_restore(vm, img->clock.p, img->clock.len);
	/* Paused: vCPUs park before their first KVM_RUN; VMM_CTL_RESUME sets
	 * the clock (KVM_SET_CLOCK) and lets them go.  The TSC came back with
	 * the MSRs; the time until the resume is taken off it as after a
	 * pause (vm_pause.c). */
	rc = vm_pause_restored(vm);
	if (rc) {
		log_err("restore: the TSC offsets: %s", strerror(-rc));
		return rc;
	}
	log_info("restored: %u vCPUs, %d devices; paused until the launcher resumes",
		 vm->nvcpus, snap_devices_count(vm));
	return 0;
}

void snap_image_free(struct snap_image *img)
{
	if (!img)
		return;
	if (img->mem)
		munmap(img->mem, img->mem_size);
	for (size_t i = 0; i < ARRAY_SIZE(img->vcpu); i++)
		free(img->vcpu[i].p);
	for (size_t i = 0; i < ARRAY_SIZE(img->dev); i++)
		free(img->dev[i].p);
	free(img->irqchip.p);
	free(img->pit.p);
	free(img->clock.p);
	free(img);
}
