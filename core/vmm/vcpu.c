/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: architectural set-up for the Linux 64-bit boot protocol, run loop. */
#include "core/vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vmm/vm.h"
#include "core/vmm/cpuid.h"

#define CPUID_MAX_ENTRIES 256

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

#define CR0_PE  (1ULL << 0)
#define CR0_ET  (1ULL << 4)
#define CR0_NE  (1ULL << 5)
#define CR0_PG  (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

int vcpu_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	size_t n = CPUID_MAX_ENTRIES;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (!c)
		return -ENOMEM;
	c->nent = (uint32_t)n;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int rc = -errno;

		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static uint32_t vcpu_bits_for(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void vcpu_cpuid_topology(struct kvm_cpuid_entry2 *e, uint32_t id,
				uint32_t ncpus, uint32_t bits)
{
	/* One package, NCPUS cores, one thread per core: APIC id = core id. */
	if (e->index == 0) {
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | 0;        /* SMT level */
	} else if (e->index == 1) {
		e->eax = bits;
		e->ebx = ncpus;
		e->ecx = (2u << 8) | 1;        /* core level */
	} else {
		e->eax = e->ebx = 0;
		e->ecx = e->index;             /* invalid level ends the list */
	}
	e->edx = id;
}

void vcpu_cpuid_patch(struct kvm_cpuid2 *c, uint32_t id, uint32_t ncpus)
{
	uint32_t bits = vcpu_bits_for(ncpus);
	int amd = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0 && c->entries[i].ebx == 0x68747541)
			amd = 1;   /* "Auth"enticAMD */
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 0x1:
			e->ebx = (id << 24) | (ncpus << 16) | (8u << 8) | (e->ebx & 0xff);
			e->ecx |= 1u << 31;                 /* hypervisor */
			if (ncpus > 1)
				e->edx |= 1u << 28;         /* HTT: ebx[23:16] valid */
			break;
		case 0x4: {
			uint32_t level = (e->eax >> 5) & 7;
			uint32_t share = level >= 3 ? ncpus - 1 : 0;

			e->eax &= 0x3fff;
			e->eax |= (((1u << bits) - 1) << 26) | (share << 14);
			break;
		}
		case 0xb:
		case 0x1f:
			vcpu_cpuid_topology(e, id, ncpus, bits);
			break;
		case 0x80000008:
			if (amd)
				e->ecx = (bits << 12) | (ncpus - 1);
			break;
		case 0x8000001e:
			e->eax = id;
			e->ebx = id & 0xff;                 /* core id, 1 thread */
			e->ecx = 0;
			break;
		default:
			break;
		}
	}
}

static int vcpu_set_msrs(struct vcpu *v)
{
	static const uint32_t idx[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
		MSR_IA32_TSC, MSR_IA32_MISC_ENABLE, MSR_MTRR_DEF_TYPE,
	};
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[ARRAY_SIZE(idx)];
	} m;
	int n;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = ARRAY_SIZE(idx);
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		m.e[i].index = idx[i];
	m.e[9].data = 1;                         /* fast strings */
	m.e[10].data = (1u << 11) | 6;           /* MTRRs on, default write-back */
	n = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (n != (int)ARRAY_SIZE(idx)) {
		log_err("vcpu %u: KVM_SET_MSRS: MSR 0x%x refused", v->id,
			n >= 0 && n < (int)ARRAY_SIZE(idx) ? idx[n] : 0);
		return -EINVAL;
	}
	return 0;
}

static int vcpu_set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	uint32_t r;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	memcpy(&r, l.regs + APIC_LVT_LINT0, 4);
	r = (r & ~0x700u) | (APIC_MODE_EXTINT << 8);
	memcpy(l.regs + APIC_LVT_LINT0, &r, 4);
	memcpy(&r, l.regs + APIC_LVT_LINT1, 4);
	r = (r & ~0x700u) | (APIC_MODE_NMI << 8);
	memcpy(l.regs + APIC_LVT_LINT1, &r, 4);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

static void vcpu_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = (uint8_t)!!code;
	s->db = (uint8_t)!code;
}

/* The BSP enters the kernel's 64-bit entry point in long mode, paging on,
 * flat __BOOT_CS (0x10) / __BOOT_DS (0x18), RSI = zero page. */
