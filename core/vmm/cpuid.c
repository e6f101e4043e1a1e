/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's CPUID, filtered.  KVM_GET_SUPPORTED_CPUID lists everything
 * this KVM can emulate, which includes nested virtualization (VMX/SVM:
 * the guest's kernel then loads kvm-intel/kvm-amd and drives a nested
 * hypervisor, a large attack surface in the host kernel that no Bulwark
 * guest needs) and the extended PMUs (counters the guest programs through
 * MSRs).  AMD's four legacy K7 counters (MSRs 0xC0010000..7) have no CPUID
 * bit: a Linux guest still probes them, and where the host KVM has no PMU
 * (the lab) that probe is logged as "Unhandled WRMSR(0xc0010007)" and
 * fails safely (#GP, the guest disables perf).  Peers do the same: QEMU's
 * named CPU models leave VMX/SVM out unless asked, Firecracker's templates
 * clear them.
 */
#include "core/vmm/cpuid.h"

#include <stddef.h>
#include <stdint.h>

#define F1_ECX_VMX          (1u << 5)
#define F1_ECX_PDCM         (1u << 15)
#define X1_ECX_SVM          (1u << 2)
#define X1_ECX_PERFCTR_CORE (1u << 23)
#define X1_ECX_PERFCTR_NB   (1u << 24)
#define X1_ECX_PERFCTR_LLC  (1u << 28)
#define F1_ECX_XSAVE        (1u << 26)

#define XCR0_FP      (1ULL << 0)
#define XCR0_SSE     (1ULL << 1)
#define XCR0_YMM     (1ULL << 2)
#define XCR0_MPX     (3ULL << 3)          /* BNDREGS, BNDCSR */
#define XCR0_AVX512  (7ULL << 5)          /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX     (3ULL << 17)         /* XTILECFG, XTILEDATA */

static void cpuid_clear(struct kvm_cpuid_entry2 *e)
{
	e->eax = e->ebx = e->ecx = e->edx = 0;
}

void cpuid_filter(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 0x1:
			e->ecx &= ~(F1_ECX_VMX | F1_ECX_PDCM);
			break;
		case 0xa:               /* Intel architectural PMU: version 0 */
		case 0x8000000a:        /* SVM revision and features */
		case 0x80000022:        /* AMD PerfMonV2 */
			cpuid_clear(e);
			break;
		case 0x80000001:
			e->ecx &= ~(X1_ECX_SVM | X1_ECX_PERFCTR_CORE |
				    X1_ECX_PERFCTR_NB | X1_ECX_PERFCTR_LLC);
			break;
		default:
			break;
		}
	}
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c,
						 uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

/* Keep a group of components only whole (KVM's __kvm_set_xcr rules). */
static uint64_t cpuid_xcr0_whole(uint64_t x, uint64_t group)
{
	return (x & group) == group ? x : x & ~group;
}

uint64_t cpuid_xcr0(const struct kvm_cpuid2 *c)
{
	const struct kvm_cpuid_entry2 *f1 = cpuid_find(c, 0x1, 0);
	const struct kvm_cpuid_entry2 *d0 = cpuid_find(c, 0xd, 0);
	uint64_t x;

	if (!f1 || !d0 || !(f1->ecx & F1_ECX_XSAVE))
		return 0;
	x = ((uint64_t)d0->edx << 32 | d0->eax) | XCR0_FP;
	if (!(x & XCR0_SSE))
		x &= ~XCR0_YMM;
	if (!(x & XCR0_YMM))
		x &= ~XCR0_AVX512;
	x = cpuid_xcr0_whole(x, XCR0_MPX);
	x = cpuid_xcr0_whole(x, XCR0_AVX512);
	return cpuid_xcr0_whole(x, XCR0_AMX);
}
