/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the target's framing of a migration stream in pieces
 * (core/launch/migframe.c): bytes from the source's host.  The first byte
 * picks the limits as fuzz_snapshot's does (vCPUs 1..4, 64 MiB or 4 GiB;
 * its migration seeds mig-* fit), the second the pieces' sizes; the rest
 * is the stream.  Fed in those pieces, the framer must say what framing the
 * whole stream at once says: refused, or whole at END's last byte.
 */
#include <stdlib.h>
#include <string.h>

#include "core/launch/migframe.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

/* The whole stream at once, headers only: 1 whole, 0 not (yet), -1 refused. */
static int frame_whole(const uint8_t *data, size_t size, const struct snap_limits *lim)
{
	struct snap_frame_state st;
	size_t off = SNAP_MAGIC_LEN;
	struct snap_rec r;
	int rc;

	if (size < SNAP_MAGIC_LEN)
		return 0;
	if (snap_mig_header_check(data, SNAP_MAGIC_LEN))
		return -1;
	snap_frame_init(&st, 1);
	for (;;) {
		if (size - off < sizeof(r))
			return 0;
		snap_rec_decode(data + off, &r);
		off += sizeof(r);
		rc = snap_frame_check(&r, lim, &st);
		if (rc < 0)
			return -1;
		if (r.len > size - off)
			return 0;
		off += r.len;
		if (rc == SNAP_FRAME_END)
			return off == size ? 1 : -1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_limits lim;
	struct migframe f;
	char why[256];
	size_t step, off = 2;
	int rc = 0, want;

	log_set_level(LOG_ERR);
	if (size < 2)
		return 0;
	lim.nvcpus = 1 + (data[0] & 3);
	lim.mem_bytes = data[0] & 0x80 ? 4ULL << 30 : 64ULL << 20;
	step = 1 + data[1];
	migframe_init(&f, &lim);
	while (!rc && off < size) {
		size_t k = size - off < step ? size - off : step;

		rc = migframe_feed(&f, data + off, k, why, sizeof(why));
		off += k;
		step = step * 3 % 4099 + 1;      /* pieces of changing sizes */
	}
	want = frame_whole(data + 2, size - 2, &lim);
	if ((want < 0) != (rc < 0) || (want == 1) != (!rc && migframe_whole(&f)))
		abort();
	return 0;
}
