/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The whole verifier on arbitrary bytes: what the bundle parser accepts goes
 * on through the certificate, TPM-structure (tss2-mu), signature, event-log,
 * reference and security-state checks.  The seeds are real bundles, so
 * mutations reach every stage.  Must never crash, leak or read out of
 * bounds, and every failure must carry a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/verify/verify.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/fuzz/fuzz.h"

/* A throw-away self-signed anchor (the seeds' CAs are not in the tree). */
static int anchor_file(char *path, size_t cap)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int fd, ok;
	FILE *f;

	snprintf(path, cap, "/tmp/bulwark-fuzz-verify.XXXXXX");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	ok = k && x && f && X509_set_version(x, 2) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					(const unsigned char *)"fuzz", -1, -1, 0) &&
	     X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, k) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 3600) && X509_sign(x, k, EVP_sha256()) &&
	     PEM_write_X509(f, x);
	if (f)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

static struct verify_ctx *ctx_get(void)
{
	static struct manifest m;
	static struct verify_ctx *ctx;
	static char path[64];
	static const char *anchors[] = { path };
	struct verify_options o = { .ak_ca = anchors, .nak_ca = 1, .ek_ca = anchors,
				    .nek_ca = 1, .manifest = &m };

	if (ctx)
		return ctx;
	log_set_level(LOG_ERR);
	m.banks = (struct evlog_banks){ .count = 2, .alg = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 },
					.size = { 32, 48 } };
	for (int i = 0; i < MANIFEST_ITEMS; i++)
		m.item[i].count = 1;
	m.acpi_pinned = 1;
	m.selinux_enforcing = m.seccomp_required = 1;
	m.npolicy = 1;
	m.nroles = 1;
	m.roles[0].count = 1;
	snprintf(m.roles[0].role, sizeof(m.roles[0].role), "vmm");
	snprintf(m.label_user, sizeof(m.label_user), "system_u");
	snprintf(m.label_role, sizeof(m.label_role), "system_r");
	snprintf(m.label_type, sizeof(m.label_type), "bulwark_vmm_t");
	snprintf(m.label_sensitivity, sizeof(m.label_sensitivity), "s0");
	if (anchor_file(path, sizeof(path)) || verify_ctx_new(&o, &ctx))
		abort();
	unlink(path);
	return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_ctx *ctx = ctx_get();
	struct verify_result res;
	enum verify_status st = verify_bundle(ctx, data, size, &res);

	/* Nothing here can affirm (no trusted CA); every failure names itself. */
	if (st == VS_AFFIRMING || !res.nfail || res.fail[0].reason <= VR_OK ||
	    res.fail[0].reason >= VR_COUNT)
		abort();
	/* Nor can the host's evidence (no host anchors, empty allowlist). */
	if (res.host.present && (res.host.status == VS_AFFIRMING || !res.host.nfail ||
				 (res.host.fail[0].reason < VR_HOST_MISSING &&
				  res.host.fail[0].reason != VR_INTERNAL) ||
				 res.host.fail[0].reason >= VR_COUNT))
		abort();
	verify_ctx_forget_used(ctx);
	return 0;
}
