/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One vCPU's state in the state stream (SNAP_REC_VCPU, core/snapshot.h):
 *   struct snap_vcpu (registers, special registers, XCRs, LAPIC, pending
 *   events, MP state, debug registers), then the XSAVE area (or the legacy
 *   FPU state where KVM has no XSAVE), then NMSRS struct kvm_msr_entry.
 * The MSRs are the guest's (SYSCALL/SYSENTER, TSC and TSC_ADJUST, PAT,
 * MTRRs, the TSC deadline, KVM's paravirtual clock, steal time, async PF
 * and PV EOI), each only where KVM lists it (KVM_GET_MSR_INDEX_LIST) and
 * reads it; a restored stream may name only these (snap_msr_allowed).
 *
 * Restore order (KVM's constraints, as the kernel documents them and as
 * QEMU and cloud-hypervisor honour them): CPUID first (vcpu_setup, so the
 * guest sees the same CPU); registers; special registers (EFER, CR0/CR4 and
 * the APIC base: the LAPIC state's format and the MSRs depend on them);
 * XSAVE then XCRs; the MSRs but the TSC deadline; MP state; LAPIC (which
 * clears the TSC deadline); then the TSC deadline; pending events; debug
 * registers.
 */
#include "core/vmm/snap.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "core/util.h"
#include "core/vmm/vcpu.h"

#define SNAP_VCPU_VERSION 1
#define SNAP_VCPU_F_XSAVE 1u
#define SNAP_VCPU_MAX_MSRS 64u

#define MSR_TSC_DEADLINE  0x6e0u

struct snap_vcpu {
	uint32_t version;            /* SNAP_VCPU_VERSION */
	uint32_t flags;              /* SNAP_VCPU_F_XSAVE */
	uint32_t fpu_len;            /* bytes of XSAVE area or struct kvm_fpu */
	uint32_t nmsrs;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	uint32_t pad;                /* 0 */
	struct kvm_debugregs dregs;
};
static_assert(sizeof(struct snap_vcpu) == 16 + sizeof(struct kvm_regs) +
	      sizeof(struct kvm_sregs) + sizeof(struct kvm_xcrs) +
	      sizeof(struct kvm_lapic_state) + sizeof(struct kvm_vcpu_events) +
	      sizeof(struct kvm_mp_state) + 4 + sizeof(struct kvm_debugregs),
	      "on-wire, no padding");
static_assert(sizeof(struct snap_vcpu) + sizeof(struct kvm_xsave) +
	      SNAP_VCPU_MAX_MSRS * sizeof(struct kvm_msr_entry) <= SNAP_VCPU_MAX,
	      "a vCPU fits its record");

/* In this order: ASYNC_PF_INT before ASYNC_PF_EN (KVM refuses interrupt
 * delivery of async PF before its vector is set). */
static const uint32_t snap_msrs[] = {
	0x174, 0x175, 0x176,                         /* SYSENTER_CS/ESP/EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR LSTAR CSTAR SFMASK */
	0xc0000102, 0xc0000103,                      /* KERNEL_GS_BASE, TSC_AUX */
	0x10, 0x3b,                                  /* TSC, TSC_ADJUST */
	0x1a0, 0x277, 0x48, 0xda0,                   /* MISC_ENABLE PAT SPEC_CTRL XSS */
	0x2ff, 0x250, 0x258, 0x259,                  /* MTRR default, fixed */
	0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
	0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207, /* MTRR variable */
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
	0x11, 0x12,                                  /* KVM wall clock, system time */
	0x4b564d00, 0x4b564d01,                      /* ... their _NEW forms */
	0x4b564d03, 0x4b564d04, 0x4b564d05,          /* steal time, PV EOI, poll */
	0x4b564d06, 0x4b564d02,                      /* ASYNC_PF_INT, ASYNC_PF_EN */
	MSR_TSC_DEADLINE,                            /* last: after the LAPIC */
};
static_assert(ARRAY_SIZE(snap_msrs) <= SNAP_VCPU_MAX_MSRS, "bound");

static int snap_msr_allowed(uint32_t index)
{
	for (size_t i = 0; i < ARRAY_SIZE(snap_msrs); i++)
		if (snap_msrs[i] == index)
			return 1;
	return 0;
}

/* What the save asks /dev/kvm, asked once before the filters (the main
 * thread's has no KVM_GET_MSR_INDEX_LIST nor KVM_CHECK_EXTENSION). */
static struct {
	struct kvm_msr_list h;
	uint32_t idx[1024];
} snap_msr_list;
static int snap_prepared, snap_has_xsave, snap_has_xcrs;

int snap_prepare(int kvm_fd)
{
	snap_msr_list.h.nmsrs = ARRAY_SIZE(snap_msr_list.idx);
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &snap_msr_list) < 0) {
		log_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
		return -errno;
	}
	snap_has_xsave = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	snap_has_xcrs = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	snap_prepared = 1;
	return 0;
}

