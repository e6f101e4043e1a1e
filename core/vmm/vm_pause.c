/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pause and resume of a running VM (core/vmm/vm.h), for the launcher's
 * VMM_CTL_PAUSE / VMM_CTL_RESUME orders (core/vmm_abi.h).
 *
 * Pause, in this order: ask (pause_req), kick every vCPU out of KVM_RUN
 * (immediate_exit + the kick signal), wait until every vCPU is parked
 * (a vCPU finishes the exit it is handling first, so a device access is
 * never cut in two); then the virtio I/O threads finish the request they
 * are doing and park (their queues' kicks wait in the eventfds); last, the
 * guest clock is saved (KVM_GET_CLOCK).  Resume: KVM_SET_CLOCK with the
 * saved value (the guest's kvmclock, so its CLOCK_MONOTONIC, does not see
 * the pause), then I/O threads, then vCPUs.
 *
 * System calls this needs beyond running: KVM_GET_CLOCK and KVM_SET_CLOCK
 * on the main thread (core/seccomp_tables.c); the waits are futexes and
 * the wake-ups eventfd writes, already allowed.
 */
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "core/vmm/vcpu.h"
#include "core/vmm/virtio_setup.h"
#include "core/vmm/vm.h"

#define VM_PAUSE_TIMEOUT_MS 5000   /* a vCPU stuck in a device (the vTPM) */

void vm_park_point(struct vm *vm, struct kvm_run *run)
{
	if (!atomic_load(&vm->pause_req))
		return;
	pthread_mutex_lock(&vm->park_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->park_cond);
	while (atomic_load(&vm->pause_req) && vm_running(vm))
		pthread_cond_wait(&vm->park_cond, &vm->park_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->park_lock);
	/* Before the caller's vm_running() check: a stop asked from now on
	 * sets it again (vm_request_stop), so it is never lost. */
	__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

/*
 * Wait until every vCPU is parked, at most VM_PAUSE_TIMEOUT_MS, in 1 ms
 * polls (no clock read: the main thread's filter has no clock_gettime).
 */
static int vm_park_wait(struct vm *vm)
{
	for (int waited = 0; waited <= VM_PAUSE_TIMEOUT_MS; waited++) {
		uint32_t parked;

		pthread_mutex_lock(&vm->park_lock);
		parked = vm->parked;
		pthread_mutex_unlock(&vm->park_lock);
		if (!vm_running(vm))
			return -ESHUTDOWN;
		if (parked == vm->nvcpus)
			return 0;
		poll(NULL, 0, 1);
	}
	return -ETIMEDOUT;
}

void vm_unpark_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->park_lock);
	atomic_store(&vm->pause_req, 0);
	pthread_cond_broadcast(&vm->park_cond);
	pthread_mutex_unlock(&vm->park_lock);
	virtio_resume(vm->virtio);
}

int vm_pause(struct vm *vm)
{
	int rc;

	if (vm->paused)
		return -EALREADY;
	atomic_store(&vm->pause_req, 1);
	vcpu_kick_all(vm);
	rc = vm_park_wait(vm);
	if (!rc)
		rc = virtio_pause(vm->virtio);
	if (!rc && ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->clock) < 0)
		rc = -errno;
	if (rc) {
		log_err("pause: %s; the guest runs on", strerror(-rc));
		vm_unpark_all(vm);
		return rc;
	}
	vm->paused = 1;
	log_info("paused: %u vCPUs parked, I/O quiesced, guest clock %llu ns",
		 vm->nvcpus, (unsigned long long)vm->clock.clock);
	return 0;
}

int vm_resume(struct vm *vm)
{
	struct kvm_clock_data c = { .clock = vm->clock.clock };
	int rc = 0;

	if (!vm->paused)
		return -EALREADY;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0) {
		rc = -errno;
		log_warn("resume: KVM_SET_CLOCK: %s (the guest clock jumps)", strerror(-rc));
	}
	vm->paused = 0;
	vm_unpark_all(vm);
	log_info("resumed");
	return 0;
}
