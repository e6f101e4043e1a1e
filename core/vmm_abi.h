/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the launcher (bulwark run) hands the guest-facing VMM (bulwark-vmm):
 * exactly these file descriptors, nothing else open, an empty environment,
 * and argv "bulwark-vmm [--log-level LEVEL] [--seccomp MODE] [--restore|--incoming]"
 * (MODE kill, the default, or log: the vm_config seccomp mode the launcher
 * measured in the security state; --restore: see VMM_FD_SNAP below).  The configuration arrives as the canonical JSON in a
 * sealed memfd, so the VMM runs exactly what the launcher validated and
 * measured.
 *
 * Optional descriptors are absent (closed) when their device is: the VMM
 * decides from the configuration which ones it expects, and fails closed if
 * an expected one is not open.
 */
#ifndef BULWARK_VMM_ABI_H
#define BULWARK_VMM_ABI_H

#include <signal.h>

#define VMM_FD_CONFIG  3   /* sealed memfd: config_canonical() bytes */
#define VMM_FD_KVM     4   /* /dev/kvm */
#define VMM_FD_KERNEL  5   /* the bzImage, read-only */
#define VMM_FD_INITRD  6   /* the initrd, read-only; absent without one */
#define VMM_FD_TPM     7   /* the VMM end of the launcher's TPM proxy
			    * socketpair (stream); absent without vTPM */
#define VMM_FD_TAP     8   /* /dev/net/tun attached to cfg.tap (IFF_TAP |
			    * IFF_NO_PI, no IFF_VNET_HDR); absent without NIC */
#define VMM_FD_DISK0   9   /* cfg.disks[i] at VMM_FD_DISK0 + i: a regular
			    * file, O_RDWR, or O_RDONLY when readonly */
#define VMM_FD_DISK_LAST (VMM_FD_DISK0 + 7)          /* 16 */
#define VMM_FD_EVLOG   17  /* sealed memfd: the measured boot's event log
			    * (TCG crypto-agile), at most EVLOG_MAX_SIZE
			    * bytes; absent without vTPM */
#define VMM_FD_CONTROL 18  /* the VMM end of a SOCK_SEQPACKET socketpair:
			    * the launcher's orders (struct vmm_ctl_req),
			    * the VMM's answers (struct vmm_ctl_reply) */
#define VMM_FD_SNAP    19  /* the VMM end of a SOCK_STREAM socketpair, always
			    * given: VMM_CTL_SAVE writes one state stream
			    * (core/snapshot.h) to it; with --restore the VMM
			    * reads one from it instead of loading a kernel */
#define VMM_FD_FIRST_FREE 20

#define VMM_BINARY "bulwark-vmm"

/* Exit status of bulwark-vmm (and so of bulwark run). */
#define VMM_EXIT_OK      0   /* the guest powered off or asked for a reboot */
#define VMM_EXIT_GUEST   1   /* triple fault, KVM error, unhandled exit */
#define VMM_EXIT_SETUP   2   /* bad configuration or set-up failure */
#define VMM_EXIT_STOPPED 3   /* stopped hard (VMM_SIG_STOP): the guest did
			      * not power off after the power button */

/*
 * Signals bulwark-vmm acts on: SIGTERM, SIGINT and SIGHUP press the guest's
 * ACPI power button (again on each signal: a press is never lost, and
 * presses the guest has not acknowledged yet are one); VMM_SIG_STOP stops
 * the vCPUs at once (VMM_EXIT_STOPPED).  The launcher decides when
 * (--stop-timeout, a second signal).
 */
#define VMM_SIG_STOP     SIGUSR2

/*
 * VMM_FD_CONTROL: one request, one reply, in order, each one datagram of
 * exactly its struct's size (anything else is refused with -EINVAL).  The
 * VMM's main thread answers; it takes orders from the launcher only (the
 * guest never reaches this socket).  Power button and hard stop stay
 * signals (above).
 *   VMM_CTL_PAUSE   every vCPU leaves KVM_RUN and parks, every virtio I/O
 *                   thread finishes its request in flight and stops taking
 *                   new ones, the guest clock is saved (KVM_GET_CLOCK).
 *                   result 0, or -EALREADY when paused already
 *   VMM_CTL_RESUME  the clock is put back (KVM_SET_CLOCK), I/O threads and
 *                   vCPUs carry on.  result 0, or -EALREADY when running
 *   VMM_CTL_STATS   the counters only
 *   VMM_CTL_SAVE    refused (-EBUSY) unless paused, and while a TPM command
 *                   is in flight; writes ONE state stream (core/snapshot.h)
 *                   to VMM_FD_SNAP, then replies: result 0 or -errno (the VM
 *                   stays paused either way).  The launcher reads VMM_FD_SNAP
 *                   concurrently and frames it with snap_frame_check().
 *
 * Restore (argv --restore): the VMM reads ONE state stream from VMM_FD_SNAP
 * (to its END record), validates all of it against the configuration
 * (VMM_FD_CONFIG: the same canonical config as at the original start; disk,
 * tap and TPM fds as for a start; VMM_FD_KERNEL and VMM_FD_INITRD absent),
 * creates the VM from it instead of loading a kernel, and comes up PAUSED:
 * the launcher measures the restore event, then sends VMM_CTL_RESUME.  Any
 * invalid byte: exit VMM_EXIT_SETUP with a log line naming the record.
 * Every reply carries the state and the counters (after the order).
 *
 * Live migration (issue 18): the migration stream (core/snapshot.h,
 * SNAP_MIG_MAGIC) goes to VMM_FD_SNAP, which the launcher reads and frames
 * with snap_frame_check() in migration mode (snap_frame_init(st, 1)).
 *   VMM_CTL_MIG_START   running or paused.  Dirty tracking on (KVM's dirty
 *                       log on every RAM slot, and the VMM's own bitmap of
 *                       the guest pages its devices write), then the header
 *                       and ROUND 0: every non-zero page of RAM as PAGES
 *                       records, then ROUND_END[0].  -EBUSY when a
 *                       migration is in progress already.
 *   VMM_CTL_MIG_ROUND   the pages dirtied since the previous round (zero
 *                       pages too), as round N = previous + 1, then
 *                       ROUND_END[N].  -EINVAL without START; -E2BIG when
 *                       it would be round SNAP_MIG_MAX_ROUNDS - 1 (the last
 *                       is FINAL's).
 *   VMM_CTL_MIG_FINAL   paused only (-EBUSY otherwise, and while a TPM
 *                       command is in flight): the last dirty pages as the
 *                       final round, then the state exactly as VMM_CTL_SAVE
 *                       writes it after its header but without MEM: META,
 *                       VCPU..., IRQCHIP, PIT, CLOCK, DEV..., END.  The VM
 *                       stays paused; dirty tracking ends.
 *   VMM_CTL_MIG_CANCEL  dirty tracking off, bitmaps freed, the guest
 *                       untouched.  0, or -EALREADY when none in progress.
 * VMM_CTL_SAVE is refused (-EBUSY) while a migration is in progress (the
 * two streams share VMM_FD_SNAP).
 * Orders out of order are refused, never half-done; a write error on
 * VMM_FD_SNAP during a round ends the migration (as CANCEL) and is the
 * order's result.  The reply's mig part carries this order's figures.
 *
 * Incoming (argv --incoming): as --restore, but VMM_FD_SNAP carries a
 * migration stream: RAM is mapped first and filled from the rounds as
 * they arrive, then the state records are validated whole, the VM is
 * built from them and comes up PAUSED (the launcher measures the
 * migration event, then sends VMM_CTL_RESUME).  Any invalid byte: exit
 * VMM_EXIT_SETUP with a log line naming the record.
 */
#include <stdint.h>

#include "core/util.h"

enum vmm_ctl_op { VMM_CTL_PAUSE = 1, VMM_CTL_RESUME = 2, VMM_CTL_STATS = 3,
		  VMM_CTL_SAVE = 4, VMM_CTL_MIG_START = 5, VMM_CTL_MIG_ROUND = 6,
		  VMM_CTL_MIG_FINAL = 7, VMM_CTL_MIG_CANCEL = 8 };

#define VMM_ARG_RESTORE "--restore"
#define VMM_ARG_INCOMING "--incoming"

/* Why vCPUs left KVM_RUN, as counted (the metrics' "reason" label). */
enum vmm_exit_kind {
	VMM_EXIT_KIND_IO, VMM_EXIT_KIND_MMIO, VMM_EXIT_KIND_HLT, VMM_EXIT_KIND_INTR,
	VMM_EXIT_KIND_SYSTEM_EVENT, VMM_EXIT_KIND_OTHER, VMM_EXIT_KINDS
};

#define VMM_CTL_MAX_VCPUS 64      /* >= VM_MAX_CPUS (static_assert in vmm_main.c) */

struct vmm_ctl_req {
	uint32_t op;               /* enum vmm_ctl_op */
	uint32_t seq;              /* echoed */
};
static_assert(sizeof(struct vmm_ctl_req) == 8, "on-wire");

struct vmm_ctl_stats {
	uint64_t exits[VMM_EXIT_KINDS];   /* all vCPUs */
	uint64_t disk_read_bytes, disk_reads, disk_write_bytes, disk_writes;
	uint64_t net_rx_bytes, net_rx_packets, net_tx_bytes, net_tx_packets;
	uint32_t nvcpus;
	int32_t vcpu_tid[VMM_CTL_MAX_VCPUS];   /* in the VMM's pid namespace */
	uint32_t pad;
};
static_assert(sizeof(struct vmm_ctl_stats) == 6 * 8 + 8 * 8 + 4 + 64 * 4 + 4,
	      "on-wire");

/* A migration order's figures (zero in other replies). */
struct vmm_ctl_mig {
	uint32_t round;            /* the round this order wrote (FINAL: the last) */
	uint32_t pad;
	uint64_t pages;            /* pages written by this order */
	uint64_t bytes;            /* stream bytes written by this order */
	uint64_t ns;               /* time this order spent collecting and writing */
	uint64_t dirty_pages_total; /* pages found dirty since START (rounds 1..) */
};
static_assert(sizeof(struct vmm_ctl_mig) == 40, "on-wire");

struct vmm_ctl_reply {
	uint32_t op, seq;          /* the request's */
	int32_t result;            /* 0 or -errno */
	uint32_t paused;           /* 1 while paused */
	struct vmm_ctl_stats stats;
	struct vmm_ctl_mig mig;
};
static_assert(sizeof(struct vmm_ctl_reply) == 16 + sizeof(struct vmm_ctl_stats) +
	      sizeof(struct vmm_ctl_mig), "on-wire");

#endif
