/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swtpm's jail: the guest's TPM parses every command the guest sends, so it
 * is confined like the VMM (core/sandbox.h), with core/launch/jail*.c:
 *
 *   launcher (root)
 *     swtpm_jail_init       ids JAIL_VTPM_ID_BASE + slot, limits, the binds
 *     swtpm_state_own       state directory and files owned by that uid
 *                           (labels untouched: chown keeps them)
 *     jail_clone            new pid, mount, ipc, uts, cgroup, net namespaces
 *   child, root, before exec
 *     fds 3.. in place      control channel, state key (swtpm.c)
 *     child_setup           setexeccon(vTPM label), launcher's hook
 *     jail_enter_child      empty read-only root + the state directory,
 *                           pivot_root, rlimits, fds, securebits, every
 *                           capability set, groups, gid, uid, PDEATHSIG
 *     NO_NEW_PRIVS          the policy allows the vTPM transition under it
 *     Bulwark's filter      an allowlist (below), kill on anything else
 *     execve(swtpm ... --seccomp action=kill)
 *   swtpm: installs its own seccomp profile (a denylist) on top, before it
 *     serves a command
 *   launcher, after CMD_INIT: swtpm_jail_verify reads the live process
 *     (/proc/PID/status, ns, root) and stops a vTPM that is not confined
 *     (both filters in place included: Seccomp 2, Seccomp_filters 2)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attest/vtpm/swtpm_priv.h"
#include "core/log.h"
#include "core/util.h"

/* libswtpm_libtpms.so.0 lives in swtpm's RUNPATH, not in the loader's
 * default directories (which the VMM's defaults bind already). */
#define SWTPM_LIB_DIR "/usr/lib/x86_64-linux-gnu/swtpm"

#define SWTPM_NOFILE 64u                /* 0-4, data channel, state files */
#define SWTPM_NPROC 16u                 /* its threads, under its own uid */
#define SWTPM_FSIZE (16ull << 20)       /* NVRAM state: tens of KiB */
#define SWTPM_AS (1ull << 30)           /* libtpms + OpenSSL, a few threads */

int swtpm_jail_ids(const struct swtpm_config *cfg, uid_t *uid, gid_t *gid)
{
	/* Tools and tests: a slot from our pid (unique among live processes,
	 * pid_max <= JAIL_ID_SLOTS).  The launcher sets the guest's own. */
	uid_t def = JAIL_VTPM_ID_BASE + (uid_t)getpid() % JAIL_ID_SLOTS;

	*uid = cfg->uid ? cfg->uid : def;
	*gid = cfg->gid ? cfg->gid : *uid;
	if (*uid == (uid_t)-1 || *gid == (gid_t)-1) {
		log_err("vTPM %s: uid/gid -1 refused", cfg->name);
		return -EINVAL;
	}
	return 0;
}

int swtpm_jail_init(const struct swtpm_config *cfg, struct jail_config *j)
{
	const char *root = cfg->jail_root ? cfg->jail_root : JAIL_ROOT_DEFAULT;
	int rc;

	rc = cfg->jail_root ? 0 : jail_root_prepare(root);
	rc = rc ? rc : jail_config_init(j, root, SWTPM_BIN, 0, 1, 0);
	rc = rc ? rc : swtpm_jail_ids(cfg, &j->uid, &j->gid);
	if (rc)
		return rc;
	j->ro_paths[j->n_ro_paths++] = SWTPM_LIB_DIR;
	j->rw_dir = cfg->state_dir;
	j->nofile = SWTPM_NOFILE;
	j->nproc = SWTPM_NPROC;
	j->fsize = SWTPM_FSIZE;
#ifdef __SANITIZE_ADDRESS__
	j->as = RLIM_INFINITY;  /* the child runs our instrumented code until exec */
#else
	j->as = SWTPM_AS;
#endif
	return jail_config_check(j);
}

/* One entry of the state directory: a regular file, given to uid:gid. */
static int swtpm_state_own_file(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		rc = -EPERM;       /* swtpm keeps nothing else there */
	else if (fchown(fd, uid, gid) || fchmod(fd, st.st_mode & 0600))
		rc = -errno;
	close(fd);
	return rc;
}

