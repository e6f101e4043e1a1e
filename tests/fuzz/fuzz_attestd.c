/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attestd's wire format: the request parser (a peer's bytes, parsed by the
 * launcher) and the reply parser (the launcher's bytes, parsed by the
 * client).  Invariants: an accepted request is a known op with a nonce of
 * 16..64 bytes for a quote and none otherwise; an accepted reply's body lies
 * inside the input; an error reply's message is printable and terminated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest/producer/attestd.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attestd_request req;
	const char *why = NULL;
	size_t off = 0, len = 0;
	char msg[64];
	int rc;

	log_set_level(LOG_ERR);
	if (!attestd_request_parse(data, size, &req, &why)) {
		if (req.op == ATTESTD_OP_QUOTE &&
		    (req.nonce_len < BUNDLE_MIN_NONCE || req.nonce_len > BUNDLE_MAX_NONCE))
			abort();
		if (req.op == ATTESTD_OP_ENROLL_INFO && req.nonce_len)
			abort();
		if (req.op != ATTESTD_OP_QUOTE && req.op != ATTESTD_OP_ENROLL_INFO)
			abort();
	} else if (!why || !why[0]) {
		abort();
	}
	rc = attestd_reply_parse(data, size, &off, &len, msg, sizeof(msg));
	if (!rc && (off > size || len > size - off))
		abort();
	if (rc && rc != -EPROTO && strnlen(msg, sizeof(msg)) == sizeof(msg))
		abort();
	return 0;
}
