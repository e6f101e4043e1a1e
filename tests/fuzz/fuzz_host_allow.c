/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host allowlist is a file an auditor may have been handed: parse
 * arbitrary bytes.  Must never crash or read out of bounds; what parses is
 * sorted, every path non-empty, and every entry is found by its own lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/format/host_allow.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_allowlist l;
	char why[96];

	if (host_allow_parse(data, size, &l, why, sizeof(why))) {
		if (!why[0])
			abort();
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct host_allow_entry *e = &l.e[i];

		if (!e->path[0] || (i && strcmp(l.e[i - 1].path, e->path) > 0) ||
		    !host_allow_find(l.e, l.n, e->path, e->alg, e->digest,
				     evlog_alg_size(e->alg)))
			abort();
	}
	host_allow_free(&l);
	return 0;
}
