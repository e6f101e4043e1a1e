/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The confinement hooks of bulwark-vmm (core/vmm/vm.h), implemented by the
 * sandbox: the jail's last step once per process, and the filter of each
 * thread's role.
 *
 * The main thread must create every thread before it confines itself (a
 * filter is inherited by threads created after it, and filters stack), and
 * guest-facing work must wait until every thread is confined.
 */
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "core/vmm/vm.h"

#ifdef __SANITIZE_ADDRESS__
/* Sanitizer build only: LSan's exit-time leak check stops the world with
 * clone and ptrace, which no filter allows; the unit tests check leaks. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static struct sandbox_filter vmm_filters[SANDBOX_ROLE_COUNT];
static enum sandbox_seccomp_mode vmm_mode = SANDBOX_SECCOMP_KILL;
static bool vmm_filters_ready;

void vmm_seccomp_mode_set(enum sandbox_seccomp_mode mode)
{
	vmm_mode = mode;
}

int vmm_process_confine(struct vm *vm)
{
	int rc;

	(void)vm;
	if (vmm_filters_ready)
		return -EALREADY;
	/* NO_NEW_PRIVS, not dumpable; refuses if any privilege is left. */
	rc = jail_finish_after_exec();
	if (rc)
		return rc;
	/*
	 * glibc work done lazily on first use, done now while open is still
	 * allowed: the first gmtime_r() (the RTC) reads the time zone file
	 * (the jail has none: UTC), and malloc sizes its arena limit with
	 * sched_getaffinity() when a ninth arena is wanted; a fixed limit
	 * avoids the call.
	 */
	tzset();
#ifndef __SANITIZE_ADDRESS__
	/* (The sanitizer build's allocator is ASan's: no glibc arenas.) */
	if (mallopt(M_ARENA_MAX, 8) != 1)
		return -EINVAL;
#endif
	/* Compiled once, before any thread needs one: installing then
	 * allocates nothing. */
	rc = sandbox_filters_build(vmm_mode, vmm_filters);
	if (rc)
		return rc;
	vmm_filters_ready = true;
	return 0;
}

static int vmm_sandbox_role(enum vmm_role role, enum sandbox_role *out)
{
	switch (role) {
	case VMM_ROLE_MAIN:
		*out = SANDBOX_ROLE_MAIN;
		return 0;
	case VMM_ROLE_VCPU:
		*out = SANDBOX_ROLE_VCPU;
		return 0;
	case VMM_ROLE_IO:
		*out = SANDBOX_ROLE_IO;
		return 0;
	}
	return -EINVAL;
}

int vmm_thread_confine(struct vm *vm, enum vmm_role role)
{
	enum sandbox_role r;
	int rc;

	(void)vm;
	/* Fail closed: no filter compiled means no guest-facing thread. */
	if (!vmm_filters_ready)
		return -EPERM;
	rc = vmm_sandbox_role(role, &r);
	if (rc)
		return rc;
	rc = sandbox_filter_install(&vmm_filters[r]);
	if (rc)
		log_err("role %s: cannot install the seccomp filter: %s",
			sandbox_role_name(r), strerror(-rc));
	return rc;
}
