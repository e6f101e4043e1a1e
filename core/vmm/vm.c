/* SPDX-License-Identifier: Apache-2.0 */
/* The KVM VM: creation, guest memory, interrupt lines, lifecycle. */
#include "core/vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/bootparams.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vmm/vcpu.h"

/* Intel VMX needs three pages for a real-mode TSS and one for an identity
 * map; just below the 4 GiB boundary, clear of every device. */
#define KVM_TSS_ADDR      0xfffbd000ULL
#define KVM_IDMAP_ADDR    0xfffbc000ULL

static int vm_check_caps(int kvm_fd)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
		{ KVM_CAP_PIT2, "PIT2" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
		{ KVM_CAP_MP_STATE, "MP_STATE" },
	};
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);

	if (v != KVM_API_VERSION) {
		log_err("/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_err("/dev/kvm: missing KVM_CAP_%s", caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int vm_set_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		       void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int rc = -errno;

		log_err("KVM_SET_USER_MEMORY_REGION slot %u: %s", slot, strerror(-rc));
		return rc;
	}
	return 0;
}

uint8_t *vm_mem_map(uint64_t mem_size)
{
	void *p = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Guest memory never goes into a core dump. */
	madvise(p, mem_size, MADV_DONTDUMP);
	return p;
}

static int vm_setup_memory(struct vm *vm, uint8_t *mem)
{
	int rc;

	vm->mem_size = vm->cfg->memory_mib << 20;
	bootparams_ram_split(vm->mem_size, &vm->low_size, &vm->high_size);
	vm->mem = mem ? mem : vm_mem_map(vm->mem_size);
	if (!vm->mem) {
		rc = -errno;
		log_err("cannot map %llu MiB of guest memory: %s",
			(unsigned long long)vm->cfg->memory_mib, strerror(-rc));
		return rc;
	}
	vm->dirty.pages = vm->mem_size / 4096;
	vm->dirty.base = vm->mem;
	vm->dirty.bits = calloc((vm->dirty.pages + 63) / 64, sizeof(uint64_t));
	if (!vm->dirty.bits)
		return -ENOMEM;
	return vm_mem_log_dirty(vm, 0);
}

int vm_mem_log_dirty(struct vm *vm, int on)
{
	uint32_t flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	int rc = vm_set_slot(vm, 0, 0, vm->low_size, vm->mem, flags);

	if (!rc && vm->high_size)
		rc = vm_set_slot(vm, 1, GUEST_4G, vm->high_size, vm->mem + vm->low_size,
				 flags);
	return rc;
}

static int vm_setup_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ KVM_IDMAP_ADDR }) < 0) {
		log_err("KVM_SET_TSS_ADDR/IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int vm_create_mem(struct vm *vm, const struct vm_config *cfg, int kvm_fd,
			 uint8_t *mem)
{
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = kvm_fd;
	vm->vm_fd = -1;
	vm->event_fd = -1;
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	pthread_mutex_init(&vm->gate_lock, NULL);
	pthread_cond_init(&vm->gate_cond, NULL);
	pthread_mutex_init(&vm->park_lock, NULL);
	pthread_cond_init(&vm->park_cond, NULL);
	rc = vm_check_caps(kvm_fd);
	if (rc)
		return rc;
	vm->run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run))
		return -ENOTSUP;
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		rc = -errno;
		log_err("KVM_CREATE_VM: %s", strerror(-rc));
		return rc;
	}
	vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->event_fd < 0)
		return -errno;
	rc = vm_setup_irqchip(vm);
	if (!rc)
		rc = vm_setup_memory(vm, mem);
	return rc;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, int kvm_fd)
{
	return vm_create_mem(vm, cfg, kvm_fd, NULL);
}

int vm_create_restored(struct vm *vm, const struct vm_config *cfg, int kvm_fd,
		       uint8_t *mem)
{
	int rc = vm_create_mem(vm, cfg, kvm_fd, mem);

	if (!vm->mem)    /* failed before adopting it */
		munmap(mem, (uint64_t)cfg->memory_mib << 20);
	return rc;
}

void vm_destroy(struct vm *vm)
{
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	free((void *)vm->dirty.bits);
	vm->dirty.bits = NULL;
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->mem = NULL;
	vm->event_fd = vm->vm_fd = -1;
}

void vm_gate_wait(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	while (!vm->gate_open)
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
}

void vm_gate_open(struct vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->gate_open = 1;
	pthread_cond_broadcast(&vm->gate_cond);
	pthread_mutex_unlock(&vm->gate_lock);
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (range_fits(gpa, len, vm->low_size))
		return vm->mem + gpa;
	if (gpa >= GUEST_4G && range_fits(gpa - GUEST_4G, len, vm->high_size))
		return vm->mem + vm->low_size + (gpa - GUEST_4G);
	return NULL;
}

int vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)!!level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_state why)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->state, &expected, (int)why))
		return;
	/* Any vCPU entering KVM_RUN from now on returns at once; the main
	 * thread signals those already inside (vcpu_kick_all) before joining. */
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].run)
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1,
					 __ATOMIC_SEQ_CST);
	if (write(vm->event_fd, &one, sizeof(one)) < 0)
		log_debug("eventfd: %s", strerror(errno));
}
