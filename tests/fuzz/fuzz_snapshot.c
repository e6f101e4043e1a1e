/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the state stream's validation (core/snapshot.c): a snapshot file is
 * untrusted input, and the VMM's stream may come from a guest-owned VMM.
 * The first byte picks the configuration's vCPU count (1..4; 64 MiB, or
 * 4 GiB when its high bit is set, so runs above the hole are reachable)
 * and, with bit 0x40, a migration stream (issue 18: rounds of PAGES, then
 * the state; seeds mig-* from tests/fuzz/migstream-seeds.py); the rest is
 * the stream.  Beside memory safety it checks that the two
 * views agree: when snap_stream_check accepts, the launcher's framing alone
 * (snap_frame_check, headers only) ends at the same END, at the last byte.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/snapshot.h"
#include "tests/fuzz/fuzz.h"

static int fuzz_frame_only(const uint8_t *data, size_t size, const struct snap_limits *lim,
			   int mig)
{
	struct snap_frame_state st;
	size_t off = SNAP_MAGIC_LEN;
	struct snap_rec r;
	int rc;

	snap_frame_init(&st, mig);
	if ((mig ? snap_mig_header_check : snap_header_check)(data, size))
		return -1;
	for (;;) {
		if (size - off < sizeof(r))
			return -1;
		snap_rec_decode(data + off, &r);
		off += sizeof(r);
		rc = snap_frame_check(&r, lim, &st);
		if (rc < 0 || r.len > size - off)
			return -1;
		off += r.len;
		if (rc == SNAP_FRAME_END)
			return off == size ? 0 : -1;
	}
}

static int fuzz_touch(void *ctx, const struct snap_rec *r, const uint8_t *p)
{
	volatile uint8_t x = 0;

	(void)ctx;
	if (!p)
		return r->type == SNAP_REC_MEM || r->type == SNAP_REC_PAGES ? 0 : -1;
	/* the whole payload must be inside the input: ASan says if not */
	for (uint64_t i = 0; i < r->len; i += 512)
		x ^= p[i];
	if (r->len)
		x ^= p[r->len - 1];
	(void)x;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_limits lim;
	int whole, mig;

	log_set_level(LOG_ERR);
	if (size < 1)
		return 0;
	lim.nvcpus = 1 + (data[0] & 3);
	lim.mem_bytes = data[0] & 0x80 ? 4ULL << 30 : 64ULL << 20;
	mig = !!(data[0] & 0x40);
	whole = (mig ? snap_mig_stream_check : snap_stream_check)(data + 1, size - 1, &lim,
								 fuzz_touch, NULL);
	if (!whole && fuzz_frame_only(data + 1, size - 1, &lim, mig))
		abort();
	return 0;
}
