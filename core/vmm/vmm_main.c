/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulwark-vmm: the guest-facing VMM.  Started only by `bulwark run` with the
 * descriptors of vmm_abi.h.  Re-validates the configuration and the kernel
 * it was given, builds the VM, then runs three kinds of thread, each entering
 * through vmm_thread_confine(): main (this one: signals, console input,
 * lifecycle: SIGTERM/SIGINT/SIGHUP press the ACPI power button, VMM_SIG_STOP
 * stops the vCPUs; the launcher's pause/resume/stats orders on
 * VMM_FD_CONTROL, core/vmm/vmm_ctl.c; vmm_abi.h), one per vCPU, and io (console output, one per virtio device).
 * With --restore the VM is built from a state stream on VMM_FD_SNAP (read
 * and validated whole first, core/vmm/snap_restore.c) instead of a kernel,
 * and comes up paused; with --incoming from a migration stream the same
 * way (core/vmm/mig.c writes it on the source).
 *
 * Order (core/sandbox.h): every fd and mapping is made (KVM routes, irqfds,
 * ioeventfds of the virtio devices included); vmm_process_confine() compiles
 * the filters; the threads are created, each installing its own filter
 * first; the main thread installs its filter last (filters are inherited
 * and no role may clone), then opens the start gate: no vCPU enters KVM_RUN
 * before every thread is confined.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/acpi.h"
#include "core/vmm/boot_load.h"
#include "core/vmm/devices.h"
#include "core/vmm/mig.h"
#include "core/log.h"
#include "core/vmm/outbuf.h"
#include "core/sandbox.h"
#include "core/sha256.h"
#include "core/util.h"
#include "core/vmm/snap.h"
#include "core/vmm/vcpu.h"
#include "core/vmm/virtio_setup.h"
#include "core/vmm/vm.h"
#include "core/vmm_abi.h"
#include "core/vmm/vmm_ctl.h"

static uint8_t vmm_config_digest[32];
static int vmm_restoring;            /* --restore or --incoming (vmm_abi.h) */
static int vmm_incoming;             /* --incoming: a migration stream */

static int vmm_read_config(struct vm_config *cfg)
{
	char *buf = malloc(CONFIG_CANONICAL_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int rc;

	if (!buf)
		return -ENOMEM;
	while ((n = pread(VMM_FD_CONFIG, buf + len, CONFIG_CANONICAL_MAX + 1 - len,
			  (off_t)len)) > 0 && len <= CONFIG_CANONICAL_MAX)
		len += (size_t)n;
	if (n < 0 || len > CONFIG_CANONICAL_MAX) {
		log_err("configuration fd %d: unreadable or too large", VMM_FD_CONFIG);
		free(buf);
		return -EINVAL;
	}
	rc = config_from_canonical(cfg, buf, len);
	if (!rc)
		sha256(buf, len, vmm_config_digest);    /* a state stream's META */
	free(buf);
	close(VMM_FD_CONFIG);
	return rc;
}

static void vmm_kick_handler(int sig)
{
	(void)sig;   /* only interrupts KVM_RUN */
}

static int vmm_signals(int *sfd)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vmm_kick_handler;   /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, VMM_SIG_STOP);
	sigaddset(&set, VCPU_KICK_SIGNAL);   /* vCPU threads unblock it */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	sigdelset(&set, VCPU_KICK_SIGNAL);
	*sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return *sfd < 0 ? -errno : 0;
}

/* Host input goes to the guest when stdin is a pipe: the launcher's, fed
 * from the operator's terminal (core/launch/launch_tty.c), or a caller's
 * (a test typing a login).  The VMM never holds a terminal itself. */
