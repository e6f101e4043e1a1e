/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's child: from jail_clone() (new namespaces) to the exec of
 * bulwark-vmm by fd, and the parent's check that the exec happened under
 * the guest's label.  The order inside the child (core/sandbox.h):
 *   1. descriptors at their vmm_abi.h numbers, every other one closed
 *   2. setexeccon(guest label): the last step that needs /proc (it writes
 *      /proc/thread-self/attr/exec); it takes effect at the exec only
 *   3. jail_enter_child: private mounts, pivot_root into an empty read-only
 *      root, rlimits, fds, capabilities, setresgid/setresuid
 *   4. fexecve(bulwark-vmm): the SELinux transition happens here, so
 *      NO_NEW_PRIVS is set only after it, by the VMM itself
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/launch/launcher.h"
#include "core/util.h"
#include "core/vmm_abi.h"

/* The tap is opened and attached here, as root; the VMM gets the fd only
 * (it can then read and write frames, nothing else: no TUNSETIFF in its
 * filter, no CAP_NET_ADMIN). */
int launch_tap_open(const char *ifname)
{
	struct ifreq ifr;
	int fd;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		log_err("--tap: bad interface name '%.32s'", ifname);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		log_err("--tap: /dev/net/tun: %s", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int rc = -errno;

		log_err("--tap %s: TUNSETIFF: %s", ifname, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

/* The VMM's descriptors: parent fd -> ABI number (-1 parent fd: absent). */
struct launch_fdmap {
	int src[10 + CONFIG_MAX_DISKS];
	int dst[10 + CONFIG_MAX_DISKS];
	size_t n;
};

static void launch_fdmap_add(struct launch_fdmap *m, int src, int dst)
{
	m->src[m->n] = src;
	m->dst[m->n++] = dst;
}

static void launch_fdmap_fill(const struct launch *l, struct launch_fdmap *m)
{
	m->n = 0;
	launch_fdmap_add(m, l->config_fd, VMM_FD_CONFIG);
	launch_fdmap_add(m, l->kvm_fd, VMM_FD_KVM);
	/* A restore: no kernel, no initrd (vmm_abi.h); the stream has the guest. */
	launch_fdmap_add(m, l->restore || l->incoming ? -1 : l->kernel_fd, VMM_FD_KERNEL);
	launch_fdmap_add(m, l->restore || l->incoming ? -1 : l->initrd_fd, VMM_FD_INITRD);
	launch_fdmap_add(m, l->vtpm_running ? l->vtpm.vmm_fd : -1, VMM_FD_TPM);
	launch_fdmap_add(m, l->tap_fd, VMM_FD_TAP);
	launch_fdmap_add(m, l->evlog_fd, VMM_FD_EVLOG);
	launch_fdmap_add(m, l->vmm_ctl_fd, VMM_FD_CONTROL);
	launch_fdmap_add(m, l->vmm_snap_fd, VMM_FD_SNAP);
	for (size_t i = 0; i < ARRAY_SIZE(l->disk_fd); i++)
		launch_fdmap_add(m, l->disk_fd[i], VMM_FD_DISK0 + (int)i);
	/* Last: the binary, exec'd by fd (close-on-exec, fexecve consumes it). */
	launch_fdmap_add(m, l->vmm_fd, VMM_FD_FIRST_FREE);
}

/* The jail: per-guest ids, limits sized for the guest (validated early;
 * the fds to keep are known only once the vTPM runs). */
int launch_jail_setup(struct launch *l)
{
	struct stat st;
	int rc;

	rc = jail_root_prepare(l->opt.jail_root);
	if (!rc)
		rc = jail_config_init(&l->jail, l->opt.jail_root, NULL,
				      launch_svirt_slot(l), l->cfg.cpus,
				      l->cfg.memory_mib << 20);
	if (rc) {
		log_err("jail: %s", strerror(-rc));
		return rc;
	}
	if (l->opt.uid)
		l->jail.uid = l->opt.uid;
	if (l->opt.gid)
		l->jail.gid = l->opt.gid;
	l->jail.exec_fd = VMM_FD_FIRST_FREE;
	l->jail.keep_netns = l->tap_fd >= 0;
	/* A writable disk may be written up to its size. */
	for (size_t i = 0; i < l->cfg.ndisks && !rc; i++)
		if (!l->cfg.disks[i].readonly && !fstat(l->disk_fd[i], &st) &&
		    (rlim_t)st.st_size > l->jail.fsize)
			l->jail.fsize = (rlim_t)st.st_size;
	return rc;
}

/* In the child: the fds at their ABI numbers, all others closed. */
static int launch_child_fds(const struct launch *l)
{
	struct launch_fdmap m;
	int hi[ARRAY_SIZE(m.src)];

	launch_fdmap_fill(l, &m);
	for (size_t i = 0; i < m.n; i++) {
		hi[i] = m.src[i] < 0 ? -1 : fcntl(m.src[i], F_DUPFD_CLOEXEC, 100);
		if (m.src[i] >= 0 && hi[i] < 0)
			return -errno;
	}
	for (size_t i = 0; i < m.n; i++) {
		if (hi[i] < 0)
			close(m.dst[i]);
		else if (dup3(hi[i], m.dst[i], O_CLOEXEC) < 0)
			return -errno;
	}
	/* jail_enter_child clears close-on-exec on the kept ones. */
	return close_range(VMM_FD_FIRST_FREE + 1, ~0U, 0) < 0 ? -errno : 0;
}

int launcher_child_confine(const struct launch *l)
{
	int rc = 0;

	/* The guest's label for the exec (the transition needs the policy's
	 * launcher -> bulwark_vmm_t transition and the binary's entrypoint
	 * type).  Still root here; the label changes nothing until exec. */
	if (l->svm)
		rc = svirt_child_setexec(l->vmm_label);
	if (rc) {
		log_err("setexeccon %s: %s", l->vmm_label, strerror(-rc));
		return rc;
	}
	/* After this: no capability in any set, uid/gid of the guest's slot,
	 * an empty read-only root, its own namespaces, rlimits, and only the
	 * vmm_abi.h fds.  What is left is exec of the kept binary fd. */
	return jail_enter_child(&l->jail);
}

static void launch_child(const struct launch *l)
{
	static const char *const levels[] = { "err", "warn", "info", "debug" };
	char *argv[] = { VMM_BINARY, "--log-level", NULL, "--seccomp", NULL, NULL, NULL };
	sigset_t none;
	int rc;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	argv[2] = (char *)levels[l->level];
	argv[4] = (char *)config_seccomp_name(l->cfg.seccomp);
	argv[5] = l->restore ? VMM_ARG_RESTORE : l->incoming ? VMM_ARG_INCOMING : NULL;
	rc = launch_child_fds(l);
	if (!rc)
		rc = launcher_child_confine(l);
	if (!rc)
		rc = jail_exec(&l->jail, argv);
	log_err("cannot start " VMM_BINARY ": %s", strerror(-rc));
	_exit(VMM_EXIT_SETUP);
}

/* Signals stay blocked in the parent: the poll loop takes them by signalfd. */
pid_t launch_child_start(struct launch *l)
{
	struct launch_fdmap m;
	sigset_t set;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	launch_fdmap_fill(l, &m);
	l->jail.n_keep_fds = 0;
	for (size_t i = 0; i + 1 < m.n; i++)
		if (m.src[i] >= 0 && jail_config_keep_fd(&l->jail, m.dst[i]))
			return -EINVAL;
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid = jail_clone(&l->jail);
	if (pid < 0) {
		log_err("cannot start the VMM: %s", strerror(-pid));
		return pid;
	}
	if (pid == 0)
		launch_child(l);
	l->vmm_pid = pid;
	return pid;
}

/* The child has exec'd once its label is no longer ours (the exec attribute
 * takes effect at exec only); or it died.  Bounded: 10 s. */
static int launch_exec_seen(pid_t pid)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	char *self = NULL;
	int rc = -ETIMEDOUT;

	if (getcon_raw(&self) < 0)
		return -errno;
	for (int i = 0; i < 2000 && rc == -ETIMEDOUT; i++) {
		siginfo_t si = { 0 };
		char *con = NULL;

		if (!waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pid)
			rc = -ECHILD;
		else if (getpidcon_raw(pid, &con) == 0 && strcmp(con, self))
			rc = 0;
		freecon(con);
		if (rc == -ETIMEDOUT)
			nanosleep(&ts, NULL);
	}
	freecon(self);
	return rc;
}

/*
 * After the exec: the VMM runs at exactly the guest's label (else it is
 * killed), and the registry knows it is alive.  The caller reaps the child
 * in every case.
 */
int launch_exec_wait(struct launch *l, pid_t pid)
{
	int rc;

	if (!l->svm)
		return 0;
	rc = launch_exec_seen(pid);
	if (rc) {
		log_err(VMM_BINARY " did not start: %s", strerror(-rc));
		kill(pid, SIGKILL);
		return rc;
	}
	rc = launch_svirt_verify(l, pid);
	if (!rc)
		rc = launch_svirt_add_pid(l, pid);
	if (rc) {
		kill(pid, SIGKILL);
		return rc;
	}
	log_info(VMM_BINARY " runs as pid %d at %s", (int)pid, l->vmm_label);
	return 0;
}
