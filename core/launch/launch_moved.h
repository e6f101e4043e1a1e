/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest that left this host by live migration (issue 18): the source's
 * record of the move and the retirement of its vTPM state.
 *
 * Once the target has said RUNNING, the guest's TPM lives there.  The copy
 * the source still holds (STATE_DIR/NAME/vtpm and KEY_DIR/NAME.key) would,
 * if started, be a second TPM with the guest's EK and keys, rolled back to
 * the move: a fork of the guest's identity that a verifier cannot tell from
 * the real one.  So the source:
 *   1. writes STATE_DIR/NAME/moved (where to, the target as the channel
 *      authenticated it, its label, the stream's SHA-256, the time), whole
 *      or not at all (a temporary file, fsync, rename, fsync of the folder),
 *      before anything else is given up;
 *   2. after swtpm has stopped, removes the vTPM state and its key
 *      (swtpm_delete: without the key any other copy is ciphertext);
 *   3. refuses any later start or restore of NAME here while the record is
 *      there, naming it; `bulwark delete NAME` removes it.
 * A target (`bulwark run --incoming`) is not refused: the guest may come
 * back; once it runs here again (RUNNING sent) the record is removed.
 */
#ifndef BULWARK_LAUNCH_MOVED_H
#define BULWARK_LAUNCH_MOVED_H

#include <stdint.h>

struct launch;
struct migrate_progress;

#define LAUNCH_MOVED_FILE "moved"
#define LAUNCH_MOVED_MAX  2048      /* the record's size, at most */

/* Step 1 (the source, after RUNNING): 0 or -errno (logged).  Marks the
 * vTPM state for step 2 either way. */
int launch_moved_write(struct launch *l, const struct migrate_progress *p,
		       const uint8_t stream_sha256[32]);

/* Step 2 (the source's teardown, swtpm stopped): nothing unless step 1 ran.
 * 0 or -errno (logged: the state stays, still refused by the record). */
int launch_moved_retire(struct launch *l);

/* Step 3, on the locked STATE_DIR/NAME (dirfd): 0, or -EEXIST with the
 * record logged when NAME moved away and this is not a target. */
int launch_moved_check(const struct launch *l, int dirfd);

/* The same before anything is done (after launch_validate, before the
 * first label): STATE_DIR/NAME opened without following a symlink. */
int launch_moved_refuse(const struct launch *l);

/* The target, once the guest runs here: the record (if any) removed. */
void launch_moved_clear(const struct launch *l);

#endif
