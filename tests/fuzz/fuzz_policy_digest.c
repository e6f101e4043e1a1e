/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark reference --policy FILE` reads an auditor's file: any bytes must
 * give a digest or -EINVAL (-ENOMEM), and a digest must not depend on
 * anything but the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest/vtpm/policy_digest.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

/*
 * libsepol (3.4) reads a string by malloc(declared length + 1) before it
 * checks that many bytes remain: a malformed file costs one untouched
 * allocation of up to 4 GiB that fails or is freed at once.  libFuzzer's
 * malloc limit (the RSS limit) would call that a crash in every run, so the
 * limit is raised to just above what a 32-bit length can ask for: anything
 * bigger is still reported.  libsepol also leaks parts of a policydb when
 * policydb_read fails half-way (hash tables of the symbol tables), which
 * a one-shot `bulwark reference` or launch never notices; leak detection is
 * off for that reason only.  libsepol.a is not instrumented: this target
 * checks our wrapper (any bytes: a digest or -EINVAL, deterministic) and
 * libsepol's heap use through ASan's allocator, not libsepol's coverage.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char flag[] = "-malloc_limit_mb=4097", leaks[] = "-detect_leaks=0";
	static char *args[64];
	int n = *argc < 61 ? *argc : 61;

	memcpy(args, *argv, (size_t)n * sizeof(args[0]));
	args[n++] = flag;
	args[n++] = leaks;
	args[n] = NULL;
	*argc = n;
	*argv = args;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d1[32], d2[32];
	int rc;

	log_set_level(LOG_ERR);
	rc = policy_digest_image(data, size, d1);
	if (rc && rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (!rc && (policy_digest_image(data, size, d2) || memcmp(d1, d2, 32)))
		abort();
	return 0;
}
