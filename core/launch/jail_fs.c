/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jail's file system: a private mount namespace whose root is an empty,
 * read-only tmpfs holding only read-only binds of the VMM binary and of the
 * loader and libraries it needs to start (for swtpm: also one writable bind,
 * its state directory).  Run in the child of jail_clone(),
 * as root, before exec.
 */
#include "core/jail_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define JAIL_TMPFS_OPTS "mode=0711,size=64k,nr_inodes=256"
#define JAIL_RO_FLAGS (MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
#define JAIL_RW_FLAGS (MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* Creates root+path inside the tmpfs: directories, and an empty file as
 * the mount point when the source is a file. */
static int jail_mkpath(const char *root, const char *path, bool is_dir)
{
	char buf[PATH_MAX];
	int n, fd;

	n = snprintf(buf, sizeof(buf), "%s%s", root, path);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0711) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (is_dir)
		return mkdir(buf, 0711) && errno != EEXIST ? -errno : 0;
	fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0400);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* A bind of a host path at the same path, remounted with flags. */
static int jail_bind(const char *root, const char *path, unsigned long flags)
{
	char target[PATH_MAX];
	struct stat st;
	int n, rc;

	if (stat(path, &st))
		return -errno;
	rc = jail_mkpath(root, path, S_ISDIR(st.st_mode));
	if (rc)
		return rc;
	n = snprintf(target, sizeof(target), "%s%s", root, path);
	if (n < 0 || (size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	if (mount(path, target, NULL, MS_BIND, NULL) ||
	    mount(NULL, target, NULL, flags, NULL)) {
		rc = -errno;
		log_err("bind %s%s: %s", path, flags & MS_RDONLY ? " read-only" : "",
			strerror(errno));
		return rc;
	}
	return 0;
}

/* Switches the root to the tmpfs and detaches the host's root: after this
 * no host path is reachable from the process. */
static int jail_pivot(const char *root)
{
	if (chdir(root))
		return -errno;
	/* pivot_root(".", "."): the old root ends up stacked on the new one,
	 * and the umount below takes it away. */
	if (syscall(SYS_pivot_root, ".", "."))
		return -errno;
	if (umount2(".", MNT_DETACH))
		return -errno;
	if (chdir("/"))
		return -errno;
	return 0;
}

int jail_fs_enter(const struct jail_config *cfg)
{
	int rc = 0;

	/* Nothing mounted or unmounted below propagates back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("bulwark-jail", cfg->root, "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, JAIL_TMPFS_OPTS))
		return -errno;
	if (cfg->vmm_path)
		rc = jail_bind(cfg->root, cfg->vmm_path, JAIL_RO_FLAGS);
	for (size_t i = 0; i < cfg->n_ro_paths && rc == 0; i++)
		rc = jail_bind(cfg->root, cfg->ro_paths[i], JAIL_RO_FLAGS);
	/* swtpm's state directory: the one place it may write, and nothing
	 * in it can be executed or be a device or a setuid file. */
	if (rc == 0 && cfg->rw_dir)
		rc = jail_bind(cfg->root, cfg->rw_dir, JAIL_RW_FLAGS);
	if (rc)
		return rc;
	/* The root itself becomes read-only: the VMM cannot create a file,
	 * a socket or a FIFO anywhere. */
	if (mount(NULL, cfg->root, NULL, JAIL_RO_FLAGS | MS_NOEXEC, NULL))
		return -errno;
	rc = jail_pivot(cfg->root);
	if (rc)
		return rc;
	/* The UTS namespace is private: do not show the host's name. */
	if (sethostname("bulwark", 7))
		return -errno;
	return 0;
}
