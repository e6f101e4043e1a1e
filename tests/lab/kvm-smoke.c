/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvm-smoke: the lab's smoke test.  Runs a few bytes of real-mode code of
 * our own through raw KVM ioctls and checks every exit it makes:
 *
 *         mov  cx, 10000
 *         mov  al, 0x5a
 *   loop: out  0x10, al      ; 10,000 port-I/O exits, timed
 *         dec  cx
 *         jnz  loop
 *         mov  al, 2
 *         add  al, 2
 *         out  0x11, al      ; the guest's own arithmetic: must be 4
 *         hlt
 *
 * Prints the mean cost of one port-I/O exit (a round trip guest -> KVM ->
 * this process -> guest).  Exits 0 only if every exit was the expected one.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define LOOPS 10000
#define CODE_GPA 0x1000
#define MEM_SIZE 0x10000

static const uint8_t guest_code[] = {
	0xb9, LOOPS & 0xff, LOOPS >> 8, /* mov cx, LOOPS */
	0xb0, 0x5a,                     /* mov al, 0x5a */
	0xe6, 0x10,                     /* loop: out 0x10, al */
	0x49,                           /* dec cx */
	0x75, 0xfb,                     /* jnz loop */
	0xb0, 0x02,                     /* mov al, 2 */
	0x04, 0x02,                     /* add al, 2 */
	0xe6, 0x11,                     /* out 0x11, al */
	0xf4,                           /* hlt */
};

static int fail(const char *what)
{
	fprintf(stderr, "kvm-smoke: %s: %s\n", what, strerror(errno));
	return 1;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One exit: returns 0 when it is an 8-bit OUT to PORT with VALUE. */
static int expect_out(struct kvm_run *run, uint16_t port, uint8_t value)
{
	const uint8_t *data;

	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.size != 1 || run->io.count != 1 || run->io.port != port) {
		fprintf(stderr, "kvm-smoke: unexpected exit %u (port 0x%x), wanted out 0x%x\n",
			run->exit_reason, run->exit_reason == KVM_EXIT_IO ? run->io.port : 0,
			port);
		return -1;
	}
	data = (const uint8_t *)run + run->io.data_offset;
	if (*data != value) {
		fprintf(stderr, "kvm-smoke: port 0x%x got 0x%x, wanted 0x%x\n", port, *data,
			value);
		return -1;
	}
	return 0;
}

static int run_guest(int vcpu, struct kvm_run *run)
{
	double t0 = 0, t1;

	for (int i = 0; i < LOOPS; i++) {
		if (ioctl(vcpu, KVM_RUN, 0))
			return fail("KVM_RUN");
		if (i == 0)
			t0 = now_us();
		if (expect_out(run, 0x10, 0x5a))
			return 1;
	}
	t1 = now_us();
	if (ioctl(vcpu, KVM_RUN, 0))
		return fail("KVM_RUN");
	if (expect_out(run, 0x11, 4))
		return 1;
	if (ioctl(vcpu, KVM_RUN, 0))
		return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-smoke: exit %u, wanted HLT\n", run->exit_reason);
		return 1;
	}
	printf("kvm-smoke: guest ran %d port-I/O exits, computed 2+2=4, halted\n", LOOPS);
	printf("kvm-smoke: one port-I/O exit costs %.2f us (mean of %d)\n",
	       (t1 - t0) / (LOOPS - 1), LOOPS - 1);
	return 0;
}

static int setup_vcpu(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 0x2 };

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		return fail("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		return fail("KVM_SET_REGS");
	return 0;
}

int main(void)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
	};
	struct kvm_run *run;
	uint8_t *mem;
	int kvm, vm, vcpu, api, run_size;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr, "kvm-smoke: KVM API version %d, wanted %d\n", api,
			KVM_API_VERSION);
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (setup_vcpu(vcpu))
		return 1;
	return run_guest(vcpu, run);
}
