/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live-migration messages (core/launch/migwire.c) without TLS: the
 * input is byte 0, the directions of the first 8 frames (bit i set: frame i
 * comes from the source; later frames alternate), then frames as migchan
 * carries them (u32 type, u32 len, payload).  Each head is checked, each
 * payload decoded by its type and, when accepted, encoded back to the
 * same bytes; the order is kept as both launchers keep it.  The whole input
 * is also parsed as a trusted-hosts file (core/launch/migchan_trust.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/launch/migchan_int.h"
#include "attest/format/bundle_host.h"
#include "core/launch/migwire.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

/* RC of an encoder that wrote *OUT (*LEN bytes): the bytes decoded. */
static void same(int rc, uint8_t **out, const size_t *len, const uint8_t *p, size_t n)
{
	if (rc || *len != n || memcmp(*out, p, n))
		abort();
	free(*out);
}

static void payload(uint32_t type, const uint8_t *p, size_t n)
{
	static struct mig_hello h;
	static char text[MIGWIRE_REASON_MAX + 1];
	struct mig_progress g;
	struct mig_vtpm v;
	struct mig_done d;
	struct mig_ack a;
	struct bundle_hop hop;
	uint8_t *out = NULL;
	size_t len = 0;
	char why[256];

	switch (type) {
	case MIG_HELLO:
		if (!migwire_hello_decode(p, n, &h, why, sizeof(why)))
			same(migwire_hello_encode(&h, &out, &len), &out, &len, p, n);
		break;
	case MIG_READY:
	case MIG_REFUSE:
	case MIG_ABORT:
		if (!migwire_text_decode(type, p, n, text, sizeof(text), why, sizeof(why)))
			same(migwire_text_encode(type, text, &out, &len), &out, &len, p, n);
		break;
	case MIG_PROGRESS:
		if (!migwire_progress_decode(p, n, &g, why, sizeof(why)))
			same(migwire_progress_encode(&g, &out, &len), &out, &len, p, n);
		break;
	case MIG_VTPM:
		if (!migwire_vtpm_decode(p, n, &v, why, sizeof(why)))
			same(migwire_vtpm_encode(&v, &out, &len), &out, &len, p, n);
		break;
	case MIG_DONE:
		if (!migwire_done_decode(p, n, &d, why, sizeof(why)))
			same(migwire_done_encode(&d, &out, &len), &out, &len, p, n);
		break;
	case MIG_ACK:
		if (!migwire_ack_decode(p, n, &a, why, sizeof(why)))
			same(migwire_ack_encode(&a, &out, &len), &out, &len, p, n);
		break;
	case MIG_HOST:
		if (!bundle_hop_decode(p, n, &hop, why, sizeof(why))) {
			same(bundle_hop_encode(&hop, &out, &len), &out, &len, p, n);
			bundle_hop_free(&hop);
		}
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct migchan_trust t;
	struct migwire_seq seq = { 0 };
	size_t off = 1;
	char why[256];
	unsigned int dirs = size ? data[0] : 0;

	log_set_level(LOG_ERR);
	strcpy(t.path, "fuzz");
	if (!migchan_trust_parse((const char *)data, size, &t, why, sizeof(why)) &&
	    (t.n == 0 || t.n > MIGCHAN_TRUSTED_MAX))
		abort();
	for (unsigned int i = 0; size >= MIGWIRE_HEAD && off <= size - MIGWIRE_HEAD; i++) {
		bool src = i < 8 ? (dirs >> i) & 1 : i & 1;
		uint32_t type, len;

		if (migwire_head_check(data + off, size - off - MIGWIRE_HEAD, &type, &len,
				       why, sizeof(why)))
			break;
		off += MIGWIRE_HEAD;
		payload(type, data + off, len);
		off += len;
		if (migwire_seq_next(&seq, src, type, why, sizeof(why)))
			break;
	}
	return 0;
}
