/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way Bulwark opens a path an operator gave it (kernel, initrd,
 * disks, --config, the jail root, bulwark-verify's bundles, manifests and
 * nonce files, bulwark reference's inputs):
 *   - openat2(RESOLVE_NO_SYMLINKS): no symlink in ANY component (a folder
 *     on the way that is a symlink is refused like a symlinked file), and
 *     no /proc magic link;
 *   - first as O_PATH, which opens nothing: a FIFO, socket or device is
 *     seen by fstat and refused before any open(2) could block on it or
 *     reach a driver; then reopened with O_NONBLOCK (cleared afterwards) and
 *     checked to be the same (st_dev, st_ino);
 *   - a file must be a regular file; a folder a directory.
 * Errors are logged as "WHAT: PATH: why" and returned as -errno.
 */
#ifndef BULWARK_PATH_H
#define BULWARK_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

/* PATH as a regular file, FLAGS O_RDONLY or O_RDWR; the fd or -errno.  ST
 * (may be NULL) gets its fstat. */
int path_open_regular(const char *path, int flags, const char *what, struct stat *st);

/* A disk: PATH as a regular file or a block device (a LUN several hosts
 * share, issue 18), otherwise as path_open_regular. */
int path_open_disk(const char *path, int flags, const char *what, struct stat *st);

/* The size in bytes of the disk open at FD (a regular file's st_size, a
 * block device's BLKGETSIZE64); 0 or -errno (-EINVAL: neither). */
int path_disk_size(int fd, uint64_t *size);

/* PATH as a directory (O_RDONLY | O_DIRECTORY); the fd or -errno. */
int path_open_dir(const char *path, const char *what, struct stat *st);

/* path_open_regular(PATH, O_RDONLY) as a stdio stream ("re"); NULL with
 * errno set (logged). */
FILE *path_fopen_read(const char *path, const char *what);

/* The same file: same device and inode. */
static inline bool path_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The kernel's name for what FD is open on (readlink of /proc/self/fd/FD)
 * into OUT (CAP bytes); 0 or -errno. */
int path_of_fd(int fd, char *out, size_t cap);

/* 1 if CHILD is PARENT or below it (both absolute, as path_of_fd gives
 * them), else 0: compared by whole components. */
int path_is_under(const char *child, const char *parent);

#endif
