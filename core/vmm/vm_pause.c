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
 * A guest may clock itself by its TSC rather than kvmclock (Linux does
 * when the TSC is invariant), and the TSC runs on through a pause: each
 * vCPU's TSC offset (KVM_VCPU_TSC_OFFSET, Linux 5.16) is saved at pause
 * beside the host's TSC, and at resume set to the saved offset less the
 * host TSC ticks of the pause, after KVM_SET_CLOCK (the order of the
 * kernel's own recipe, Documentation/virt/kvm/devices/vcpu.rst).  Bulwark
 * sets no TSC frequency, so guest and host TSC tick alike.  Where KVM has
 * no such attribute the pause is refused: a pause the guest sees is not
 * the pause the API promises.
 *
 * System calls this needs beyond running: KVM_GET_CLOCK, KVM_SET_CLOCK,
 * KVM_GET_DEVICE_ATTR and KVM_SET_DEVICE_ATTR on the main thread
 * (core/seccomp_tables.c); the waits are futexes and the wake-ups eventfd
 * writes, already allowed.
 */
#include <errno.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

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

static int vcpu_tsc_offset(struct vcpu *v, bool set)
{
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)&v->tsc_offset,
	};

	return ioctl(v->fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a) < 0 ?
	       -errno : 0;
}

/* Every vCPU is parked: save each one's TSC offset and the host's TSC. */
static int vm_tsc_save(struct vm *vm)
{
	int rc;

	vm->tsc_host_at_pause = __rdtsc();
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		rc = vcpu_tsc_offset(&vm->vcpus[i], false);
		if (rc) {
			log_err("pause: vCPU %u: KVM_VCPU_TSC_OFFSET: %s (the guest's "
				"TSC would not stop)", i, strerror(-rc));
			return rc;
		}
	}
	vm->tsc_saved = 1;
	return 0;
}

/* Take the pause's host TSC ticks off every vCPU's offset. */
static int vm_tsc_restore(struct vm *vm)
{
	uint64_t ticks = __rdtsc() - vm->tsc_host_at_pause;
	int rc, first = 0;

	if (!vm->tsc_saved)
		return 0;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].tsc_offset -= ticks;
		rc = vcpu_tsc_offset(&vm->vcpus[i], true);
		if (rc && !first) {
			first = rc;
			log_err("resume: vCPU %u: KVM_VCPU_TSC_OFFSET: %s (its TSC "
				"jumps by the pause)", i, strerror(-rc));
		}
	}
	vm->tsc_saved = 0;
	return first;
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
	if (!rc)
		rc = vm_tsc_save(vm);
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

/* A restored VM (core/vmm/snap_restore.c): paused from the start, its
 * TSC offsets taken now, so the time until the resume is taken off too. */
int vm_pause_restored(struct vm *vm)
{
	int rc = vm_tsc_save(vm);

	if (rc)
		return rc;
	atomic_store(&vm->pause_req, 1);
	vm->paused = 1;
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
		log_err("resume: KVM_SET_CLOCK: %s (the guest's kvmclock jumps by "
			"the pause)", strerror(-rc));
	}
	rc = vm_tsc_restore(vm) ?: rc;
	vm->paused = 0;
	vm_unpark_all(vm);
	log_info("resumed%s", rc ? ", with a clock jump (above)" : "");
	return rc;
}