static int vcpu_setup_bsp(struct vcpu *v, const struct boot_layout *lay)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_fpu f;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	vcpu_seg(&s.cs, 0x10, 0xb, 1);
	vcpu_seg(&s.ds, 0x18, 0x3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.selector = 0x20;
	s.tr.limit = 0x67;
	s.tr.type = 0xb;                     /* busy 64-bit TSS */
	s.tr.present = 1;
	s.gdt.base = GUEST_GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	s.cr3 = GUEST_PML4_ADDR;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = lay->entry;
	r.rsi = GUEST_BOOT_PARAMS;
	r.rsp = r.rbp = GUEST_STACK_TOP;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &f) < 0)
		return -errno;
	return 0;
}

/*
 * XCR0 at the guest's CPUID mask before its first instruction (issue 19).
 * KVM sizes CPUID[0xD,0].EBX (the XSAVE area for the XCR0 in force) when
 * XCR0 changes (__kvm_set_xcr: kvm_update_cpuid_runtime), from its own
 * copy of XCR0, FP alone at creation.  On hardware the guest's XSETBV traps
 * and KVM updates both; the lab's emulated SVM (QEMU 7.2 TCG) never hands
 * that trap to the lab's KVM, so EBX stays 576 while the guest enables
 * AVX and PKRU, and Linux 5.10, which sizes its signal frames by EBX, kills
 * init.  Set here, KVM's copy and EBX are right from the start, and the
 * guest's own XSETBV (Linux enables the whole CPUID mask) changes nothing.
 * XCR0 is only usable with CR4.OSXSAVE, which the guest sets itself; INIT
 * keeps XCR0 (KVM resets it on RESET only), so the APs start with it too.
 * Not a failure if refused: on hardware the guest's XSETBV does the same.
 */
static void vcpu_setup_xcr0(struct vcpu *v, const struct kvm_cpuid2 *c)
{
	struct kvm_xcrs x = { .nr_xcrs = 1 };

	x.xcrs[0].xcr = 0;
	x.xcrs[0].value = cpuid_xcr0(c);
	if (!x.xcrs[0].value)
		return;                         /* no XSAVE offered */
	if (ioctl(v->fd, KVM_SET_XCRS, &x) < 0)
		log_warn("vcpu %u: KVM_SET_XCRS 0x%llx: %s (the guest's XSETBV sets it)",
			 v->id, (unsigned long long)x.xcrs[0].value, strerror(errno));
}

int vcpu_setup_cpuid(struct vcpu *v, const struct kvm_cpuid2 *supported)
{
	size_t sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int rc = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	cpuid_filter(c);
	vcpu_cpuid_patch(c, v->id, v->vm->nvcpus);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
	else
		vcpu_setup_xcr0(v, c);
	free(c);
	if (rc)
		log_err("vcpu %u: KVM_SET_CPUID2: %s", v->id, strerror(-rc));
	return rc;
}

int vcpu_setup(struct vcpu *v, const struct kvm_cpuid2 *supported,
	       const struct boot_layout *lay)
{
	/* APs wait for INIT/SIPI from the BSP, handled by the in-kernel LAPIC. */
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_UNINITIALIZED };
	int rc = vcpu_setup_cpuid(v, supported);

	if (rc)
		return rc;
	rc = vcpu_set_msrs(v);
	if (!rc)
		rc = vcpu_set_lapic(v);
	if (!rc && v->id == 0)
		rc = vcpu_setup_bsp(v, lay);
	else if (!rc && ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		rc = -errno;
	if (rc)
		log_err("vcpu %u: set-up failed: %s", v->id, strerror(-rc));
	return rc;
}

int vcpu_create(struct vm *vm, struct vcpu *v, uint32_t id)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		int rc = -errno;

		log_err("vcpu %u: KVM_CREATE_VCPU: %s", id, strerror(-rc));
		return rc;
	}
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int rc = -errno;

		v->run = NULL;
		close(v->fd);
		v->fd = -1;
		return rc;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

void vcpu_kick_all(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->run)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (v->started)
			pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

static void vcpu_dump(struct vcpu *v, const char *cause)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		log_err("vcpu %u: %s (registers unreadable: %s)", v->id, cause,
			strerror(errno));
		return;
	}
	/* AMD's KVM resets the vCPU on a shutdown intercept before reporting
	 * it: say so rather than let reset values pass for the fault's. */
	log_err("vcpu %u: %s: rip=0x%llx rsp=0x%llx rflags=0x%llx rax=0x%llx "
		"rbx=0x%llx rcx=0x%llx rdx=0x%llx rsi=0x%llx rdi=0x%llx "
		"cr0=0x%llx cr2=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx cs=0x%x%s",
		v->id, cause, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector,
		r.rip == 0xfff0 && s.cs.selector == 0xf000 ?
		" (reset state: KVM reset the vCPU before reporting)" : "");
}

