/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment: proves that an AK lives in the vTPM whose EK certificate we
 * trust, then issues the AK certificate an offline verifier chains to.
 *
 *   1. the EK certificate must chain to a trusted EK CA (swtpm_localca);
 *   2. the vTPM re-derives its EK (TCG template L-1); its public key must be
 *      the certified one;
 *   3. the vTPM derives the AK (quote.h); the enroller computes its Name
 *      from the public area itself (never trusting the TPM's word for it);
 *   4. MakeCredential in software with the EK certificate's key, for that
 *      Name; the vTPM's ActivateCredential must return the secret (only the
 *      TPM holding that EK, and an object with that Name, can);
 *   5. the attestation CA signs an AK certificate: CN = guest name, SAN URIs
 *      urn:uuid:UUID, urn:bulwark:ak-name:HEX, urn:bulwark:ek-spki-sha256:HEX.
 */
#ifndef BULWARK_ATTEST_ENROLL_H
#define BULWARK_ATTEST_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/producer/quote.h"

struct enroll_request {
	const char *name;             /* guest name (bundle.h rules) */
	const char *uuid;             /* canonical lower-case UUID */
	enum quote_ak_alg alg;
	X509 *ek_cert;
	STACK_OF(X509) *ek_chain;     /* intermediates, may be NULL */
	X509_STORE *ek_anchors;       /* trusted EK CAs */
	X509 *ca_cert;                /* the attestation CA */
	EVP_PKEY *ca_key;
	int days;                     /* AK certificate validity */
	int host_hw;                  /* a host AK for a hardware TPM (no locality) */
};

struct enroll_result {
	X509 *ak_cert;                /* caller frees */
	TPM2B_PUBLIC ak_pub;
};

/* Software TPM2_MakeCredential for an RSA EK (TPM 2.0 Part 1, 24). */
int enroll_make_credential(EVP_PKEY *ek, const uint8_t *name, size_t name_len,
			   const uint8_t *secret, size_t secret_len, TPM2B_ID_OBJECT *blob,
			   TPM2B_ENCRYPTED_SECRET *enc);

/* Steps 1-5 against the vTPM behind t (quote.h).  0, -EPERM (a check failed) or -errno. */
int enroll_guest(const struct quote_tpm *t, const struct enroll_request *req, struct enroll_result *res);

/* Step 5 alone (also used by tests to make certificates for a wrong CA). */
int enroll_issue(const struct enroll_request *req, const TPMT_PUBLIC *ak, X509 **out);

#endif
