/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jail of the guest-facing process.  The order of the steps, and which
 * side of the exec each one is on, is described in core/sandbox.h; every
 * privilege drop below says what is still allowed after it and why.
 */
#include "core/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/path.h"
#include "core/util.h"

/* The loader and the libraries of bulwark-vmm on Debian x86_64 (the /lib64
 * symlink points into /lib/x86_64-linux-gnu). */
static const char *const jail_default_ro_paths[] = {
	"/lib64",
	"/lib/x86_64-linux-gnu",
};

/* Budget for the VMM's own mappings besides guest RAM: its image and heap,
 * and per thread an 8 MiB stack and a 64 MiB malloc arena reservation. */
#define JAIL_AS_BASE (1ull << 30)
#define JAIL_AS_PER_THREAD (128ull << 20)
#define JAIL_EXTRA_THREADS 8u	/* main, I/O workers */
#define JAIL_NOFILE_BASE 128u	/* 0-17 of vmm_abi.h, KVM, eventfds of up
				 * to 10 virtio devices */
#define JAIL_NOFILE_PER_CPU 4u	/* vcpu fd, kick, spare */
#define JAIL_FSIZE_DEFAULT (1ull << 30) /* console log cap */

int jail_config_init(struct jail_config *cfg, const char *root,
		     const char *vmm_path, unsigned int slot,
		     unsigned int cpus, uint64_t mem_bytes)
{
	if (!cfg || !root || slot >= JAIL_ID_SLOTS ||
	    cpus == 0 || cpus > 64 || mem_bytes > (1ull << 46))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->root = root;
	cfg->vmm_path = vmm_path;
	cfg->exec_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(jail_default_ro_paths); i++)
		cfg->ro_paths[i] = jail_default_ro_paths[i];
	cfg->n_ro_paths = ARRAY_SIZE(jail_default_ro_paths);
	cfg->uid = JAIL_ID_BASE + slot;
	cfg->gid = JAIL_ID_BASE + slot;
	cfg->nofile = JAIL_NOFILE_BASE + JAIL_NOFILE_PER_CPU * cpus;
	cfg->fsize = JAIL_FSIZE_DEFAULT;
	cfg->nproc = cpus + JAIL_EXTRA_THREADS;
#ifdef __SANITIZE_ADDRESS__
	/* ASan reserves terabytes of shadow address space. */
	cfg->as = RLIM_INFINITY;
#else
	cfg->as = mem_bytes + JAIL_AS_BASE +
		  JAIL_AS_PER_THREAD * (cpus + JAIL_EXTRA_THREADS);
#endif
	return 0;
}

int jail_config_keep_fd(struct jail_config *cfg, int fd)
{
	if (!cfg || fd < 3 || cfg->n_keep_fds >= ARRAY_SIZE(cfg->keep_fds))
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_keep_fds; i++)
		if (cfg->keep_fds[i] == fd)
			return 0;
	cfg->keep_fds[cfg->n_keep_fds++] = fd;
	return 0;
}

