/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM-wide records of the state stream (core/snapshot.h): the in-kernel
 * irqchip (PIC master, PIC slave, IOAPIC: three struct kvm_irqchip), the
 * PIT (struct kvm_pit_state2) and the guest clock (struct kvm_clock_data,
 * as saved at pause).  Each check validates every field KVM would take as
 * an index, a mode or an address, before anything is created.
 */
#include "core/vmm/snap.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

#define SNAP_NCHIPS 3    /* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC */

int snap_irqchip_save(struct vm *vm, struct snap_buf *b)
{
	struct kvm_irqchip c[SNAP_NCHIPS];

	memset(c, 0, sizeof(c));
	for (uint32_t i = 0; i < SNAP_NCHIPS; i++) {
		c[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &c[i]) < 0) {
			log_err("save: KVM_GET_IRQCHIP %u: %s", i, strerror(errno));
			return -errno;
		}
	}
	b->len = 0;
	return snap_buf_put(b, c, sizeof(c));
}

static int snap_pic_ok(const struct kvm_pic_state *p)
{
	return p->read_reg_select <= 1 && p->poll <= 1 && p->special_mask <= 1 &&
	       p->init_state <= 3 && p->auto_eoi <= 1 && p->rotate_on_auto_eoi <= 1 &&
	       p->special_fully_nested_mode <= 1 && p->init4 <= 1;
}

int snap_irqchip_check(const uint8_t *p, size_t len)
{
	struct kvm_irqchip c[SNAP_NCHIPS];

	if (len != sizeof(c)) {
		log_err("state stream: record IRQCHIP: %zu bytes, not %zu", len, sizeof(c));
		return -EBADMSG;
	}
	memcpy(c, p, sizeof(c));
	for (uint32_t i = 0; i < SNAP_NCHIPS; i++) {
		if (c[i].chip_id != i || c[i].pad ||
		    (i < KVM_IRQCHIP_IOAPIC && !snap_pic_ok(&c[i].chip.pic))) {
			log_err("state stream: record IRQCHIP: chip %u is malformed", i);
			return -EBADMSG;
		}
	}
	if (c[KVM_IRQCHIP_IOAPIC].chip.ioapic.base_address != GUEST_IOAPIC_ADDR) {
		log_err("state stream: record IRQCHIP: the IOAPIC at 0x%llx, not 0x%llx",
			(unsigned long long)c[KVM_IRQCHIP_IOAPIC].chip.ioapic.base_address,
			(unsigned long long)GUEST_IOAPIC_ADDR);
		return -EBADMSG;
	}
	return 0;
}

int snap_irqchip_restore(struct vm *vm, const uint8_t *p, size_t len)
{
	struct kvm_irqchip c[SNAP_NCHIPS];

	if (len != sizeof(c))
		return -EBADMSG;
	memcpy(c, p, sizeof(c));
	for (uint32_t i = 0; i < SNAP_NCHIPS; i++) {
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &c[i]) < 0) {
			log_err("restore: KVM_SET_IRQCHIP %u: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int snap_pit_save(struct vm *vm, struct snap_buf *b)
{
	struct kvm_pit_state2 s;

	memset(&s, 0, sizeof(s));
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s) < 0) {
		log_err("save: KVM_GET_PIT2: %s", strerror(errno));
		return -errno;
	}
	b->len = 0;
	return snap_buf_put(b, &s, sizeof(s));
}

int snap_pit_check(const uint8_t *p, size_t len)
{
	struct kvm_pit_state2 s;

	if (len != sizeof(s)) {
		log_err("state stream: record PIT: %zu bytes, not %zu", len, sizeof(s));
		return -EBADMSG;
	}
	memcpy(&s, p, sizeof(s));
	if (s.flags & ~(uint32_t)(KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)) {
		log_err("state stream: record PIT: flags 0x%x unknown", s.flags);
		return -EBADMSG;
	}
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &s.channels[i];

		/* mode 0xff: never programmed (KVM's reset value) */
		if (c->count > 0x10000 || (c->mode > 5 && c->mode != 0xff) || c->rw_mode > 3 ||
		    c->read_state > 4 || c->write_state > 4 || c->bcd > 1 ||
		    c->gate > 1 || c->status_latched > 1 || c->count_latched > 3) {
			log_err("state stream: record PIT: channel %d is malformed", i);
			return -EBADMSG;
		}
	}
	return 0;
}

int snap_pit_restore(struct vm *vm, const uint8_t *p, size_t len)
{
	struct kvm_pit_state2 s;

	if (len != sizeof(s))
		return -EBADMSG;
	memcpy(&s, p, sizeof(s));
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s) < 0) {
		log_err("restore: KVM_SET_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int snap_clock_save(struct vm *vm, struct snap_buf *b)
{
	b->len = 0;
	return snap_buf_put(b, &vm->clock, sizeof(vm->clock));
}

int snap_clock_check(const uint8_t *p, size_t len)
{
	struct kvm_clock_data c;

	if (len != sizeof(c)) {
		log_err("state stream: record CLOCK: %zu bytes, not %zu", len, sizeof(c));
		return -EBADMSG;
	}
	memcpy(&c, p, sizeof(c));
	if (c.flags & ~(uint32_t)(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
				  KVM_CLOCK_HOST_TSC)) {
		log_err("state stream: record CLOCK: flags 0x%x unknown", c.flags);
		return -EBADMSG;
	}
	return 0;
}

/* Only the guest's nanoseconds: vm_resume sets them (KVM_SET_CLOCK). */
void snap_clock_restore(struct vm *vm, const uint8_t *p, size_t len)
{
	struct kvm_clock_data c;

	memset(&c, 0, sizeof(c));
	memcpy(&c, p, len < sizeof(c) ? len : sizeof(c));
	memset(&vm->clock, 0, sizeof(vm->clock));
	vm->clock.clock = c.clock;
}
