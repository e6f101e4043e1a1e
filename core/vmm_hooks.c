/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Confinement hooks of the guest-facing VMM, called by vmm_main.c.  The
 * least-privilege issue replaces these bodies with the jail (once per
 * process, before the first KVM_RUN) and the per-role seccomp filters (first
 * thing in every thread).  Until then they confine nothing: see SECURITY.md.
 */
#include "core/vm.h"

int vmm_process_confine(struct vm *vm)
{
	(void)vm;
	return 0;
}

int vmm_thread_confine(struct vm *vm, enum vmm_role role)
{
	(void)vm;
	(void)role;
	return 0;
}