static int vmm_stdin_usable(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return 0;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

/*
 * Backpressure, not loss: stdin is read only once the previous read has
 * gone whole into the UART's 64-byte FIFO; until then the rest waits here
 * (the loop retries every 10 ms as the guest drains the FIFO) and further
 * input waits in the pipe, then in the terminal.
 */
struct vmm_input {
	int enabled;
	uint8_t buf[256];
	size_t off, len;
};

static void vmm_input_pump(struct vm *vm, struct vmm_input *in, int readable)
{
	if (readable && in->off == in->len) {
		ssize_t n = read(STDIN_FILENO, in->buf, sizeof(in->buf));

		if (n > 0) {
			in->off = 0;
			in->len = (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			in->enabled = 0;     /* EOF: the guest keeps running */
		}
	}
	if (in->off < in->len)
		in->off += uart_receive(vm->console, in->buf + in->off,
					in->len - in->off);
}

/*
 * Every pending signal (vmm_abi.h): SIGTERM, SIGINT, SIGHUP press the
 * power button; VMM_SIG_STOP, or a button that cannot be pressed, stops
 * the vCPUs now.  The guest's own power-off ends the loop otherwise.
 */
static void vmm_signal(struct vm *vm, int sfd)
{
	struct signalfd_siginfo si;
	int rc;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == VMM_SIG_STOP) {
			log_warn("signal %u: stopping the guest now, without its "
				 "shutdown", si.ssi_signo);
			vm_request_stop(vm, VM_STOPPED);
			continue;
		}
		rc = devices_power_button(vm);
		if (rc) {
			log_err("signal %u: cannot press the power button (%s): "
				"stopping the guest now", si.ssi_signo, strerror(-rc));
			vm_request_stop(vm, VM_STOPPED);
			continue;
		}
		log_info("signal %u: pressed the power button; the guest shuts "
			 "itself down", si.ssi_signo);
	}
}

/* The main thread's loop: until the VM leaves VM_RUNNING. */
static void vmm_loop(struct vm *vm, int sfd)
{
	struct vmm_input in = { .enabled = vmm_stdin_usable() };
	int ctl = VMM_FD_CONTROL;

	while (vm_running(vm)) {
		struct pollfd p[4] = {
			{ .fd = vm->event_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in.enabled && in.off == in.len ? STDIN_FILENO : -1,
			  .events = POLLIN },
			{ .fd = ctl, .events = POLLIN },
		};
		int n = poll(p, ARRAY_SIZE(p), in.off < in.len ? 10 : -1);

		if (n < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			vmm_signal(vm, sfd);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR) || in.off < in.len)
			vmm_input_pump(vm, &in, !!p[2].revents);
		/* The launcher's orders (vmm_abi.h); gone: no more orders. */
		if (p[3].revents && vmm_ctl_service(vm, ctl)) {
			log_warn("control channel closed: no more pause/resume");
			ctl = -1;
		}
	}
}

static void *vmm_io_thread(void *arg)
{
	struct vm *vm = arg;

	if (vmm_thread_confine(vm, VMM_ROLE_IO)) {
		log_err("cannot confine the io thread; stopping");
		vm_request_stop(vm, VM_FAILED);
	}
	outbuf_drain(vm->out);   /* drains until closed, even when failing */
	return NULL;
}

/* The virtio devices from the configuration and the launcher's fds
 * (vmm_abi.h): disks in --disk order, the NIC, the entropy device. */
static int vmm_virtio(struct vm *vm, const struct vm_config *cfg)
{
	struct virtio_setup_cfg vc;

	static_assert(CONFIG_MAX_DISKS == VMM_FD_DISK_LAST - VMM_FD_DISK0 + 1,
		      "one fd per disk");
	memset(&vc, 0, sizeof(vc));
	vc.ndisks = cfg->ndisks;
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		vc.disk[i].fd = VMM_FD_DISK0 + (int)i;
		vc.disk[i].readonly = cfg->disks[i].readonly;
		memcpy(vc.disk[i].serial, cfg->disks[i].serial, sizeof(vc.disk[i].serial));
	}
	vc.tap_fd = cfg->net ? VMM_FD_TAP : -1;
	memcpy(vc.mac, cfg->mac, sizeof(vc.mac));
	vc.rng = true;   /* the fds were checked first thing (vmm_check_fds) */
	return virtio_setup(vm, &vc, &vm->virtio);
}

/* Every vCPU created; the CPUID KVM supports into *CPUID (free it). */
static int vmm_vcpus(struct vm *vm, const struct vm_config *cfg, struct kvm_cpuid2 **cpuid)
{
	int rc = vcpu_supported_cpuid(VMM_FD_KVM, cpuid);

	if (rc)
		return rc;
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		rc = -ENOMEM;
	for (uint32_t i = 0; !rc && i < cfg->cpus; i++) {
		rc = vcpu_create(vm, &vm->vcpus[i], i);
		if (!rc)
			vm->nvcpus = i + 1;
	}
	return rc;
}

