/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bundles are untrusted input for every auditor: parse arbitrary bytes, and
 * what parses, write back and parse again (the writer's output must parse to
 * the same bundle).  Must never crash, leak or read out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle b, again;
	struct bundle_error err;
	char *text = NULL;
	size_t len = 0;

	log_set_level(LOG_ERR);
	if (bundle_parse(data, size, &b, &err)) {
		if (!err.code || !err.msg[0])
			abort();      /* every failure says why */
		return 0;
	}
	if (bundle_write(&b, &text, &len) || bundle_parse((uint8_t *)text, len, &again, &err))
		abort();
	if (again.event_log.len != b.event_log.len || again.nonce_len != b.nonce_len ||
	    memcmp(again.event_log.data, b.event_log.data, b.event_log.len) ||
	    strcmp(again.label, b.label) || memcmp(&again.pcrs, &b.pcrs, sizeof(b.pcrs)))
		abort();
	if (again.version != b.version || again.host.ima_log.len != b.host.ima_log.len ||
	    (b.host.ima_log.len && memcmp(again.host.ima_log.data, b.host.ima_log.data,
					  b.host.ima_log.len)) ||
	    memcmp(again.host.pcr10, b.host.pcr10, sizeof(b.host.pcr10)))
		abort();
	bundle_free(&again);
	bundle_free(&b);
	free(text);
	return 0;
}
