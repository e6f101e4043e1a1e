/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest's host state, as the launcher keeps it:
 *
 *   STATE_DIR/NAME/              created 0700 by the launcher
 *     vtpm/                      swtpm's encrypted state (--vtpm-state-dir
 *                                may put it elsewhere)
 *     ek/                        the EK certificates swtpm_setup wrote
 *     eventlog.bin               the last boot's event log
 *     uuid, attest/              the attestation identity (attestd.h)
 *   KEY_DIR/NAME.key             the state key (swtpm.h)
 *
 * The lock.  The launcher holds flock(LOCK_EX) on the directory
 * STATE_DIR/NAME from before swtpm starts until it exits (the lock goes with
 * its last descriptor: a crash releases it).  `bulwark delete` takes the same
 * lock without waiting, so it never removes the state of a running guest,
 * and no guest starts on a state that is being removed.  The directory is
 * opened without following a symlink, and the lock is kept only on the inode
 * the path still names once it is held (a directory removed meanwhile is not
 * a lock on anything).
 */
#ifndef BULWARK_GSTATE_H
#define BULWARK_GSTATE_H

#include <stdbool.h>
#include <string.h>

#define GSTATE_NAME_MAX 64
#define GSTATE_DEPTH_MAX 16

/*
 * A guest name as it names host files (STATE_DIR/NAME, NAME.key, swtpm's
 * state): [A-Za-z0-9_.-], 1..GSTATE_NAME_MAX characters, not starting with
 * '.'.  Inline, so attest/vtpm/swtpm.c checks the same rule without linking the
 * launcher's state code.
 */
static inline bool gstate_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > GSTATE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-", name[i]))
			return false;
	return true;
}

/*
 * Locks STATE_DIR/NAME (created 0700 first when create is true).  0 and
 * *fd_out (O_CLOEXEC; the lock lasts while it is open); -EBUSY when another
 * process holds the lock; -ENOENT when it does not exist (create false);
 * -ELOOP or -ENOTDIR when NAME is a symlink or not a directory.
 */
int gstate_lock(const char *state_dir, const char *name, bool create, int *fd_out);

struct gstate_count {
	unsigned int files;   /* regular files, sockets, fifos... */
	unsigned int links;   /* symlinks: removed, never followed */
	unsigned int dirs;
};

/*
 * Removes NAME under the directory parent_fd and, when it is a directory,
 * everything in it: never through a symlink (a symlink is removed, not what
 * it points to), never into another file system (-EXDEV), at most
 * GSTATE_DEPTH_MAX levels deep (-ELOOP).  Counts what it removed into *n.
 * -ENOENT when NAME does not exist.
 */
int gstate_remove(int parent_fd, const char *name, struct gstate_count *n);

#endif
