/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One KVM virtual machine inside the guest-facing VMM process: its memory,
 * buses, devices, vCPUs and lifecycle.
 */
#ifndef BULWARK_VM_H
#define BULWARK_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vmm/bus.h"
#include "core/vmm/virtio_queue.h"
#include "core/config.h"

/* Why the VM stopped; the VMM's exit status follows from it. */
enum vm_state {
	VM_RUNNING = 0,
	VM_POWEROFF,        /* ACPI S5: exit 0 */
	VM_REBOOT,          /* i8042 reset: exit 0 (Bulwark does not restart) */
	VM_STOPPED,         /* stopped hard (VMM_SIG_STOP): exit 3 */
	VM_FAILED,          /* triple fault, KVM error, unhandled exit: exit 1 */
};

/* Thread roles: each thread enters through vmm_thread_confine(role). */
enum vmm_role { VMM_ROLE_MAIN, VMM_ROLE_VCPU, VMM_ROLE_IO };

struct vcpu;
struct virtio_set;
struct uart;
struct pci_host;
struct outbuf;
struct snap_buf;
struct vm_mig;

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int run_size;                 /* KVM_GET_VCPU_MMAP_SIZE */
	uint8_t *mem;                 /* one mapping: low RAM then high RAM */
	uint64_t mem_size;
	uint64_t low_size;            /* guest [0, low_size) */
	uint64_t high_size;           /* guest [4 GiB, 4 GiB + high_size) */
	struct bus pio;
	struct bus mmio;
	struct vcpu *vcpus;
	uint32_t nvcpus;
	_Atomic int state;            /* enum vm_state */
	int event_fd;                 /* written when state leaves VM_RUNNING */
	struct outbuf *out;           /* console output, drained by the io thread */
	struct uart *console;         /* COM1, fed from stdin by the main thread */
	struct pci_host *pci;
	void *dev_state[16];          /* per platform device, see devices.c */
	int devices_up;               /* devices_init() succeeded */
	uint8_t config_digest[32];    /* SHA-256 of the canonical config */
	int restoring;                /* --restore: memory holds the guest's
				       * own state (no boot-time loads) */
	struct virtio_set *virtio;    /* virtio-pci devices (virtio_setup.h) */
	/* The start gate: vCPUs enter KVM_RUN only once every thread, the
	 * main thread last, has its seccomp filter (vm_gate_open). */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate_open;
	/* Pause (core/vmm/vm_pause.c): vCPUs park before KVM_RUN while pause_req
	 * is set; the main thread waits until all have (parked == nvcpus). */
	_Atomic int pause_req;
	uint32_t parked;              /* under park_lock */
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond;     /* parked changed, or pause_req cleared */
	int paused;                   /* main thread only */
	struct kvm_clock_data clock;  /* the guest clock saved at pause */
	/* The guest's TSC at pause: the host's TSC then (each vCPU keeps its
	 * own offset); tsc_saved is 0 where KVM has no KVM_VCPU_TSC_OFFSET. */
	int tsc_saved;
	uint64_t tsc_host_at_pause;
	/* Live migration (core/vmm/mig.c): the pages the VMM's own threads
	 * wrote (allocated with the memory, kept for the VM's life), and the
	 * migration in progress (main thread only; NULL: none). */
	struct gmem_dirty dirty;
	struct vm_mig *mig;
};

/* A platform device: one file, one ops table (see devices.c for the list). */
struct vm_device {
	const char *name;
	int (*init)(struct vm *vm, void **state);
	void (*fini)(void *state);
	/* Snapshot (core/vmm/snap.h); NULL: the device keeps no state.  save:
	 * its state into B (the VM paused), 0 or -errno (-EBUSY: not now).
	 * restore: STATE NULL checks P only; otherwise checks, then sets. */
	int (*save)(void *state, struct snap_buf *b);
	int (*restore)(void *state, const uint8_t *p, size_t len);
};

int vm_create(struct vm *vm, const struct vm_config *cfg, int kvm_fd);
/* --restore: the same, with guest memory already mapped (vm_mem_map) and
 * filled; MEM becomes the VM's (unmapped by vm_destroy, even on failure). */
int vm_create_restored(struct vm *vm, const struct vm_config *cfg, int kvm_fd,
		       uint8_t *mem);
/* KVM's dirty log on every RAM slot (KVM_MEM_LOG_DIRTY_PAGES) on or off.
 * 0 or -errno (logged). */
int vm_mem_log_dirty(struct vm *vm, int on);
/* An anonymous mapping for guest memory of MEM_SIZE bytes, or NULL. */
uint8_t *vm_mem_map(uint64_t mem_size);
void vm_destroy(struct vm *vm);

/* Host pointer for guest [gpa, gpa + len), or NULL if not all RAM. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);

/* The start gate: vCPU threads wait (after confining themselves) until the
 * main thread opens it, once confined itself or when stopping. */
void vm_gate_wait(struct vm *vm);
void vm_gate_open(struct vm *vm);

/* Raise or lower an ISA/IOAPIC interrupt line. */
int vm_irq_line(struct vm *vm, uint32_t irq, int level);

/* First caller wins; any thread may call it.  vCPUs stop entering
 * KVM_RUN; the main thread then kicks the ones inside it. */
void vm_request_stop(struct vm *vm, enum vm_state why);
static inline int vm_running(struct vm *vm)
{
	return atomic_load(&vm->state) == VM_RUNNING;
}

/*
 * Pause and resume (core/vmm/vm_pause.c), main thread only.  vm_pause: every
 * vCPU leaves KVM_RUN and parks, every virtio I/O thread finishes its
 * request in flight and parks, the guest clock is saved; 0, -EALREADY, or
 * -errno (the VM then runs on, as before).  vm_resume: the clock is put
 * back, I/O threads and vCPUs carry on; 0 or -EALREADY.  vm_unpark_all:
 * at stop, so parked threads see the stop and end.
 */
int vm_pause(struct vm *vm);
int vm_pause_restored(struct vm *vm);
int vm_resume(struct vm *vm);
void vm_unpark_all(struct vm *vm);
/* A vCPU thread, before each KVM_RUN: parks while a pause is asked. */
void vm_park_point(struct vm *vm, struct kvm_run *run);

int devices_init(struct vm *vm);
void devices_fini(struct vm *vm);

/*
 * Hooks for the least-privilege issue.  vmm_process_confine() runs once,
 * after every fd and mapping exists and before the first KVM_RUN;
 * vmm_thread_confine() runs first thing in every thread, per role.  Both must
 * fail closed: a non-zero return stops the VM.
 */
int vmm_process_confine(struct vm *vm);
int vmm_thread_confine(struct vm *vm, enum vmm_role role);

#endif