int swtpm_state_own(const struct swtpm_config *cfg, uid_t uid, gid_t gid)
{
	struct dirent *de;
	struct stat st;
	int rc = 0, fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0 || fstat(fd, &st) || fchown(fd, uid, gid) || fchmod(fd, 0700)) {
		rc = -errno;
		goto out;
	}
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		goto out;
	}
	fd = -1;                   /* closedir closes it */
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* swtpm's lock file holds nothing and swtpm makes it again at
		 * start, in its own domain and at the guest's pair: a copy left
		 * by provisioning (made at the launcher's level) goes. */
		if (!strcmp(de->d_name, ".lock"))
			rc = unlinkat(dirfd(d), de->d_name, 0) ? -errno : 0;
		else
			rc = swtpm_state_own_file(dirfd(d), de->d_name, uid, gid);
		if (rc)
			log_err("vTPM %s: state %s/%s: %s", cfg->name, cfg->state_dir,
				de->d_name, strerror(-rc));
	}
	closedir(d);
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		log_err("vTPM %s: cannot give the state %s to uid %u: %s", cfg->name,
			cfg->state_dir, (unsigned)uid, strerror(-rc));
	return rc;
}

/* ---- Bulwark's filter for swtpm ---------------------------------------- */

/*
 * Every call swtpm 0.7.1 makes from its exec on (the loader, libc, OpenSSL,
 * libtpms, libseccomp loading swtpm's own profile), taken with strace -ff
 * of every test that runs it (tests/unit/test_swtpm.c, test_vtpm.c,
 * test_tpmproxy.c, test_measure_vtpm.c, test_crb.c, test_quote_vtpm.c,
 * test_attestd.c) and the lab's guests; plus the signal and sleep calls
 * libc may make on paths those did not take.  No clone (it makes no
 * thread), no socket, connect or bind (its channels are given), no mount,
 * ptrace, kill or bpf.
 */
static const int swtpm_allowed[] = {
	/* I/O on the fds it holds and its state files */
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64,
	SYS_lseek, SYS_openat, SYS_close, SYS_newfstatat, SYS_fstat, SYS_fcntl,
	SYS_rename, SYS_renameat, SYS_unlink, SYS_unlinkat, SYS_fchmod, SYS_fsync,
	SYS_fdatasync, SYS_ftruncate, SYS_access, SYS_pipe2,
	/* the control and data channels (SCM_RIGHTS), path-mode listeners */
	SYS_poll, SYS_ppoll, SYS_recvmsg, SYS_sendmsg, SYS_accept, SYS_accept4,
	SYS_shutdown,
	/* memory (the loader maps the libraries executable) */
	SYS_mmap, SYS_munmap, SYS_mprotect, SYS_mremap, SYS_madvise, SYS_brk,
	/* process start-up and exit */
	SYS_execve, SYS_arch_prctl, SYS_set_tid_address, SYS_set_robust_list,
	SYS_rseq, SYS_prlimit64, SYS_exit, SYS_exit_group, SYS_getpid, SYS_gettid,
	/* swtpm's own profile: libseccomp probes, sets NO_NEW_PRIVS, loads */
	SYS_seccomp, SYS_prctl,
	/* signals, time, randomness, locks */
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_restart_syscall,
	SYS_clock_gettime, SYS_nanosleep, SYS_clock_nanosleep, SYS_getrandom,
	SYS_futex,
};

/* arch check (3), x32 check (3), ioctl (2), the list, kill, allow */
#define SWTPM_FILTER_LEN (ARRAY_SIZE(swtpm_allowed) + 10)
static_assert(ARRAY_SIZE(swtpm_allowed) + 2 < 256, "jumps fit a BPF offset");

/* x86_64 only; x32 and other ABIs die; ioctl answers ENOTTY (libc's
 * isatty on stderr is its only one); the list allowed; the rest kills. */
static void swtpm_filter_build(struct sock_filter *f)
{
	const size_t n = ARRAY_SIZE(swtpm_allowed);
	size_t i = 0;

	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY);
	for (size_t k = 0; k < n; k++)      /* a match jumps to the allow */
		f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned)swtpm_allowed[k],
						      (unsigned char)(n - k), 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}
int swtpm_filter_install(void)
{
	struct sock_filter f[SWTPM_FILTER_LEN];
	struct sock_fprog prog = { .len = (unsigned short)ARRAY_SIZE(f), .filter = f };

	swtpm_filter_build(f);
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) ? -errno : 0;
}

