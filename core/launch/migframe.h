/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A live migration's stream as it arrives in pieces (the target's launcher,
 * core/launch/launch_incoming.c): the header (SNAP_MIG_MAGIC), then every
 * record header through snap_frame_check in migration mode, whatever the
 * pieces' boundaries.  Bytes from the peer: fuzzed (tests/fuzz/
 * fuzz_migframe.c, against the whole stream's framing).
 */
#ifndef BULWARK_LAUNCH_MIGFRAME_H
#define BULWARK_LAUNCH_MIGFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/snapshot.h"

struct migframe {
	struct snap_limits lim;
	struct snap_frame_state st;
	uint8_t magic[SNAP_MAGIC_LEN], hdr[16];
	size_t magic_len, hdr_len;
	uint64_t left;                /* payload bytes of the record still to come */
	bool ended;                   /* END went by (nothing may follow) */
};

/* Zeroed, for a guest of these limits. */
void migframe_init(struct migframe *f, const struct snap_limits *lim);
/* N more bytes.  0, or -EBADMSG / -EFBIG with the reason in WHY (the
 * record named, its offset); after an error the stream is refused. */
int migframe_feed(struct migframe *f, const uint8_t *p, size_t n, char *why, size_t whylen);
/* The stream ended exactly at END's last byte. */
bool migframe_whole(const struct migframe *f);

#endif
