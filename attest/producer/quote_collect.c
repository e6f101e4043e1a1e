/* SPDX-License-Identifier: Apache-2.0 */
/* Evidence: one quote and everything around it, as a bundle (quote.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "attest/producer/quote.h"
#include "attest/verify/verify_priv.h"
#include "core/log.h"
#include "core/util.h"

static int blob_copy(struct bundle_blob *dst, const struct bundle_blob *src)
{
	dst->data = src->len ? malloc(src->len) : NULL;
	if (!dst->data)
		return -ENOMEM;
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
	return 0;
}

static int chain_copy(struct bundle_chain *dst, const struct bundle_chain *src)
{
	int rc = src->nchain <= BUNDLE_MAX_CHAIN ? blob_copy(&dst->cert, &src->cert) : -EINVAL;

	for (size_t i = 0; !rc && i < src->nchain; i++, dst->nchain++)
		rc = blob_copy(&dst->chain[i], &src->chain[i]);
	return rc;
}

/* The certified key must be the one the vTPM derived (same template, same EPS). */
static int ak_is_certified(const struct quote_guest *g, const struct quote_key *ak)
{
	const unsigned char *p = g->ak.cert.data;
	X509 *x = d2i_X509(NULL, &p, (long)g->ak.cert.len);
	EVP_PKEY *k = verify_tpm_pkey(&ak->pub.publicArea);
	int ok = x && k && EVP_PKEY_eq(k, X509_get0_pubkey(x)) == 1;

	EVP_PKEY_free(k);
	X509_free(x);
	if (!ok)
		log_err("guest %s: the vTPM's AK is not the certified one (re-enroll)", g->name);
	return ok ? 0 : -EPERM;
}

static int pcrs_read(const struct quote_tpm *t, const struct evlog_banks *banks,
		     struct bundle_pcrs *p)
{
	p->banks = *banks;
	for (uint32_t b = 0; b < banks->count; b++) {
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			int rc;

			if (!(QUOTE_PCR_MASK & (1u << pcr)))
				continue;
			rc = quote_pcr_read(t, banks->alg[b], pcr, p->value[b][pcr], banks->size[b]);
			if (rc)
				return rc;
			p->mask[b] |= 1u << pcr;
		}
	}
	return 0;
}

/* The banks the launcher measured, from the log's Spec ID header. */
static int log_banks(const struct bundle_blob *log, struct evlog_banks *banks)
{
	struct evlog_parser p;
	int rc = evlog_parse_begin(&p, log->data, log->len);

	if (!rc)
		*banks = p.banks;
	return rc;
}

/* The TPM part, at locality 3, with the AK loaded only inside. */
static int collect_tpm(const struct quote_tpm *t, const struct quote_guest *g, const uint8_t *nonce,
		       size_t nonce_len, struct bundle *out)
{
	uint8_t attest[BUNDLE_MAX_TPM], sig[BUNDLE_MAX_TPM];
	size_t alen = 0, slen = 0;
	TPML_PCR_SELECTION sel;
	struct evlog_banks banks;
	struct quote_key ak;
	int rc = log_banks(&g->log, &banks);

	rc = rc ? rc : quote_ak_create(t, g->alg, g->uuid, &ak);
	if (rc)
		return rc;
	quote_selection(&banks, &sel);
	rc = ak_is_certified(g, &ak);
	rc = rc ? rc : quote_sign(t, &ak, nonce, nonce_len, &sel, attest, &alen, sig,
				  sizeof(sig), &slen);
	rc = rc ? rc : pcrs_read(t, &banks, &out->pcrs);
	quote_flush(t, ak.handle);
	if (rc)
		return rc;
	rc = blob_copy(&out->attest, &(struct bundle_blob){ attest, alen });
	rc = rc ? rc : blob_copy(&out->signature, &(struct bundle_blob){ sig, slen });
	if (!rc) {
		uint8_t pub[sizeof(TPMT_PUBLIC)];
		size_t off = 0;

		rc = Tss2_MU_TPMT_PUBLIC_Marshal(&ak.pub.publicArea, pub, sizeof(pub), &off) ?
			-EPROTO : blob_copy(&out->ak_public, &(struct bundle_blob){ pub, off });
	}
	return rc;
}

static int guest_valid(const struct quote_guest *g, size_t nonce_len)
{
	if (!g->name || !g->uuid || !g->label || !g->set_locality || !g->ak.cert.len ||
	    !g->ek.cert.len || !g->log.len || strlen(g->name) > BUNDLE_NAME_MAX ||
	    strlen(g->uuid) != 36 || strlen(g->label) > BUNDLE_LABEL_MAX ||
	    nonce_len < BUNDLE_MIN_NONCE || nonce_len > BUNDLE_MAX_NONCE)
		return -EINVAL;
	return 0;
}

int quote_collect(const struct quote_tpm *t, const struct quote_guest *g, const uint8_t *nonce,
		  size_t nonce_len, struct bundle *out)
{
	time_t now = time(NULL);
	struct tm tm;
	int rc, lrc;

	memset(out, 0, sizeof(*out));
	rc = guest_valid(g, nonce_len);
	if (rc)
		return rc;
	rc = g->set_locality(g->arg, QUOTE_LOCALITY);
	rc = rc ? rc : collect_tpm(t, g, nonce, nonce_len, out);
	lrc = g->set_locality(g->arg, 0);      /* always back to the guest's */
	rc = rc ? rc : lrc;
	rc = rc ? rc : chain_copy(&out->ak, &g->ak);
	rc = rc ? rc : chain_copy(&out->ek, &g->ek);
	rc = rc ? rc : blob_copy(&out->event_log, &g->log);
	if (rc) {
		log_err("guest %s: no evidence: %s", g->name, strerror(-rc));
		bundle_free(out);
		return rc;
	}
	snprintf(out->name, sizeof(out->name), "%s", g->name);
	snprintf(out->uuid, sizeof(out->uuid), "%s", g->uuid);
	snprintf(out->label, sizeof(out->label), "%s", g->label);
	gmtime_r(&now, &tm);
	strftime(out->created, sizeof(out->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memcpy(out->nonce, nonce, nonce_len);
	out->nonce_len = nonce_len;
	return 0;
}
