/* SPDX-License-Identifier: Apache-2.0 */
/* The verifier with a manifest from the boot's own artifacts (attest_fixture.h). */
#include "attest/producer/reference.h"
#include "attest/verify/verify.h"
#include "tests/attest8/attest_fixture.h"

int attest_fixture_verify(const struct measure_boot *boot, const char *id,
			  const char *ak_ca, const char *ek_ca, const char *json, size_t len,
			  const uint8_t *nonce, struct verify_result *res)
{
	static struct manifest m;
	const struct evlog_banks banks = { .count = 2,
		.alg = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 }, .size = { 32, 48 } };
	const char *ak[] = { ak_ca }, *ek[] = { ek_ca };
	const struct verify_options o = { .ak_ca = ak, .nak_ca = 1, .ek_ca = ek, .nek_ca = 1,
					  .manifest = &m };
	struct verify_ctx *ctx = NULL;
	int st;

	if (reference_build(boot, &banks, id, 1, &m))
		return -1;
	/* These bundles are the guest's evidence alone: accepted explicitly,
	 * as a manifest with "host_evidence": "guest-only" does. */
	m.host_required = 0;
	if (verify_ctx_new(&o, &ctx))
		return -1;
	st = verify_ctx_expect_nonce(ctx, nonce, 32) ? -1 :
	     (int)verify_bundle(ctx, (const uint8_t *)json, len, res);
	verify_ctx_free(ctx);
	return st;
}