/* Whether KVM here lists INDEX (KVM_GET_MSR_INDEX_LIST). */
static int snap_msr_listed(uint32_t index)
{
	for (uint32_t i = 0; i < snap_msr_list.h.nmsrs && i < ARRAY_SIZE(snap_msr_list.idx); i++)
		if (snap_msr_list.idx[i] == index)
			return 1;
	return 0;
}

static int snap_vcpu_msrs_save(struct vcpu *v, struct snap_buf *b, uint32_t *n)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m;

	*n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(snap_msrs); i++) {
		if (!snap_msr_listed(snap_msrs[i]))
			continue;
		memset(&m, 0, sizeof(m));
		m.h.nmsrs = 1;
		m.e.index = snap_msrs[i];
		if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
			continue;       /* listed, not readable for this CPU model */
		if (snap_buf_put(b, &m.e, sizeof(m.e)))
			return -EFBIG;
		(*n)++;
	}
	return *n ? 0 : -EIO;       /* not even the TSC: KVM broken */
}

/* The XSAVE area, or the FPU state where KVM has no XSAVE. */
static int snap_vcpu_fpu_save(struct vcpu *v, struct snap_vcpu *s, struct snap_buf *b)
{
	static struct kvm_xsave x;
	struct kvm_fpu f;

	if (snap_has_xsave) {
		if (ioctl(v->fd, KVM_GET_XSAVE, &x) < 0)
			return -errno;
		s->flags |= SNAP_VCPU_F_XSAVE;
		s->fpu_len = sizeof(x);
		return snap_buf_put(b, &x, sizeof(x));
	}
	if (ioctl(v->fd, KVM_GET_FPU, &f) < 0)
		return -errno;
	s->fpu_len = sizeof(f);
	return snap_buf_put(b, &f, sizeof(f));
}

int snap_vcpu_save(struct vcpu *v, int kvm_fd, struct snap_buf *b)
{
	struct snap_vcpu s;
	uint32_t n = 0;
	int rc = 0;

	(void)kvm_fd;
	if (!snap_prepared)
		return -EAGAIN;
	memset(&s, 0, sizeof(s));
	s.version = SNAP_VCPU_VERSION;
	if (ioctl(v->fd, KVM_GET_REGS, &s.regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s.sregs) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &s.lapic) < 0 ||
	    ioctl(v->fd, KVM_GET_VCPU_EVENTS, &s.events) < 0 ||
	    ioctl(v->fd, KVM_GET_MP_STATE, &s.mp) < 0 ||
	    ioctl(v->fd, KVM_GET_DEBUGREGS, &s.dregs) < 0)
		rc = -errno;
	if (!rc && snap_has_xcrs &&
	    ioctl(v->fd, KVM_GET_XCRS, &s.xcrs) < 0)
		rc = -errno;
	b->len = 0;
	if (!rc)
		rc = snap_buf_put(b, &s, sizeof(s));
	if (!rc)
		rc = snap_vcpu_fpu_save(v, &s, b);
	if (!rc)
		rc = snap_vcpu_msrs_save(v, b, &n);
	if (rc) {
		log_err("save: vCPU %u: %s", v->id, strerror(-rc));
		return rc;
	}
	s.nmsrs = n;
	memcpy(b->p, &s, sizeof(s));    /* flags, fpu_len, nmsrs now known */
	return 0;
}

