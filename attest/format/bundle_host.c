/* SPDX-License-Identifier: Apache-2.0 */
/* The host's evidence: the binding to a guest quote (bundle_host.h). */
#include <errno.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "attest/format/bundle_host.h"

static int put_blob(EVP_MD_CTX *mc, const uint8_t *data, size_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len };

	if (len > UINT32_MAX)
		return 0;
	return EVP_DigestUpdate(mc, be, sizeof(be)) == 1 &&
	       (!len || EVP_DigestUpdate(mc, data, len) == 1);
}

int bundle_host_binding(const struct bundle *g, uint8_t out[BUNDLE_HOST_BINDING_LEN])
{
	static const char tag[] = BUNDLE_HOST_BINDING_TAG;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = mc && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(mc, tag, sizeof(tag)) == 1 &&
	     put_blob(mc, g->attest.data, g->attest.len) &&
	     put_blob(mc, g->signature.data, g->signature.len) &&
	     put_blob(mc, g->nonce, g->nonce_len) &&
	     EVP_DigestFinal_ex(mc, out, &n) == 1 && n == BUNDLE_HOST_BINDING_LEN;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -EIO;
}

int bundle_host_enroll_binding(const uint8_t *name, size_t len,
			       uint8_t out[BUNDLE_HOST_BINDING_LEN])
{
	static const char tag[] = BUNDLE_HOST_ENROLL_TAG;
	EVP_MD_CTX *mc;
	unsigned int n = 0;
	int ok;

	if (!name || !len)
		return -EINVAL;
	mc = EVP_MD_CTX_new();
	ok = mc && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(mc, tag, sizeof(tag)) == 1 && put_blob(mc, name, len) &&
	     EVP_DigestFinal_ex(mc, out, &n) == 1 && n == BUNDLE_HOST_BINDING_LEN;
	EVP_MD_CTX_free(mc);
	return ok ? 0 : -EIO;
}
