/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests are handed to auditors as files: parse arbitrary bytes; what
 * parses must write back to text that parses to the same manifest.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/format/manifest.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct manifest m, again;
	struct bundle_error err;
	char *text = NULL;
	size_t len = 0;

	log_set_level(LOG_ERR);
	if (manifest_parse(data, size, &m, &err)) {
		if (!err.code || !err.msg[0])
			abort();
		return 0;
	}
	if (manifest_write(&m, &text, &len) || manifest_parse((uint8_t *)text, len, &again, &err))
		abort();
	if (memcmp(&m, &again, sizeof(m)))
		abort();
	free(text);
	return 0;
}