#define snap_vcpu_bad(id, fmt, ...) \
	(log_err("state stream: record VCPU[%u]: " fmt, id, ##__VA_ARGS__), -EBADMSG)

int snap_vcpu_check(int kvm_fd, uint32_t id, const uint8_t *p, size_t len)
{
	const struct kvm_msr_entry *e;
	struct snap_vcpu s;
	size_t fpu_want;

	if (len < sizeof(s))
		return snap_vcpu_bad(id, "%zu bytes, shorter than its registers", len);
	memcpy(&s, p, sizeof(s));
	if (s.version != SNAP_VCPU_VERSION || (s.flags & ~SNAP_VCPU_F_XSAVE))
		return snap_vcpu_bad(id, "version %u flags 0x%x unknown", s.version, s.flags);
	fpu_want = s.flags & SNAP_VCPU_F_XSAVE ? sizeof(struct kvm_xsave)
					       : sizeof(struct kvm_fpu);
	if ((s.flags & SNAP_VCPU_F_XSAVE) &&
	    ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0)
		return snap_vcpu_bad(id, "XSAVE state, and KVM here has no XSAVE");
	if (s.fpu_len != fpu_want || s.nmsrs > SNAP_VCPU_MAX_MSRS ||
	    len != sizeof(s) + fpu_want + s.nmsrs * sizeof(*e))
		return snap_vcpu_bad(id, "%zu bytes do not match FPU %u bytes and %u MSRs",
				     len, s.fpu_len, s.nmsrs);
	if (s.mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD)
		return snap_vcpu_bad(id, "MP state %u unknown", s.mp.mp_state);
	if (s.events.flags & ~(uint32_t)(KVM_VCPUEVENT_VALID_NMI_PENDING |
					KVM_VCPUEVENT_VALID_SIPI_VECTOR |
					KVM_VCPUEVENT_VALID_SHADOW |
					KVM_VCPUEVENT_VALID_SMM |
					KVM_VCPUEVENT_VALID_PAYLOAD |
					KVM_VCPUEVENT_VALID_TRIPLE_FAULT))
		return snap_vcpu_bad(id, "pending-event flags 0x%x unknown", s.events.flags);
	e = (const struct kvm_msr_entry *)(const void *)(p + sizeof(s) + fpu_want);
	for (uint32_t i = 0; i < s.nmsrs; i++) {
		struct kvm_msr_entry m;

		memcpy(&m, &e[i], sizeof(m));
		if (!snap_msr_allowed(m.index) || m.reserved)
			return snap_vcpu_bad(id, "MSR 0x%x is not one a snapshot may set",
					     m.index);
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(&e[j].index, &m.index, sizeof(m.index)))
				return snap_vcpu_bad(id, "MSR 0x%x twice", m.index);
	}
	return 0;
}

/* KVM_SET_MSRS of the entries whose TSC-deadline-ness is DEADLINE. */
static int snap_vcpu_msrs_set(struct vcpu *v, const uint8_t *p, uint32_t n, int deadline)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[SNAP_VCPU_MAX_MSRS];
	} m;
	int got;

	memset(&m, 0, sizeof(m));
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_msr_entry e;

		memcpy(&e, p + i * sizeof(e), sizeof(e));
		if ((e.index == MSR_TSC_DEADLINE) == !!deadline)
			m.e[m.h.nmsrs++] = e;
	}
	if (!m.h.nmsrs)
		return 0;
	got = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (got != (int)m.h.nmsrs) {
		log_err("restore: vCPU %u: KVM_SET_MSRS refused MSR 0x%x", v->id,
			got >= 0 && got < (int)m.h.nmsrs ? m.e[got].index : 0);
		return -EINVAL;
	}
	return 0;
}

static int snap_vcpu_fpu_set(struct vcpu *v, const struct snap_vcpu *s, const uint8_t *p)
{
	static struct kvm_xsave x;
	struct kvm_fpu f;

	if (s->flags & SNAP_VCPU_F_XSAVE) {
		memcpy(&x, p, sizeof(x));
		return ioctl(v->fd, KVM_SET_XSAVE, &x) < 0 ? -errno : 0;
	}
	memcpy(&f, p, sizeof(f));
	return ioctl(v->fd, KVM_SET_FPU, &f) < 0 ? -errno : 0;
}

int snap_vcpu_restore(struct vcpu *v, const uint8_t *p, size_t len)
{
	struct snap_vcpu s;
	const uint8_t *msrs;
	const char *step;
	int rc = 0;

	if (len < sizeof(s))
		return -EBADMSG;     /* snap_vcpu_check said so already */
	memcpy(&s, p, sizeof(s));
	msrs = p + sizeof(s) + s.fpu_len;
	/* NMI pending and the SIPI vector are restored too (not in GET's flags). */
	s.events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if ((step = "KVM_SET_REGS", ioctl(v->fd, KVM_SET_REGS, &s.regs) < 0) ||
	    (step = "KVM_SET_SREGS", ioctl(v->fd, KVM_SET_SREGS, &s.sregs) < 0))
		rc = -errno;
	if (!rc && (rc = snap_vcpu_fpu_set(v, &s, p + sizeof(s))))
		step = "KVM_SET_XSAVE";
	if (!rc && s.xcrs.nr_xcrs && ioctl(v->fd, KVM_SET_XCRS, &s.xcrs) < 0) {
		rc = -errno;
		step = "KVM_SET_XCRS";
	}
	if (!rc && (rc = snap_vcpu_msrs_set(v, msrs, s.nmsrs, 0)))
		step = "KVM_SET_MSRS";
	if (!rc && ((step = "KVM_SET_MP_STATE", ioctl(v->fd, KVM_SET_MP_STATE, &s.mp) < 0) ||
		    (step = "KVM_SET_LAPIC", ioctl(v->fd, KVM_SET_LAPIC, &s.lapic) < 0)))
		rc = -errno;
	if (!rc && (rc = snap_vcpu_msrs_set(v, msrs, s.nmsrs, 1)))
		step = "KVM_SET_MSRS (TSC deadline)";
	if (!rc && ((step = "KVM_SET_VCPU_EVENTS", ioctl(v->fd, KVM_SET_VCPU_EVENTS, &s.events) < 0) ||
		    (step = "KVM_SET_DEBUGREGS", ioctl(v->fd, KVM_SET_DEBUGREGS, &s.dregs) < 0)))
		rc = -errno;
	if (rc)
		log_err("restore: vCPU %u: %s: %s", v->id, step, strerror(-rc));
	return rc;
}
