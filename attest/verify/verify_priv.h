/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the verifier: the context and one bundle's working state. */
#ifndef BULWARK_ATTEST_VERIFY_PRIV_H
#define BULWARK_ATTEST_VERIFY_PRIV_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/verify/verify.h"

#define VERIFY_MAX_EVENTS 64      /* the launcher writes 15 */
#define VERIFY_CACHE      64      /* verified certificate chains remembered */
#define VERIFY_AK_SAN_NAME "urn:bulwark:ak-name:"
#define VERIFY_AK_SAN_EK   "urn:bulwark:ek-spki-sha256:"
#define VERIFY_AK_SAN_UUID "urn:uuid:"

/*
 * A bundle identity that passed every certificate check: the same AK public
 * area, certificates and guest (SHA-256 over all of them) pass again, so a
 * batch parses each distinct set of certificates once (OpenSSL 3's X.509 and
 * key decoding dominated the time otherwise).
 */
struct verify_cached_identity {
	uint8_t key[32];
	TPMT_PUBLIC ak_public;
	EVP_PKEY *ak_key;         /* one reference owned here */
	char ak_subject[128];
	char ek_spki[65];
};

struct verify_cached_chain {
	uint8_t key[32];          /* SHA-256 of the store tag and every DER */
	int verdict;              /* enum chain_verdict (verify_certs.c): 0 trusted */
};

/* A set of nonces, kept as SHA-256 hashes, with an open-addressing index
 * (slot: 0 empty, else 1 + index in h) so that loading a store is linear. */
struct verify_nonces {
	uint8_t (*h)[32];
	size_t n, cap;
	uint32_t *slot;
	size_t nslot;             /* a power of two, at least 2 * n */
};

struct verify_work {
	struct bundle b;
	TPMS_ATTEST attest;
	TPMT_PUBLIC ak_public;
	EVP_PKEY *ak_key;         /* from the AK certificate */
	X509 *ak_cert, *ek_cert;
	struct evlog_banks log_banks;
	size_t log_header;        /* bytes of the Spec ID event */
	size_t nev;
	struct evlog_event ev[VERIFY_MAX_EVENTS];
	int item[MANIFEST_ITEMS]; /* index in ev, -1: absent */
	int secstate;             /* index in ev of the PCR 7 event, -1: absent */
	size_t nrestore;          /* restore events (PCR 7, EV_EVENT_TAG) */
	int restore[VERIFY_MAX_RESTORES];   /* their indexes in ev */
};

struct verify_ctx {
	X509_STORE *ak_store, *ek_store;
	X509_STORE *host_ak_store, *host_ek_store;   /* empty stores if none given */
	const struct host_allowlist *host_allow;
	const struct manifest *m;
	time_t at;
	struct verify_nonces issued;   /* the nonces a bundle may carry */
	struct verify_nonces used;     /* nonces already seen: replays */
	struct verify_cached_chain cache[VERIFY_CACHE];
	size_t ncache, cache_next;
	struct verify_cached_identity ids[VERIFY_CACHE];
	size_t nids, ids_next;
	struct verify_work w;
};

/* verify_reasons.c */
void verify_result_finish(struct verify_result *res);

/* verify_certs.c: chains, EK binding, AK public area, guest identity. */
int verify_certs(struct verify_ctx *ctx, struct verify_result *res);
/* verify_quote.c: a TPM public area (RSA, ECC P-256/P-384) as an OpenSSL key. */
EVP_PKEY *verify_tpm_pkey(const TPMT_PUBLIC *p);
/* verify_quote.c: key (pub's) signed attest with sig in pub's own scheme;
 * *hash gets the scheme's hash.  0 or -1. */
int verify_tpm_signature(const TPMT_PUBLIC *pub, EVP_PKEY *key, const struct bundle_blob *sig,
			 const struct bundle_blob *attest, uint16_t *hash);
/* verify_quote.c: the AK's TPMT_PUBLIC against its certificate. */
int verify_ak_public(struct verify_work *w, struct verify_result *res);
/* verify_quote.c: TPMS_ATTEST, signature, nonce, PCR digest. */
int verify_quote(struct verify_ctx *ctx, struct verify_result *res);
/* verify_log.c: log shape, replay, payloads. */
int verify_log(struct verify_ctx *ctx, struct verify_result *res);
/* verify_ref.c: the manifest's reference values and the security state. */
void verify_references(struct verify_ctx *ctx, struct verify_result *res);

/* Used by more than one of them. */
const EVP_MD *verify_md(uint16_t tpm_alg);
/* The one SAN URI of x starting with prefix, without it; 0 or -1 (none or several). */
int verify_san_uri(X509 *x, const char *prefix, char *out, size_t cap);
/* 1 if nonce is in set; else 0, and added when add is set; -errno. */
int verify_nonce_lookup(struct verify_nonces *set, const uint8_t *nonce, size_t len,
			int add);

#endif
