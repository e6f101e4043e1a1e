/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's CPUID: what of the host's KVM_GET_SUPPORTED_CPUID it may see. */
#ifndef BULWARK_CPUID_H
#define BULWARK_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* Remove from C what Bulwark does not give a guest: hardware
 * virtualization (VMX, SVM and its feature leaf) and the performance
 * monitoring units (Intel leaf 0xA, AMD PerfCtrExtCore/NB/LLC, PerfMonV2,
 * PDCM).  Idempotent; touches no other bit. */
void cpuid_filter(struct kvm_cpuid2 *c);

/* The XCR0 a guest of table C may enable: CPUID[0xD,0] EDX:EAX when
 * CPUID[1] offers XSAVE, less the groups whose parts are not all there
 * (AVX-512's three, MPX's two, AMX's two: KVM refuses them half set).
 * 0 when the guest has no XSAVE. */
uint64_t cpuid_xcr0(const struct kvm_cpuid2 *c);

#endif
