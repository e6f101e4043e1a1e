/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark reference --policy FILE` reads an auditor's file: any bytes must
 * give a digest or -EINVAL (-ENOMEM), and a digest must not depend on
 * anything but the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest/policy_digest.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

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