/*
 * --incoming, the whole stream read (so the source has flushed its disks at
 * FINAL, mig.c): what this host's page cache holds of each disk is dropped,
 * so the guest reads what the source wrote.  On one host (or a file system
 * that keeps its caches coherent) nothing changes; on a LUN both hosts
 * write, this host may have cached blocks before the source wrote them (a
 * partition scan, an earlier guest).  Nothing here has written the disks
 * yet, so every cached page is clean and goes.  A failure fails the
 * incoming (the guest stays at the source).
 */
static int vmm_disks_uncache(const struct vm_config *cfg)
{
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		int rc = posix_fadvise(VMM_FD_DISK0 + (int)i, 0, 0, POSIX_FADV_DONTNEED);

		if (rc) {
			log_err("disk %u (%s): cannot drop this host's cache of it: %s",
				i, cfg->disks[i].path, strerror(rc));
			return -rc;
		}
	}
	return 0;
}

/*
 * --restore and --incoming: the whole stream read and validated first
 * (nothing of the VM exists until it passed; --incoming's rounds fill the
 * memory as they arrive), then the VM from the configuration as at a
 * start, with that memory and no kernel, then every state set.
 */
static int vmm_build_restore(struct vm *vm, const struct vm_config *cfg,
			     struct outbuf *out)
{
	struct kvm_cpuid2 *cpuid = NULL;
	struct snap_image *img = NULL;
	int rc;

	rc = snap_restore_read(VMM_FD_SNAP, VMM_FD_KVM, cfg, vmm_config_digest,
			       vmm_incoming, &img);
	if (rc)
		return rc;
	if (vmm_incoming) {
		rc = vmm_disks_uncache(cfg);
		if (rc) {
			snap_image_free(img);
			return rc;
		}
	}
	rc = vm_create_restored(vm, cfg, VMM_FD_KVM, snap_image_take_mem(img));
	vm->out = out;
	vm->restoring = 1;          /* devices load nothing into guest memory */
	memcpy(vm->config_digest, vmm_config_digest, sizeof(vm->config_digest));
	if (!rc)
		rc = devices_init(vm);
	if (!rc)
		rc = vmm_virtio(vm, cfg);
	if (!rc)
		rc = vmm_vcpus(vm, cfg, &cpuid);
	for (uint32_t i = 0; !rc && i < cfg->cpus; i++)
		rc = vcpu_setup_cpuid(&vm->vcpus[i], cpuid);
	if (!rc)
		rc = snap_restore_apply(vm, img);
	free(cpuid);
	snap_image_free(img);
	return rc;
}

static int vmm_build(struct vm *vm, const struct vm_config *cfg, struct outbuf *out)
{
	static struct acpi_blob acpi;
	struct kvm_cpuid2 *cpuid = NULL;
	struct boot_plan plan;
	int initrd_fd = cfg->initrd[0] ? VMM_FD_INITRD : -1;
	int rc;

	rc = boot_plan(cfg, VMM_FD_KERNEL, initrd_fd, &plan);
	if (!rc)
		rc = acpi_build(cfg, &acpi);
	if (!rc)
		rc = vm_create(vm, cfg, VMM_FD_KVM);
	vm->out = out;   /* before devices_init: the UART writes to it */
	memcpy(vm->config_digest, vmm_config_digest, sizeof(vm->config_digest));
	if (!rc)
		rc = devices_init(vm);
	if (!rc)
		rc = vmm_virtio(vm, cfg);
	if (!rc)
		rc = boot_load(vm, &plan, VMM_FD_KERNEL, initrd_fd, &acpi);
	if (!rc)
		rc = vmm_vcpus(vm, cfg, &cpuid);
	for (uint32_t i = 0; !rc && i < cfg->cpus; i++)
		rc = vcpu_setup(&vm->vcpus[i], cpuid, &plan.lay);
	free(cpuid);
	/* The kernel and initrd are in guest memory now. */
	close(VMM_FD_KERNEL);
	if (initrd_fd >= 0)
		close(initrd_fd);
	return rc;
}

