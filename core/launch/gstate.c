/* SPDX-License-Identifier: Apache-2.0 */
/* A guest's host state: its lock and its removal (core/launch/gstate.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/launch/gstate.h"
#include "core/log.h"

/* The lock is on the inode STATE_DIR/NAME still names (not a removed one). */
static int gstate_same(int top, const char *name, int fd)
{
	struct stat a, b;

	if (fstatat(top, name, &a, AT_SYMLINK_NOFOLLOW) || fstat(fd, &b))
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -ESTALE;
}

int gstate_lock(const char *state_dir, const char *name, bool create, int *fd_out)
{
	int top, fd = -1, rc;

	*fd_out = -1;
	if (!gstate_name_valid(name) || !state_dir || state_dir[0] != '/')
		return -EINVAL;
	top = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	for (int tries = 0; tries < 3; tries++) {
		rc = 0;
		if (create && mkdirat(top, name, 0700) && errno != EEXIST)
			rc = -errno;
		fd = rc ? -1 : openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC);
		if (fd < 0) {
			rc = rc ? rc : -errno;
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB))
			rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		else
			rc = gstate_same(top, name, fd);
		if (rc != -ESTALE && rc != -ENOENT)
			break;
		close(fd);   /* removed while we locked it: look again */
		fd = -1;
	}
	close(top);
	if (rc && fd >= 0)
		close(fd);
	if (!rc)
		*fd_out = fd;
	return rc;
}

static int gstate_remove_at(int parent, const char *name, dev_t dev, int depth,
			    struct gstate_count *n);

/* Everything inside the open directory dfd (consumed). */
static int gstate_empty(int dfd, dev_t dev, int depth, struct gstate_count *n)
{
	struct dirent *de;
	DIR *d = fdopendir(dfd);
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = gstate_remove_at(dirfd(d), de->d_name, dev, depth + 1, n);
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

static int gstate_remove_at(int parent, const char *name, dev_t dev, int depth,
			    struct gstate_count *n)
{
	struct stat st;
	int dfd, rc;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0))
			return -errno;
		if (S_ISLNK(st.st_mode))
			n->links++;
		else
			n->files++;
		return 0;
	}
	if (depth >= GSTATE_DEPTH_MAX)
		return -ELOOP;
	if (dev && st.st_dev != dev) {
		log_err("%s: another file system is mounted there; not entering it", name);
		return -EXDEV;
	}
	/* O_NOFOLLOW: a directory swapped for a symlink meanwhile is refused. */
	dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	rc = gstate_empty(dfd, st.st_dev, depth, n);
	if (!rc && unlinkat(parent, name, AT_REMOVEDIR))
		rc = -errno;
	if (!rc)
		n->dirs++;
	return rc;
}

int gstate_remove(int parent_fd, const char *name, struct gstate_count *n)
{
	struct stat st;

	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (fstat(parent_fd, &st))
		return -errno;
	return gstate_remove_at(parent_fd, name, st.st_dev, 0, n);
}
