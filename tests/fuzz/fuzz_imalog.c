/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's IMA list is untrusted input for the verifier (a host operator
 * writes it): parse and replay arbitrary bytes.  Must never crash, hang or
 * read out of bounds; every entry's pointers lie inside the input; whatever
 * parses replays with the same entry count; an error lies inside the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/imalog.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

static int inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *b = p;

	return b >= data && n <= size && b - data <= (ptrdiff_t)(size - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imalog_parser p;
	struct imalog_entry e;
	struct evlog_digest pcr;
	struct evlog_error err;
	uint32_t n = 0, entries = 0;
	int rc;

	log_set_level(LOG_ERR);
	rc = imalog_parse_begin(&p, data, size);
	while (!rc && (rc = imalog_parse_next(&p, &e)) == 1) {
		if (!inside(e.path, e.path_len + 1u, data, size) || e.path[e.path_len] ||
		    strlen(e.path) != e.path_len ||
		    !inside(e.file_digest, e.file_digest_size, data, size) ||
		    !inside(e.template_data, e.template_data_len, data, size))
			abort();
		n++;
		rc = 0;
	}
	if (rc < 0 && p.err.offset > size)
		abort();
	rc = imalog_replay(data, size, EVLOG_ALG_SHA256, &pcr, &entries, &err);
	if (rc == 0 && entries != n)
		abort();
	if (rc < 0 && rc != -EIO && err.offset > size)
		abort();
	return 0;
}
