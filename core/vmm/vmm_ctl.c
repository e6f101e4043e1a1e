/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM's side of the launcher's control channel (VMM_FD_CONTROL,
 * core/vmm_abi.h): one fixed-size request, one fixed-size reply, on the
 * main thread.  Only the launcher holds the other end; the guest cannot
 * reach it.  Still, every request is checked (size, op) before acting.
 */
#include "core/vmm/vmm_ctl.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/mig.h"
#include "core/vmm/snap.h"
#include "core/vmm/vcpu.h"
#include "core/vmm/virtio_setup.h"
#include "core/vmm_abi.h"

static_assert(VMM_CTL_MAX_VCPUS >= VM_MAX_CPUS, "a tid per vCPU");

static void vmm_ctl_stats(struct vm *vm, struct vmm_ctl_stats *st)
{
	struct virtio_counters disk, net;

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < vm->nvcpus && i < VMM_CTL_MAX_VCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		for (int k = 0; k < VMM_EXIT_KINDS; k++)
			st->exits[k] += __atomic_load_n(&v->exits[k], __ATOMIC_RELAXED);
		st->vcpu_tid[i] = atomic_load(&v->tid);
	}
	st->nvcpus = vm->nvcpus;
	virtio_counters_sum(vm->virtio, &disk, &net);
	st->disk_read_bytes = disk.in_bytes;
	st->disk_reads = disk.in_reqs;
	st->disk_write_bytes = disk.out_bytes;
	st->disk_writes = disk.out_reqs;
	st->net_rx_bytes = net.in_bytes;
	st->net_rx_packets = net.in_reqs;
	st->net_tx_bytes = net.out_bytes;
	st->net_tx_packets = net.out_reqs;
}

int vmm_ctl_service(struct vm *vm, int fd)
{
	struct vmm_ctl_req req = { 0 };
	struct vmm_ctl_reply rep;
	uint8_t buf[sizeof(req) + 1];               /* + 1: a longer one is seen */
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	memset(&rep, 0, sizeof(rep));
	rep.result = -EINVAL;
	if (n == (ssize_t)sizeof(req)) {
		memcpy(&req, buf, sizeof(req));
		rep.op = req.op;
		rep.seq = req.seq;
		if (req.op == VMM_CTL_PAUSE)
			rep.result = vm_pause(vm);
		else if (req.op == VMM_CTL_RESUME)
			rep.result = vm_resume(vm);
		else if (req.op == VMM_CTL_STATS)
			rep.result = 0;
		else if (req.op == VMM_CTL_SAVE)    /* not inside a migration stream */
			rep.result = vm->mig ? -EBUSY : snap_save(vm, VMM_FD_SNAP);
		else if (req.op >= VMM_CTL_MIG_START && req.op <= VMM_CTL_MIG_CANCEL)
			rep.result = mig_order(vm, req.op, VMM_FD_SNAP, &rep.mig);
	}
	if (rep.result == -EINVAL)
		log_warn("control: refused a request of %zd bytes, op %u", n,
			 n == (ssize_t)sizeof(req) ? req.op : 0);
	rep.paused = (uint32_t)vm->paused;
	vmm_ctl_stats(vm, &rep.stats);
	if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		return -EPIPE;
	return 0;
}
