/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sealed snapshot's header and chunks (core/launch/snapbox.c) are read
 * from a folder an operator may have been handed: any bytes, under a fixed
 * key (the corpus holds files sealed under it: key bytes all 0x11), must be
 * refused with -EBADMSG or -EKEYREJECTED, or accepted whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/launch/snapbox.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapbox_key k;
	static int ready;
	int rc;

	if (!ready) {
		uint8_t d[32];
		unsigned int n = 32;

		log_set_level(LOG_ERR);
		memset(k.key, 0x11, sizeof(k.key));
		/* the id as snapbox_key.c computes it */
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(c, "bulwark-snapbox-id", sizeof("bulwark-snapbox-id")) ||
		    !EVP_DigestUpdate(c, k.key, 32) || !EVP_DigestFinal_ex(c, d, &n))
			abort();
		EVP_MD_CTX_free(c);
		memcpy(k.id, d, 8);
		ready = 1;
	}
	rc = snapbox_check_buf(data, size, &k);
	if (rc && rc != -EBADMSG && rc != -EKEYREJECTED)
		abort();
	return 0;
}