static int vmm_start_threads(struct vm *vm, pthread_t *io, int *io_started)
{
	int rc = pthread_create(io, NULL, vmm_io_thread, vm);

	if (rc) {
		log_err("cannot start the io thread: %s", strerror(rc));
		return -rc;
	}
	*io_started = 1;
	rc = virtio_start(vm->virtio);
	if (rc) {
		log_err("cannot start the virtio I/O threads: %s", strerror(-rc));
		vm_request_stop(vm, VM_FAILED);
		return rc;
	}
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (rc) {
			log_err("vcpu %u: cannot start its thread: %s", i, strerror(rc));
			vm_request_stop(vm, VM_FAILED);
			return -rc;
		}
		v->started = 1;
	}
	return 0;
}

static int vmm_status(struct vm *vm)
{
	switch (atomic_load(&vm->state)) {
	case VM_POWEROFF:
		log_info("guest powered off");
		return VMM_EXIT_OK;
	case VM_REBOOT:
		log_info("guest asked for a reboot; Bulwark does not restart guests");
		return VMM_EXIT_OK;
	case VM_STOPPED:
		log_warn("guest stopped hard: it did not power off after the "
			 "power button");
		return VMM_EXIT_STOPPED;
	default:
		return VMM_EXIT_GUEST;
	}
}

static int vmm_run(struct vm *vm, const struct vm_config *cfg)
{
	struct outbuf out;
	pthread_t io;
	int sfd = -1, rc, io_started = 0, status = VMM_EXIT_SETUP;

	rc = outbuf_init(&out, STDOUT_FILENO);
	if (rc)
		return VMM_EXIT_SETUP;
	rc = vmm_signals(&sfd);
	if (!rc)
		rc = vmm_restoring ? vmm_build_restore(vm, cfg, &out) : vmm_build(vm, cfg, &out);
	/* VMM_CTL_SAVE writes without blocking for ever (snap_save.c); what
	 * it asks KVM once is asked now, before the filters. */
	if (!rc && fcntl(VMM_FD_SNAP, F_SETFL, O_NONBLOCK) < 0)
		rc = -errno;
	if (!rc)
		rc = snap_prepare(VMM_FD_KVM);
	if (!rc)
		rc = vmm_process_confine(vm);
	if (rc) {
		log_err("cannot start the guest: %s", strerror(-rc));
		goto out;
	}
	rc = vmm_start_threads(vm, &io, &io_started);
	/* Restored: the I/O threads park too until VMM_CTL_RESUME. */
	if (!rc && vmm_restoring)
		rc = virtio_pause(vm->virtio);
	/* Last: every thread exists (a filter is inherited, none allows clone). */
	if (!rc) {
		rc = vmm_thread_confine(vm, VMM_ROLE_MAIN);
		if (rc)
			log_err("cannot confine the main thread: %s", strerror(-rc));
	}
	if (rc)
		vm_request_stop(vm, VM_FAILED);   /* fail closed: vCPUs never run */
	vm_gate_open(vm);
	if (rc == 0) {
		/* bench-vtpm times the launch up to this line. */
		log_info("vCPUs released: the guest's first instruction runs now");
		vmm_loop(vm, sfd);
	}
	vm_request_stop(vm, VM_FAILED);   /* no-op unless the loop broke */
	vm_unpark_all(vm);                /* a paused guest stops too */
	vcpu_kick_all(vm);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	virtio_teardown(vm->virtio);      /* stops and joins the I/O threads */
	vm->virtio = NULL;
	outbuf_close(&out);
	if (io_started)
		pthread_join(io, NULL);
	status = rc ? VMM_EXIT_SETUP : vmm_status(vm);
out:
	virtio_teardown(vm->virtio);
	vm->virtio = NULL;
	mig_fini(vm);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	if (vm->devices_up)
		devices_fini(vm);
	vm_destroy(vm);
	if (sfd >= 0)
		close(sfd);
	outbuf_fini(&out);
	return status;
}

/* Whether FD is open with a file of type MODE (S_IFREG, S_IFSOCK, ...). */
static int vmm_fd_is(int fd, mode_t mode)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == mode;
}

/*
 * Every descriptor the configuration implies is open and of the right kind,
 * checked before this process opens anything (a missing ABI fd would
 * otherwise be reused by the next eventfd or KVM fd and pass a later
 * check).  A launcher/VMM mismatch stops here: fail closed.
 */
