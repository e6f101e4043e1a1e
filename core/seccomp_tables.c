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

#include <linux/futex.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>

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

/* glibc's mutexes and condition variables, all process-private. */
static const uint64_t futex_ops[] = {
	FUTEX_WAIT_PRIVATE,
	FUTEX_WAKE_PRIVATE,
	FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
};

static const uint64_t madvise_ops[] = { MADV_DONTNEED };

/* ---- vCPU threads ---- */
static const uint64_t vcpu_ioctls[] = {
	KVM_RUN,
};

static const struct seccomp_rule vcpu_rules[] = {
	SC_IOCTL(vcpu_ioctls, "vcpu loop"),
	SC(read, "eventfd, console"),
	SC(write, "eventfd, console"),
	SC_IN(futex, 1, futex_ops, "glibc locks"),
	SC(rt_sigreturn, "return from the kick signal handler"),
	SC(exit, "thread exit"),
	SC(exit_group, "fatal error path"),
	SC_NOEXEC(mmap, "malloc arena of the thread"),
	SC_NOEXEC(mprotect, "malloc arena growth"),
	SC(munmap, "free of large blocks"),
	SC_IN(madvise, 2, madvise_ops, "malloc trim, thread exit"),
};

/* ---- main thread: event loop ---- */
static const uint64_t main_ioctls[] = {
	KVM_IRQ_LINE,
};

static const struct seccomp_rule main_rules[] = {
	SC_IOCTL(main_ioctls, "device interrupts"),
	SC(read, "eventfd, signalfd, console input"),
	SC(write, "eventfd, console"),
	SC(epoll_wait, "event loop"),
	SC(epoll_ctl, "event loop"),
	SC_IN(futex, 1, futex_ops, "glibc locks"),
	SC(rt_sigreturn, "signal handlers"),
	SC(exit_group, "VMM exit"),
	SC_NOEXEC(mmap, "malloc"),
	SC_NOEXEC(mprotect, "malloc"),
	SC(munmap, "free"),
	SC(brk, "malloc, main arena"),
	SC_IN(madvise, 2, madvise_ops, "malloc trim"),
	SC(close, "device teardown"),
};

/* ---- I/O workers: disk requests ---- */
static const struct seccomp_rule io_rules[] = {
	SC(pread64, "disk read"),
	SC(pwrite64, "disk write"),
	SC(preadv, "disk read"),
	SC(pwritev, "disk write"),
	SC(fdatasync, "disk flush"),
	SC(read, "eventfd"),
	SC(write, "eventfd (used-ring interrupt)"),
	SC_IN(futex, 1, futex_ops, "work queue"),
	SC(exit, "thread exit"),
	SC(exit_group, "fatal error path"),
	SC_NOEXEC(mmap, "malloc arena of the thread"),
	SC_NOEXEC(mprotect, "malloc arena growth"),
	SC(munmap, "free"),
	SC_IN(madvise, 2, madvise_ops, "malloc trim, thread exit"),
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
