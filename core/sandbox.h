/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Least privilege for the guest-facing process (bulwark-vmm): the jail it is
 * started in and the seccomp filter of each of its threads.
 *
 * The order of every step, and why it is split the way it is:
 *
 *   launcher (root, `bulwark run`)
 *     jail_config_check()          validate everything first
 *     pid = jail_clone(cfg)        fork into new pid, mount, ipc, uts, cgroup
 *                                  and (unless a tap is kept) net namespaces
 *   child, still root, before exec
 *     setexeccon(guest label)      svirt: must come before the pivot (it
 *                                  writes /proc/thread-self/attr/exec)
 *     jail_enter_child(cfg)        private mounts, empty read-only root,
 *                                  pivot_root, rlimits, fds, securebits,
 *                                  capability sets, setgroups/gid/uid
 *     jail_exec(cfg, argv)         execve with an empty environment; the
 *                                  SELinux transition happens here, so
 *                                  NO_NEW_PRIVS must not be set yet
 *   bulwark-vmm, after exec (no capabilities, unprivileged uid)
 *     jail_finish_after_exec()     NO_NEW_PRIVS, not dumpable, verify that
 *                                  no capability and no root id is left
 *     sandbox_filters_build()      compile every role's filter once
 *     each thread, at its entry:   sandbox_filter_install(role's filter)
 *     main thread, last:           sandbox_filter_install(main's filter)
 *
 * Filters are per thread and are not nested: a filter is inherited by threads
 * created after it, and stacked filters intersect, so the main thread creates
 * every thread first and installs its own filter last.  No role allows clone.
 */
#ifndef BULWARK_SANDBOX_H
#define BULWARK_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

/* ---- seccomp ----------------------------------------------------------- */

enum sandbox_role {
	SANDBOX_ROLE_MAIN = 0,	/* event loop: devices, console, signals */
	SANDBOX_ROLE_VCPU,	/* one per vCPU: KVM_RUN and in-line exits */
	SANDBOX_ROLE_IO,	/* I/O worker: disk requests */
	SANDBOX_ROLE_COUNT
};

enum sandbox_seccomp_mode {
	SANDBOX_SECCOMP_KILL = 0, /* default: anything unlisted kills the VMM */
	SANDBOX_SECCOMP_LOG,	  /* development: unlisted calls are logged by
				   * the kernel and allowed; measured */
	SANDBOX_SECCOMP_OFF,	  /* no filter at all; measured */
};

enum seccomp_arg_kind {
	SECCOMP_ARG_ANY = 0,	 /* the arguments are not inspected */
	SECCOMP_ARG_IN_SET,	 /* arg equals one of values[] */
	SECCOMP_ARG_IN_SET32,	 /* low 32 bits equal one of values[] (the
				  * kernel reads ioctl's request as an int) */
	SECCOMP_ARG_MASK_CLEAR,	 /* (arg & mask) == 0 */
	SECCOMP_ARG_ENOSYS,	 /* not allowed, answered -ENOSYS (clone3:
				  * makes glibc use clone, whose flags can be
				  * inspected) */
};

/* One allowed system call and the one argument it is pinned by, if any. */
struct seccomp_rule {
	const char *name;
	int nr;
	enum seccomp_arg_kind kind;
	unsigned int arg;	/* index of the inspected argument (0..5) */
	uint64_t mask;		/* SECCOMP_ARG_MASK_CLEAR */
	const uint64_t *values;	/* SECCOMP_ARG_IN_SET{,32} */
	size_t n_values;
	const char *why;	/* which code needs it */
};

struct seccomp_table {
	const char *name;	/* "main", "vcpu", "io" */
	const struct seccomp_rule *rules;
	size_t n_rules;
};

/* The allowlist of a role (core/seccomp_tables.c); NULL for a bad role. */
const struct seccomp_table *seccomp_table_get(enum sandbox_role role);
/* Number of system calls a role's filter allows (ENOSYS rules excluded). */
size_t seccomp_table_count(enum sandbox_role role);

/* A compiled filter: the exact bytes that are installed and measured. */
struct sandbox_filter {
	enum sandbox_role role;
	enum sandbox_seccomp_mode mode;
	struct sock_filter *insns;	/* NULL in mode off */
	unsigned short len;
	uint8_t digest[32];		/* SHA-256 of insns once
					 * sandbox_filter_digest() ran; zero before,
					 * and always in the VMM, which links no hash */
};

int sandbox_role_parse(const char *s, enum sandbox_role *out);
const char *sandbox_role_name(enum sandbox_role role);
int sandbox_seccomp_mode_parse(const char *s, enum sandbox_seccomp_mode *out);
const char *sandbox_seccomp_mode_name(enum sandbox_seccomp_mode mode);

/* Compiles a role's table to BPF with libseccomp (no digest: see below). */
int sandbox_filter_build(enum sandbox_role role, enum sandbox_seccomp_mode mode,
			 struct sandbox_filter *out);
/*
 * SHA-256 of f's program into f->digest: core/launch/seccomp_digest.c, linked by
 * the launcher (which measures the digests) and not by the guest-facing
 * VMM, so that process carries no crypto library.  Called explicitly by
 * whoever needs the digest: a launcher without it fails to link, it never
 * measures a zero digest.  0 or -EIO.
 */
int sandbox_filter_digest(struct sandbox_filter *f);
void sandbox_filter_free(struct sandbox_filter *f);
/* Compiles every role's filter at once; all or nothing. */
int sandbox_filters_build(enum sandbox_seccomp_mode mode,
			  struct sandbox_filter out[SANDBOX_ROLE_COUNT]);
void sandbox_filters_free(struct sandbox_filter f[SANDBOX_ROLE_COUNT]);
/*
 * Installs a compiled filter on the calling thread only.  Sets NO_NEW_PRIVS
 * first (idempotent).  Allocates nothing, so it is safe at thread entry.
 * Mode off installs nothing and says so at warn level.
 */
int sandbox_filter_install(const struct sandbox_filter *f);
/* Build, install on the calling thread, free.  Fail closed: on error the
 * caller must stop the VM. */
int sandbox_seccomp_apply(enum sandbox_role role, enum sandbox_seccomp_mode mode);
/* libseccomp's PFC text of a role's filter, to fd. */
int sandbox_filter_export_pfc(enum sandbox_role role,
			      enum sandbox_seccomp_mode mode, int fd);

/* bulwark-vmm (core/vmm/sandbox_hooks.c): the mode its filters are built in;
 * call before vmm_process_confine().  Default: kill. */
void vmm_seccomp_mode_set(enum sandbox_seccomp_mode mode);

/* ---- jail ----------------------------------------------------------- */

#define JAIL_MAX_KEEP_FDS 64
#define JAIL_MAX_RO_PATHS 8
/*
 * Default ids: guest slot N runs as uid and gid JAIL_ID_BASE + N, above
 * systemd's container range (524288..1879048191) and any /etc/subuid range
 * Debian hands out.  The slot must be unique among running guests: the
 * index of the guest's svirt category pair (a * 1024 + b), or the
 * launcher's pid when svirt is off (the VMM dies with its launcher).
 */
#define JAIL_ID_BASE 0x70000000u
#define JAIL_ID_SLOTS (1u << 22)
/*
 * The guest's swtpm (attest/vtpm/swtpm.h) runs in a jail of its own at the next
 * range: uid and gid JAIL_VTPM_ID_BASE + the same slot, so the two
 * processes of one guest never share an id and no two guests' swtpms do.
 */
#define JAIL_VTPM_ID_BASE (JAIL_ID_BASE + JAIL_ID_SLOTS)
/* A mount point for every jail's private root (the tmpfs is mounted in the
 * guest's own mount namespace, so one empty directory serves all). */
#define JAIL_ROOT_DEFAULT "/run/bulwark/jail"

struct jail_config {
	const char *root;	/* existing empty directory: mount point of
				 * the jail's private tmpfs root */
	const char *vmm_path;	/* binary to exec by path, bound read-only;
				 * NULL when exec_fd is used */
	int exec_fd;		/* or: an fd of the binary (fexecve): kept
				 * open through the jail, close-on-exec; the
				 * binary then needs no place in the root */
	const char *ro_paths[JAIL_MAX_RO_PATHS]; /* more read-only binds (the
				 * dynamic loader and libraries) */
	size_t n_ro_paths;
	const char *rw_dir;	/* one writable bind (nosuid, nodev, noexec) at
				 * the same path: swtpm's state directory;
				 * NULL for the VMM, whose root holds nothing
				 * writable */
	uid_t uid;		/* never 0 */
	gid_t gid;		/* never 0 */
	int keep_fds[JAIL_MAX_KEEP_FDS]; /* besides 0, 1, 2 */
	size_t n_keep_fds;
	bool keep_netns;	/* a tap device is passed: stay in the host net
				 * namespace (the tap fd needs it) */
	rlim_t nofile;		/* RLIMIT_NOFILE */
	rlim_t fsize;		/* RLIMIT_FSIZE: largest writable disk, or 0 */
	rlim_t nproc;		/* RLIMIT_NPROC: threads of this uid */
	rlim_t as;		/* RLIMIT_AS, RLIM_INFINITY for none */
};

/* Defaults for guest slot `slot`: ids JAIL_ID_BASE + slot, the Debian
 * x86_64 loader paths, limits sized for `cpus` vCPUs and `mem_bytes` RAM,
 * exec_fd -1.  vmm_path may be NULL (set exec_fd then). */
int jail_config_init(struct jail_config *cfg, const char *root,
		     const char *vmm_path, unsigned int slot,
		     unsigned int cpus, uint64_t mem_bytes);
int jail_config_keep_fd(struct jail_config *cfg, int fd);
/* Creates path (and its parent) if missing: a root-owned directory no one
 * else may write, not a symlink; refuses anything else. */
int jail_root_prepare(const char *path);
/*
 * Checks ROOT before anything is changed: it must exist (unless
 * MAY_BE_ABSENT, the default root jail_root_prepare() creates), be reached
 * without a symlink, be a directory owned by root that neither group nor
 * others may write, be empty, and be neither one of USED[0..N) (absolute
 * paths of what the guest uses: kernel, initrd, disks, state folders) nor
 * a parent of one.  Returns 0 or -errno (logged).
 */
int jail_root_check(const char *root, bool may_be_absent, const char *const *used,
		    size_t n);
int jail_config_check(const struct jail_config *cfg);
/* fork(2) semantics (pid, 0 in the child, -errno) but the child starts in
 * new namespaces (all but the fds of cfg are checked first; the fds are
 * checked by jail_enter_child(), so the child may still move them) and
 * is pid 1 of its own pid namespace: unshare(CLONE_NEWPID)
 * would only move later children, so this is a clone.  The launcher must be
 * single-threaded when it calls this. */
pid_t jail_clone(const struct jail_config *cfg);
/* In the child of jail_clone(), as root, before exec.  On error the child
 * must _exit() without exec. */
int jail_enter_child(const struct jail_config *cfg);
/* execve of cfg->vmm_path (or fexecve of cfg->exec_fd) with an empty
 * environment; returns -errno only. */
int jail_exec(const struct jail_config *cfg, char *const argv[]);
/* First thing bulwark-vmm does. */
int jail_finish_after_exec(void);

#endif
