/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's side of `bulwark snapshot` (core/launch/launch_snapshot.c):
 * PUT /snapshot on the guest's control socket.
 */
#ifndef BULWARK_LAUNCH_SNAPSHOT_H
#define BULWARK_LAUNCH_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct control;

enum snapshot_then { SNAPSHOT_THEN_RESUME = 0, SNAPSHOT_THEN_STOP, SNAPSHOT_THEN_KEEP };

struct snapshot_req {
	char dir[PATH_MAX];
	enum snapshot_then then;
	bool digest_disks;
};

struct snapshot_result {
	uint8_t sha256[32];        /* of the sealed file */
	uint64_t vm_bytes;         /* the VMM's state stream */
	long long ms;              /* pause to sealed */
	bool resumed, stopped;
};

/* The request's JSON body.  0, or -EINVAL with the reason in WHY. */
int launch_snapshot_parse(const char *body, size_t len, struct snapshot_req *r,
			  char *why, size_t why_len);
/* The whole snapshot, blocking the launcher's loop (the guest is paused).
 * 0, or -errno with the reason in WHY: then nothing is left (no file, no
 * folder) and a guest that ran before runs again. */
int launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			struct snapshot_result *res, char *why, size_t why_len);

#endif