/* In the child of jail_clone, fds in place: never returns. */
void swtpm_jail_child(const struct swtpm_config *cfg, const struct jail_config *j,
		      char *const argv[])
{
	int rc;

	/* The launcher's hook (setexeccon of the vTPM's label): it writes
	 * /proc/thread-self/attr/exec, so it runs before the pivot. */
	if (cfg->child_setup && cfg->child_setup(cfg->child_arg))
		_exit(126);
	/* After this: swtpm's uid and gid (not root, not the VMM's), no group,
	 * every capability set empty and securebits locked, an empty
	 * read-only root holding the loader, libraries, the swtpm binary and
	 * its state directory (the only writable place), private pid, mount,
	 * ipc, uts, cgroup and network namespaces (no interface but a down
	 * loopback), parent-death SIGKILL.  What is left: the fds 0-4 (the
	 * control channel and the state key) and its state files. */
	rc = jail_enter_child(j);
	/* No exec can gain privilege from here on (setuid files, file
	 * capabilities).  Set before the exec, unlike the VMM's: the policy
	 * allows the vTPM domain transition under it (process2
	 * nnp_transition), and swtpm runs no code of ours after the exec. */
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		rc = -errno;
	/* From here: only swtpm_allowed[] (the exec is one of them); swtpm
	 * stacks its own profile on it, so a call needs both to pass. */
	if (!rc)
		rc = swtpm_filter_install();
	if (!rc)
		rc = jail_exec(j, argv);
	log_err("vTPM %s: cannot start swtpm confined: %s", cfg->name, strerror(-rc));
	_exit(126);
}

/* ---- the launcher's check on the live swtpm -------------------------- */

/* The value after "key:" in a /proc status text, or NULL. */
static const char *swtpm_status_field(const char *text, const char *key, char *buf,
				      size_t size)
{
	size_t klen = strlen(key);

	for (const char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, klen) || l[klen] != ':')
			continue;
		l += klen + 1;
		l += strspn(l, " \t");
		snprintf(buf, size, "%.*s", (int)strcspn(l, "\n"), l);
		return buf;
	}
	return NULL;
}

static int swtpm_status_read(pid_t pid, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, size - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -EIO;
	text[n] = '\0';
	return 0;
}

/* Ids, groups, capability sets, NO_NEW_PRIVS, both filters: what the jail set. */
static const char *swtpm_status_check(const char *text, uid_t uid, gid_t gid)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char want[64], v[128];

	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", uid, uid, uid, uid);
	if (!swtpm_status_field(text, "Uid", v, sizeof(v)) || strcmp(v, want))
		return "Uid";
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", gid, gid, gid, gid);
	if (!swtpm_status_field(text, "Gid", v, sizeof(v)) || strcmp(v, want))
		return "Gid";
	if (!swtpm_status_field(text, "Groups", v, sizeof(v)) || v[0])
		return "Groups";
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (!swtpm_status_field(text, caps[i], v, sizeof(v)) ||
		    strcmp(v, "0000000000000000"))
			return caps[i];
	if (!swtpm_status_field(text, "NoNewPrivs", v, sizeof(v)) || strcmp(v, "1"))
		return "NoNewPrivs";
	if (!swtpm_status_field(text, "Seccomp", v, sizeof(v)) || strcmp(v, "2"))
		return "Seccomp";
	/* Ours (installed before the exec) and swtpm's own profile. */
	if (!swtpm_status_field(text, "Seccomp_filters", v, sizeof(v)) || strcmp(v, "2"))
		return "Seccomp_filters";
	return NULL;
}

/* Namespaces other than ours, and a root that is not the host's. */
static const char *swtpm_ns_check(pid_t pid)
{
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "net", "cgroup" };
	char path[64], theirs[64], ours[64];
	struct stat a, b;

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		ssize_t n, m;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i]);
		n = readlink(path, theirs, sizeof(theirs) - 1);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		m = readlink(path, ours, sizeof(ours) - 1);
		if (n <= 0 || m <= 0 || (n == m && !memcmp(theirs, ours, (size_t)n)))
			return ns[i];
	}
	snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
	if (stat(path, &a) || stat("/", &b) || (a.st_dev == b.st_dev && a.st_ino == b.st_ino))
		return "root";
	return NULL;
}

int swtpm_jail_verify(const char *name, pid_t pid, uid_t uid, gid_t gid)
{
	char text[4096];
	const char *bad;
	int rc = swtpm_status_read(pid, text, sizeof(text));

	if (rc) {
		log_err("vTPM %s: cannot read swtpm's status: %s", name, strerror(-rc));
		return rc;
	}
	bad = swtpm_status_check(text, uid, gid);
	bad = bad ? bad : swtpm_ns_check(pid);
	if (bad) {
		log_err("vTPM %s: swtpm (pid %d) is not confined: %s", name, (int)pid, bad);
		return -EPERM;
	}
	log_debug("vTPM %s: swtpm pid %d confined: uid %u, no capability, "
		  "NoNewPrivs, seccomp, own namespaces and root", name, (int)pid,
		  (unsigned)uid);
	return 0;
}
