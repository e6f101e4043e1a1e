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

#include <stdint.h>

#define F1_ECX_VMX          (1u << 5)
#define F1_ECX_PDCM         (1u << 15)
#define X1_ECX_SVM          (1u << 2)
#define X1_ECX_PERFCTR_CORE (1u << 23)
#define X1_ECX_PERFCTR_NB   (1u << 24)
#define X1_ECX_PERFCTR_LLC  (1u << 28)

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