static int vmm_check_fds(const struct vm_config *cfg)
{
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		if (!vmm_fd_is(VMM_FD_DISK0 + (int)i, S_IFREG) &&
		    !vmm_fd_is(VMM_FD_DISK0 + (int)i, S_IFBLK)) {
			log_err("disk %u (%s): fd %d is not an open file", i,
				cfg->disks[i].path, VMM_FD_DISK0 + (int)i);
			return -EBADF;
		}
	}
	if (cfg->net && !vmm_fd_is(VMM_FD_TAP, S_IFCHR)) {
		log_err("net (tap %s): fd %d is not an open tap", cfg->tap, VMM_FD_TAP);
		return -EBADF;
	}
	if (cfg->vtpm && (!vmm_fd_is(VMM_FD_TPM, S_IFSOCK) ||
			  (!vmm_restoring && !vmm_fd_is(VMM_FD_EVLOG, S_IFREG)))) {
		log_err("vTPM: fd %d (TPM proxy socket) or %d (event log) is missing",
			VMM_FD_TPM, VMM_FD_EVLOG);
		return -EBADF;
	}
	if (!vmm_fd_is(VMM_FD_CONTROL, S_IFSOCK) || !vmm_fd_is(VMM_FD_SNAP, S_IFSOCK)) {
		log_err("fd %d (the launcher's control channel) or %d (the state "
			"stream) is missing", VMM_FD_CONTROL, VMM_FD_SNAP);
		return -EBADF;
	}
	if (vmm_restoring)     /* no kernel, no initrd: the stream has the guest */
		return vmm_fd_is(VMM_FD_KVM, S_IFCHR) ? 0 : -EBADF;
	if (!vmm_fd_is(VMM_FD_KVM, S_IFCHR) || !vmm_fd_is(VMM_FD_KERNEL, S_IFREG) ||
	    (cfg->initrd[0] && !vmm_fd_is(VMM_FD_INITRD, S_IFREG))) {
		log_err("fd %d (/dev/kvm), %d (kernel) or %d (initrd) is missing",
			VMM_FD_KVM, VMM_FD_KERNEL, VMM_FD_INITRD);
		return -EBADF;
	}
	return 0;
}

/* argv: [--log-level LEVEL] [--seccomp kill|log] [--restore|--incoming], as
 * the launcher passes them (vmm_abi.h).  Anything else: refuse to start. */
static int vmm_parse_args(int argc, char **argv, enum config_seccomp *mode)
{
	enum log_level level;

	*mode = CONFIG_SECCOMP_KILL;
	for (int i = 1; i < argc; i += 2) {
		if ((!strcmp(argv[i], VMM_ARG_RESTORE) ||
		     !strcmp(argv[i], VMM_ARG_INCOMING)) && !vmm_restoring) {
			vmm_restoring = 1;
			vmm_incoming = !strcmp(argv[i], VMM_ARG_INCOMING);
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return -EINVAL;
		if (!strcmp(argv[i], "--log-level") && !log_parse_level(argv[i + 1], &level))
			log_set_level(level);
		else if (strcmp(argv[i], "--seccomp") ||
			 config_seccomp_parse(argv[i + 1], mode))
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	static struct vm vm;
	enum config_seccomp mode;

	if (vmm_parse_args(argc, argv, &mode)) {
		log_err("usage: " VMM_BINARY " [--log-level LEVEL] [--seccomp kill|log] "
			"[" VMM_ARG_RESTORE "|" VMM_ARG_INCOMING "]; "
			"it is started by `bulwark run`");
		return VMM_EXIT_SETUP;
	}
	if (vmm_read_config(&cfg))
		return VMM_EXIT_SETUP;
	log_set_vm_name(cfg.name);
	if (vmm_check_fds(&cfg))
		return VMM_EXIT_SETUP;
	vmm_seccomp_mode_set(mode == CONFIG_SECCOMP_LOG ? SANDBOX_SECCOMP_LOG :
							  SANDBOX_SECCOMP_KILL);
	if (mode == CONFIG_SECCOMP_LOG)
		log_warn("seccomp in log mode: unlisted system calls are allowed "
			 "(development only; measured)");
	return vmm_run(&vm, &cfg);
}
