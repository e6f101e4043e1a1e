/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event log's digest algorithms (eventlog.h): sizes and names only, no
 * hashing, so the guest-facing VMM (whose CRB transport checks PCR digest
 * sizes through attest/format/tpm.c) links no crypto library.
 */
#include <stddef.h>

#include "attest/format/eventlog.h"
#include "core/util.h"

struct alg_info {
	uint16_t alg;
	uint16_t size;
	const char *name;
};

static const struct alg_info algs[] = {
	{ EVLOG_ALG_SHA1, 20, "sha1" },
	{ EVLOG_ALG_SHA256, 32, "sha256" },
	{ EVLOG_ALG_SHA384, 48, "sha384" },
	{ EVLOG_ALG_SHA512, 64, "sha512" },
};
static_assert(ARRAY_SIZE(algs) == EVLOG_MAX_BANKS, "one bank per algorithm");

static const struct alg_info *alg_find(uint16_t alg)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (algs[i].alg == alg)
			return &algs[i];
	return NULL;
}

uint16_t evlog_alg_size(uint16_t alg)
{
	const struct alg_info *a = alg_find(alg);

	return a ? a->size : 0;
}

const char *evlog_alg_name(uint16_t alg)
{
	const struct alg_info *a = alg_find(alg);

	return a ? a->name : NULL;
}
