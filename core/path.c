/* SPDX-License-Identifier: Apache-2.0 */
/* The one opener of operator-given paths (path.h). */
#include "core/path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static const char *path_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISSOCK(m) ? "a socket" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : "not a regular file";
}

/*
 * Kernel interfaces that look like regular files (/proc/self/environ,
 * /sys/...): never a disk, a kernel or a configuration.
 */
static const unsigned long path_pseudo_fs[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, SECURITYFS_MAGIC,
	SELINUX_MAGIC, TRACEFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
	BPF_FS_MAGIC, EFIVARFS_MAGIC, DEVPTS_SUPER_MAGIC, PSTOREFS_MAGIC,
	0x62656570 /* configfs */, 0x65735543 /* fusectl */,
};

static int path_on_pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(path_pseudo_fs); i++)
		if ((unsigned long)sf.f_type == path_pseudo_fs[i])
			return 1;
	return 0;
}

/* openat2 with no symlink anywhere on the way; the fd or -errno. */
static int path_openat2(const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int path_fail(const char *what, const char *path, int rc, const char *why)
{
	log_err("%s: %s: %s", what, path, why ? why : rc == -ELOOP ?
		"a symlink in the path; give the real path" : strerror(-rc));
	return rc;
}

enum path_want { PATH_WANT_REG, PATH_WANT_DIR, PATH_WANT_DISK };

/* What WANT accepts: a regular file, a directory, or (a disk) a regular
 * file or a block device. */
static bool path_type_ok(mode_t m, enum path_want want)
{
	return want == PATH_WANT_DIR ? S_ISDIR(m) :
	       S_ISREG(m) || (want == PATH_WANT_DISK && S_ISBLK(m));
}

/* O_PATH, fstat, type check, then the real open through the O_PATH fd. */
static int path_open_typed(const char *path, int flags, enum path_want want,
			   const char *what, struct stat *out)
{
	bool dir = want == PATH_WANT_DIR;
	struct stat st, st2;
	char proc[64];
	int pfd, fd, rc;

	if (!path || !path[0])
		return path_fail(what, "", -EINVAL, "empty path");
	pfd = path_openat2(path, O_PATH);
	if (pfd < 0)
		return path_fail(what, path, pfd, NULL);
	if (fstat(pfd, &st)) {
		rc = path_fail(what, path, -errno, NULL);
		goto out_pfd;
	}
	if (!path_type_ok(st.st_mode, want)) {
		rc = path_fail(what, path, dir ? -ENOTDIR : -EINVAL,
			       dir ? "not a directory" : path_kind(st.st_mode));
		goto out_pfd;
	}
	rc = path_on_pseudo_fs(pfd);
	if (rc) {
		rc = path_fail(what, path, rc < 0 ? rc : -EINVAL,
			       rc < 0 ? NULL : "a kernel interface (proc, sysfs, ...), not a file");
		goto out_pfd;
	}
	/* The reopen goes through the fd, not the name: no second lookup. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		rc = path_fail(what, path, -errno, NULL);
		goto out_pfd;
	}
	if (fstat(fd, &st2) || !path_same_file(&st, &st2) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		rc = path_fail(what, path, -EIO, "changed while being opened");
		close(fd);
		goto out_pfd;
	}
	if (out)
		*out = st2;
	rc = fd;
out_pfd:
	close(pfd);
	return rc;
}

int path_open_regular(const char *path, int flags, const char *what, struct stat *st)
{
	if ((flags & O_ACCMODE) != O_RDONLY && (flags & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	return path_open_typed(path, flags & O_ACCMODE, PATH_WANT_REG, what, st);
}

int path_open_disk(const char *path, int flags, const char *what, struct stat *st)
{
	if ((flags & O_ACCMODE) != O_RDONLY && (flags & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	return path_open_typed(path, flags & O_ACCMODE, PATH_WANT_DISK, what, st);
}

int path_disk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -EINVAL;
	return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
}

FILE *path_fopen_read(const char *path, const char *what)
{
	int fd = path_open_regular(path, O_RDONLY, what, NULL);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "re");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

int path_open_dir(const char *path, const char *what, struct stat *st)
{
	return path_open_typed(path, O_RDONLY, PATH_WANT_DIR, what, st);
}

int path_of_fd(int fd, char *out, size_t cap)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, cap);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap || out[0] != '/')
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

int path_is_under(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	while (n > 1 && parent[n - 1] == '/')
		n--;
	if (n == 1 && parent[0] == '/')
		return child[0] == '/';
	return !strncmp(child, parent, n) && (child[n] == '\0' || child[n] == '/');
}
