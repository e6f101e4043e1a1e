/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: creation, architectural set-up (CPUID, MSRs, LAPIC, registers), run loop. */
#ifndef BULWARK_VCPU_H
#define BULWARK_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/bootparams.h"
#include "core/vmm_abi.h"

struct vm;

struct vcpu {
	struct vm *vm;
	uint32_t id;                 /* also its APIC id */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
	_Atomic int tid;             /* its thread id (VMM's pid namespace) */
	uint64_t exits[VMM_EXIT_KINDS];  /* by reason, relaxed atomic adds */
	uint64_t tsc_offset;         /* KVM_VCPU_TSC_OFFSET saved at pause */
	int exit_pending;            /* the last exit was port or MMIO I/O: it
				      * completes at the next KVM_RUN */
};

int vcpu_create(struct vm *vm, struct vcpu *v, uint32_t id);
void vcpu_destroy(struct vcpu *v);

/* CPUID, MSRs, LAPIC LINT0/LINT1, FPU; registers and mode for the BSP. */
int vcpu_setup(struct vcpu *v, const struct kvm_cpuid2 *supported,
	       const struct boot_layout *lay);

/* CPUID only (the filtered, patched table): a restored vCPU's first step. */
int vcpu_setup_cpuid(struct vcpu *v, const struct kvm_cpuid2 *supported);

/* KVM_GET_SUPPORTED_CPUID; free() the result. */
int vcpu_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out);

/* Patch one vCPU's CPUID table: topology for NCPUS, APIC id ID. */
void vcpu_cpuid_patch(struct kvm_cpuid2 *c, uint32_t id, uint32_t ncpus);

/* Thread entry (role VMM_ROLE_VCPU). */
void *vcpu_thread(void *arg);

/* Make every vCPU leave KVM_RUN (immediate_exit + signal).  Main thread
 * only: after the VM left VM_RUNNING and before joining the vCPU threads
 * (so every thread it signals still exists), or to pause (vm_pause). */
void vcpu_kick_all(struct vm *vm);

/* Signal used to kick vCPU threads; its handler does nothing. */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif
