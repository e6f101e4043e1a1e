/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allowlists: one table per thread role of bulwark-vmm.  Each entry is a
 * system call, the one argument it is pinned by (if any) and the code that
 * needs it.  Derived with `strace -f` of bulwark-vmm booting a guest (README,
 * "Seccomp"), not guessed.  Anything not listed kills the whole process.
 *
 * Never listed, in any role: open, openat, execve, execveat, ptrace,
 * process_vm_readv/writev, socket, mount, bpf, io_uring_*, userfaultfd,
 * clone/fork (threads are created before the filters), seccomp, prctl.
 */
#include "core/sandbox.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "core/util.h"

#define SC(n, w) { .name = #n, .nr = SCMP_SYS(n), .why = (w) }
#define SC_IN(n, a, set, w) { .name = #n, .nr = SCMP_SYS(n), \
	.kind = SECCOMP_ARG_IN_SET, .arg = (a), .values = (set), \
	.n_values = ARRAY_SIZE(set), .why = (w) }
#define SC_IOCTL(set, w) { .name = "ioctl", .nr = SCMP_SYS(ioctl), \
	.kind = SECCOMP_ARG_IN_SET32, .arg = 1, .values = (set), \
	.n_values = ARRAY_SIZE(set), .why = (w) }
#define SC_NOEXEC(n, w) { .name = #n, .nr = SCMP_SYS(n), \
	.kind = SECCOMP_ARG_MASK_CLEAR, .arg = 2, .mask = PROT_EXEC, \
	.why = (w) }

/* fstat(fd) is newfstatat(fd, "", buf, AT_EMPTY_PATH) in glibc. */
static const uint64_t empty_path[] = { AT_EMPTY_PATH };

/* glibc's mutexes and condition variables, all process-private. */
static const uint64_t futex_ops[] = {
	FUTEX_WAIT_PRIVATE,
	FUTEX_WAKE_PRIVATE,
	FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
};

/* The main thread also joins threads: glibc waits on the thread id with a
 * shared bitset wait (the kernel clears and wakes it at thread exit). */
static const uint64_t main_futex_ops[] = {
	FUTEX_WAIT_PRIVATE,
	FUTEX_WAKE_PRIVATE,
	FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
	FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME,
};

/*
 * The sanitizer build (make SAN=1, never shipped; its digests differ): the
 * ASan runtime's allocator marks its mappings, and its threads set and
 * clear an alternate signal stack.  LSan is off in that build of the VMM
 * (core/vmm/sandbox_hooks.c): its exit-time check needs clone and ptrace.
 * The allocator also reads CLOCK_MONOTONIC whenever a thread hands memory
 * back to it (its release-to-OS interval), at the latest when the thread
 * exits; the vDSO answers that without a system call unless the clock
 * source cannot be read from user space, as in the nested lab (hpet),
 * where every vCPU and I/O thread of a SAN=1 VMM called it at teardown
 * (strace and --seccomp log, tests/lab/test-san-vmm).  Any thread that
 * frees memory takes that path, the main thread included.  The runtime's
 * internal spin locks yield the CPU when contended, which happens only when
 * threads free or exit at the same moment: a clean-clone run saw one vCPU
 * killed at teardown on sched_yield (audit record syscall=24).
 */
#ifdef __SANITIZE_ADDRESS__
static const uint64_t san_clocks[] = { CLOCK_MONOTONIC };
#define SAN_MADVISE_OPS MADV_DONTDUMP, MADV_NOHUGEPAGE,
#define SAN_RULES SC(sigaltstack, "ASan thread bookkeeping (SAN=1 only)"), \
	SC(gettid, "ASan reports (SAN=1 only)"), \
	SC_IN(clock_gettime, 0, san_clocks, \
	      "ASan allocator's release interval, vDSO fallback (SAN=1 only)"), \
	SC(sched_yield, "ASan spin locks under contention (SAN=1 only)"),
#else
#define SAN_MADVISE_OPS
#define SAN_RULES
#endif

/* glibc's free() and thread exit give pages back with MADV_DONTNEED. */
static const uint64_t madvise_ops[] = { MADV_DONTNEED, SAN_MADVISE_OPS };

/* The only signal sent: the vCPU kick (core/vmm/vcpu.h: SIGUSR1).  An abort()
 * (SIGABRT) then dies by SIGSYS instead: the process ends either way. */
static const uint64_t kick_signals[] = { SIGUSR1 };

/* ---- vCPU threads: core/vmm/vcpu.c, the devices they run on exits ---- */
static const uint64_t vcpu_ioctls[] = {
	KVM_RUN,
	KVM_IRQ_LINE,		/* a device raises its line (vm_irq_line);
				 * the GED's _EVT ack lowers it */
	KVM_SET_GSI_ROUTING,	/* guest programs an MSI-X vector */
	KVM_GET_REGS,		/* vcpu_dump on a fatal exit */
	KVM_GET_SREGS,
};

static const struct seccomp_rule vcpu_rules[] = {
	SC_IOCTL(vcpu_ioctls, "KVM_RUN and exits"),
	SC(read, "TPM CRB response from the proxy (core/vmm/crb.c)"),
	SC(poll, "TPM CRB: wait for the proxy's response (attest/format/tpm.c)"),
	SC(write, "eventfds (stop, irqfd), TPM CRB command, log"),
	SC_IN(futex, 1, futex_ops, "device and queue locks"),
	SC(rt_sigprocmask, "thread exit (glibc blocks signals)"),
	SC(rt_sigreturn, "return from the kick handler"),
	SC_NOEXEC(mmap, "malloc arena of the thread"),
	SC_NOEXEC(mprotect, "malloc arena growth"),
	SC(munmap, "free of large blocks"),
	SC_IN(madvise, 2, madvise_ops, "free, thread exit"),
	SC(exit, "thread exit"),
	SC(exit_group, "process exit on a fatal error"),
	SC(restart_syscall, "a timed wait interrupted by SIGSTOP/SIGCONT"),
	SAN_RULES
};

/* ---- main thread: core/vmm/vmm_main.c's loop and teardown ---- */
static const uint64_t main_ioctls[] = {
	KVM_IRQ_LINE,		/* console input raises the UART's line, a
				 * signal the power button's (dev_ged.c) */
	KVM_GET_CLOCK,		/* pause: save the guest clock (vm_pause.c) */
	KVM_SET_CLOCK,		/* resume: put it back, no jump */
	KVM_GET_DEVICE_ATTR,	/* pause: each vCPU's TSC offset (vm_pause.c) */
	KVM_SET_DEVICE_ATTR,	/* resume: the offset less the pause, so a
				 * guest clocked by its TSC sees no jump */
	/* VMM_CTL_SAVE (core/vmm/snap_*.c), the VM paused: read-only state
	 * gets, each vCPU's and the VM's.  No SET: a restore sets its state
	 * before the filters exist. */
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_XSAVE, KVM_GET_FPU, KVM_GET_XCRS,
	KVM_GET_MSRS, KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE,
	KVM_GET_DEBUGREGS, KVM_GET_IRQCHIP, KVM_GET_PIT2,
	/* Live migration (core/vmm/mig.c): VMM_CTL_MIG_START and the end of a
	 * migration turn KVM's dirty log on and off on the two RAM slots
	 * (the same slots, addresses and mapping: only the flag changes);
	 * each round reads and clears it. */
	KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG,
};

/* The migration's figures (vmm_ctl_mig.ns); the vDSO answers without a
 * system call unless the clock source cannot be read from user space (the
 * nested lab's hpet).  SAN=1 lists the same rule in SAN_RULES. */
#ifdef __SANITIZE_ADDRESS__
#define MAIN_CLOCK_RULE
#else
static const uint64_t main_clocks[] = { CLOCK_MONOTONIC };
#define MAIN_CLOCK_RULE SC_IN(clock_gettime, 0, main_clocks, \
			      "live migration figures, vDSO fallback (mig.c)"),
#endif

static const struct seccomp_rule main_rules[] = {
	SC_IOCTL(main_ioctls, "console input, pause/resume clock, snapshot state, "
		 "migration dirty log"),
	MAIN_CLOCK_RULE
	SC(poll, "event loop, pause waits"),
	SC(read, "eventfd, signalfd (power button, stop), stdin, launcher orders"),
	SC(write, "eventfds, log lines, replies to the launcher"),
	SC(fdatasync, "live migration: the disks flushed at FINAL (mig.c)"),
	SC_IN(newfstatat, 3, empty_path, "fstat(stdin) in vmm_stdin_usable"),
	SC_IN(futex, 1, main_futex_ops, "locks, pthread_join"),
	SC(getpid, "pthread_kill: kick the vCPUs on stop"),
	SC_IN(tgkill, 2, kick_signals, "pthread_kill: the kick"),
	SC(rt_sigprocmask, "pthread_kill"),
	SC_NOEXEC(mmap, "malloc"),
	SC_NOEXEC(mprotect, "malloc"),
	SC(munmap, "free, guest memory and thread stacks at teardown"),
	SC_IN(madvise, 2, madvise_ops, "free"),
	SC(brk, "free trims the main heap"),
	SC(close, "teardown"),
	SC(exit_group, "VMM exit"),
	SC(restart_syscall, "a timed wait interrupted by SIGSTOP/SIGCONT"),
	SAN_RULES
};

/* ---- I/O threads: console output (outbuf) and virtio queues ---- */
static const uint64_t fallocate_modes[] = {
	FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,	/* discard */
	FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,	/* write-zeroes */
};
static const uint64_t getrandom_flags[] = { 0 };

static const struct seccomp_rule io_rules[] = {
	SC(poll, "queue kicks, stop"),
	SC(read, "eventfds"),
	SC(write, "console output, irqfds, re-kick"),
	SC(preadv, "virtio-blk read into guest RAM"),
	SC(pwritev, "virtio-blk write from guest RAM"),
	SC(readv, "virtio-net receive from the tap into guest RAM"),
	SC(writev, "virtio-net transmit from guest RAM to the tap"),
	SC(fdatasync, "virtio-blk flush"),
	SC_IN(fallocate, 1, fallocate_modes, "virtio-blk discard, write-zeroes"),
	SC_IN(getrandom, 2, getrandom_flags, "virtio-rng"),
	SC_IN(futex, 1, futex_ops, "queue and output locks"),
	SC(rt_sigprocmask, "thread exit (glibc blocks signals)"),
	SC_NOEXEC(mmap, "malloc arena of the thread"),
	SC_NOEXEC(mprotect, "malloc arena growth"),
	SC(munmap, "free of large blocks"),
	SC_IN(madvise, 2, madvise_ops, "free, thread exit"),
	SC(exit, "thread exit"),
	SC(exit_group, "process exit on a fatal error"),
	SC(restart_syscall, "a timed wait interrupted by SIGSTOP/SIGCONT"),
	SAN_RULES
};

static const struct seccomp_table tables[] = {
	[SANDBOX_ROLE_MAIN] = { "main", main_rules, ARRAY_SIZE(main_rules) },
	[SANDBOX_ROLE_VCPU] = { "vcpu", vcpu_rules, ARRAY_SIZE(vcpu_rules) },
	[SANDBOX_ROLE_IO] = { "io", io_rules, ARRAY_SIZE(io_rules) },
};
static_assert(ARRAY_SIZE(tables) == SANDBOX_ROLE_COUNT, "one table per role");

const struct seccomp_table *seccomp_table_get(enum sandbox_role role)
{
	if ((unsigned int)role >= ARRAY_SIZE(tables))
		return NULL;
	return &tables[role];
}

size_t seccomp_table_count(enum sandbox_role role)
{
	const struct seccomp_table *t = seccomp_table_get(role);
	size_t n = 0;

	if (!t)
		return 0;
	for (size_t i = 0; i < t->n_rules; i++)
		n += t->rules[i].kind != SECCOMP_ARG_ENOSYS;
	return n;
}