static void vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t size = run->io.size;

	/* data_offset and count come from KVM, not the guest: the buffer is
	 * inside the run page. */
	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_access(&v->vm->pio, run->io.port, data, size,
			   run->io.direction == KVM_EXIT_IO_OUT);
		data += size;
	}
}

static void vcpu_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
		   run->mmio.is_write);
}

static void vcpu_exit_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		log_info("vcpu %u: system event: shutdown", v->id);
		vm_request_stop(v->vm, VM_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		log_info("vcpu %u: system event: reset", v->id);
		vm_request_stop(v->vm, VM_REBOOT);
		break;
	default:
		vcpu_dump(v, "unhandled system event");
		vm_request_stop(v->vm, VM_FAILED);
		break;
	}
}

/* The metrics' reason for an exit (core/vmm_abi.h). */
static enum vmm_exit_kind vcpu_exit_kind(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return VMM_EXIT_KIND_IO;
	case KVM_EXIT_MMIO: return VMM_EXIT_KIND_MMIO;
	case KVM_EXIT_HLT: return VMM_EXIT_KIND_HLT;
	case KVM_EXIT_INTR: return VMM_EXIT_KIND_INTR;
	case KVM_EXIT_SYSTEM_EVENT: return VMM_EXIT_KIND_SYSTEM_EVENT;
	default: return VMM_EXIT_KIND_OTHER;
	}
}

/* Handle one exit; returns 0 to keep running, -1 when the VM must stop. */
static int vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char cause[96];

	__atomic_fetch_add(&v->exits[vcpu_exit_kind(run->exit_reason)], 1, __ATOMIC_RELAXED);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_exit_io(v);
		return 0;
	case KVM_EXIT_MMIO:
		vcpu_exit_mmio(v);
		return 0;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_exit_event(v);
		return -1;
	case KVM_EXIT_SHUTDOWN:
		snprintf(cause, sizeof(cause), "triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(cause, sizeof(cause), "VM entry failed (reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(cause, sizeof(cause), "KVM internal error (suberror %u)",
			 run->internal.suberror);
		break;
	default:
		snprintf(cause, sizeof(cause), "unhandled exit reason %u",
			 run->exit_reason);
		break;
	}
	vcpu_dump(v, cause);
	vm_request_stop(v->vm, VM_FAILED);
	return -1;
}

/*
 * Before parking for a pause: an I/O or MMIO exit just handled completes
 * only at the next KVM_RUN (a port read's value reaches RAX then), so
 * enter once with immediate_exit set: KVM finishes the instruction and
 * returns EINTR at once.  A saved vCPU's registers are then whole.
 */
static void vcpu_complete_exit(struct vcpu *v)
{
	if (!v->exit_pending || !atomic_load(&v->vm->pause_req) || !vm_running(v->vm))
		return;
	v->exit_pending = 0;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		(void)vcpu_handle_exit(v);     /* cannot be: immediate_exit */
}

static void vcpu_run(struct vcpu *v)
{
	for (;;) {
		vcpu_complete_exit(v);
		vm_park_point(v->vm, v->run);   /* a pause parks the vCPU here */
		if (!vm_running(v->vm))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->exit_pending = 0;    /* KVM completed it first */
				__atomic_fetch_add(&v->exits[VMM_EXIT_KIND_INTR], 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			log_err("vcpu %u: KVM_RUN: %s", v->id, strerror(errno));
			vcpu_dump(v, "KVM_RUN failed");
			vm_request_stop(v->vm, VM_FAILED);
			return;
		}
		v->exit_pending = v->run->exit_reason == KVM_EXIT_IO ||
				  v->run->exit_reason == KVM_EXIT_MMIO;
		if (vcpu_handle_exit(v))
			return;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	/* Before its filter (gettid is not in the vCPU role's): the launcher
	 * reads this thread's CPU time by it (metrics). */
	atomic_store(&v->tid, (int)gettid());
	/* Only this thread's KVM_RUN is to be interrupted by the kick. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (vmm_thread_confine(v->vm, VMM_ROLE_VCPU)) {
		log_err("vcpu %u: cannot confine the thread; stopping", v->id);
		vm_request_stop(v->vm, VM_FAILED);
		return NULL;
	}
	vm_gate_wait(v->vm);   /* every thread confined, or the VM stopping */
	vcpu_run(v);
	if (atomic_load(&v->vm->state) == VM_STOPPED && log_get_level() >= LOG_DEBUG)
		vcpu_dump(v, "stopped");
	return NULL;
}