static int jail_dir_safe(const char *path)
{
	struct stat st;

	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	if (lstat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

int jail_root_prepare(const char *path)
{
	char parent[PATH_MAX];
	char *slash;
	int rc;

	if (!path || path[0] != '/' || strlen(path) >= sizeof(parent))
		return -EINVAL;
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		rc = jail_dir_safe(parent);
		if (rc)
			goto fail;
	}
	rc = jail_dir_safe(path);
	if (rc == 0)
		return 0;
fail:
	log_err("jail root %s: %s", path, strerror(-rc));
	return rc;
}

static bool jail_path_clean(const char *p);

/* An empty directory: nothing but "." and "..". */
static int jail_dir_empty(int fd)
{
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0), rc = 1;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while (rc == 1 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = 0;
	closedir(d);
	return rc;
}

/* ROOT (and its real name REAL, "" if none) holds none of USED. */
static int jail_root_apart(const char *root, const char *real, const char *const *used,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!used[i] || !used[i][0])
			continue;
		if (path_is_under(used[i], root) || (real[0] && path_is_under(used[i], real))) {
			log_err("--jail-root %s: holds %s, which the guest uses", root, used[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int jail_root_check(const char *root, bool may_be_absent, const char *const *used,
		    size_t n)
{
	char real[PATH_MAX] = "";
	struct stat st;
	int fd, rc;

	if (!root || root[0] != '/' || !jail_path_clean(root)) {
		log_err("--jail-root: must be an absolute path without . or ..");
		return -EINVAL;
	}
	if (may_be_absent && lstat(root, &st) && errno == ENOENT)
		return jail_root_apart(root, real, used, n);
	fd = path_open_dir(root, "--jail-root", &st);
	if (fd < 0)
		return fd;
	rc = path_of_fd(fd, real, sizeof(real));
	if (!rc && (st.st_uid != 0 || (st.st_mode & 022))) {
		log_err("--jail-root %s: must be owned by root and not writable by group "
			"or others", root);
		rc = -EPERM;
	}
	/* What it holds first: the more telling reason. */
	if (!rc)
		rc = jail_root_apart(root, real, used, n);
	if (!rc) {
		rc = jail_dir_empty(fd);
		if (rc == 0) {
			log_err("--jail-root %s: must be an empty directory", root);
			rc = -ENOTEMPTY;
		}
		rc = rc < 0 ? rc : 0;
	}
	close(fd);
	return rc;
}

/* Absolute, short, and without "." or ".." components: the path inside
 * the jail is the same string as outside. */
static bool jail_path_clean(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= PATH_MAX / 2)
		return false;
	for (const char *c = p; c; c = strchr(c + 1, '/')) {
		size_t len = strcspn(c + 1, "/");

		if ((len == 1 && c[1] == '.') || (len == 2 && !strncmp(c + 1, "..", 2)))
			return false;
	}
	return true;
}

static int jail_path_check(const char *p, bool want_dir)
{
	struct stat st;

	if (!jail_path_clean(p))
		return -EINVAL;
	if (stat(p, &st))
		return -errno;
	if (want_dir ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return -EINVAL;
	return 0;
}

/* Everything but the fds: ids, paths, limits. */
static int jail_config_check_static(const struct jail_config *cfg)
{
	int rc;

	if (!cfg || cfg->uid == 0 || cfg->gid == 0 || cfg->uid == (uid_t)-1 ||
	    cfg->gid == (gid_t)-1 || cfg->n_keep_fds > ARRAY_SIZE(cfg->keep_fds) ||
	    cfg->n_ro_paths > ARRAY_SIZE(cfg->ro_paths) || cfg->nofile < 8 ||
	    cfg->nproc < 1)
		return -EINVAL;
	rc = jail_path_check(cfg->root, true);
	if (rc == 0 && strcmp(cfg->root, "/") == 0)
		rc = -EINVAL;
	/* Exactly one of a path and an fd names the binary. */
	if (rc == 0 && !cfg->vmm_path == (cfg->exec_fd < 0))
		rc = -EINVAL;
	if (rc == 0 && cfg->vmm_path)
		rc = jail_path_check(cfg->vmm_path, false);
	for (size_t i = 0; i < cfg->n_ro_paths && rc == 0; i++)
		rc = jail_path_check(cfg->ro_paths[i], false);
	if (rc == 0 && cfg->rw_dir)
		rc = jail_path_check(cfg->rw_dir, true);
	if (rc)
		log_err("invalid jail configuration: %s", strerror(-rc));
	return rc;
}

int jail_config_check(const struct jail_config *cfg)
{
	int rc = jail_config_check_static(cfg);

	if (rc == 0 && cfg->exec_fd >= 0 &&
	    (cfg->exec_fd < 3 || fcntl(cfg->exec_fd, F_GETFD) < 0))
		rc = -EBADF;
	for (size_t i = 0; i < cfg->n_keep_fds && rc == 0; i++)
		if (cfg->keep_fds[i] < 3 || cfg->keep_fds[i] == cfg->exec_fd ||
		    fcntl(cfg->keep_fds[i], F_GETFD) < 0)
			rc = -EBADF;
	if (rc)
		log_err("invalid jail configuration: %s", strerror(-rc));
	return rc;
}

pid_t jail_clone(const struct jail_config *cfg)
{
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
			      CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;
	long pid;

	/* The fds are checked in the child (jail_enter_child): the launcher
	 * may move them to their final numbers after the clone. */
	if (jail_config_check_static(cfg))
		return -EINVAL;
	/* Without a tap the VMM needs no network at all: an empty namespace
	 * with only a down loopback. */
	if (!cfg->keep_netns)
		flags |= CLONE_NEWNET;
	/* Like fork(), but born in the new namespaces: pid 1 of its own pid
	 * namespace, so when it dies every process it could have left dies
	 * too.  glibc's fork handlers do not run; the child only sets up the
	 * jail and execs. */
	pid = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		log_err("clone into new namespaces: %s", strerror(errno));
		return -errno;
	}
	return (pid_t)pid;
}

int jail_exec(const struct jail_config *cfg, char *const argv[])
{
	static char *const empty_env[] = { NULL };

	if (!cfg || (!cfg->vmm_path && cfg->exec_fd < 0) || !argv || !argv[0])
		return -EINVAL;
	/* No environment: nothing from the launcher's user reaches the VMM
	 * (LD_*, MALLOC_*, locale, TZ). */
	if (cfg->vmm_path)
		execve(cfg->vmm_path, argv, empty_env);
	else
		fexecve(cfg->exec_fd, argv, empty_env);
	log_err("exec %s: %s", cfg->vmm_path ? cfg->vmm_path : "(fd)",
		strerror(errno));
	return -errno;
}
