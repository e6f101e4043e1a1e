/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's attestation commands to the vTPM (raw TPM 2.0 commands
 * marshalled with tss2-mu over attest/format/tpm.c's tpm_transact): the EK and the
 * AK, credential activation, the quote.
 *
 * The AK is a primary key in the endorsement hierarchy, re-derived from the
 * EPS whenever it is needed (same template -> same key) and flushed at once:
 * nothing persistent for a guest to evict, no key blob on the host.  Its
 * authPolicy is TPM2_PolicyLocality(3) then TPM2_PolicySecret(endorsement)
 * with the guest's UUID as policyRef (verify_ak_policy()), and userWithAuth
 * is clear, so only a command sent at locality 3 can make it sign, and two
 * guests on one vTPM derive two different AKs; the locality is set on
 * swtpm's control channel, which only the launcher holds (the guest's CRB
 * commands always arrive at locality 0).  A guest can derive the same public
 * key but can never use it.  It is a restricted signing key: it signs only
 * TPM-generated structures.  See BUNDLE.md ("Quotes").
 */
#ifndef BULWARK_ATTEST_QUOTE_H
#define BULWARK_ATTEST_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "attest/format/eventlog.h"

/* Locality at which the launcher uses the AK (guest commands: 0). */
#define QUOTE_LOCALITY 3
/* PCRs quoted in every bank: everything the launcher measures (measure.h). */
#define QUOTE_PCR_MASK 0x3FFu    /* PCR 0..9 */

enum quote_ak_alg { QUOTE_AK_RSA2048, QUOTE_AK_P256 };

/*
 * How commands reach the vTPM: xfer sends one command and reads its whole
 * response (header checked), returning 0 or -errno.  Over a plain data
 * channel fd, quote_tpm_fd(); inside a launcher host transaction, xfer =
 * tpmproxy_host_exec with arg = the proxy (attest/vtpm/tpmproxy.h): same signature.
 */
struct quote_tpm {
	int (*xfer)(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		    size_t *rsp_len);
	void *arg;
};

/* A transport over a data channel fd (*fd must outlive t). */
void quote_tpm_fd(struct quote_tpm *t, int *fd);

/* TPM2_PCR_Read of one PCR of one bank (size bytes, checked). */
int quote_pcr_read(const struct quote_tpm *t, uint16_t alg, uint32_t pcr, uint8_t *out,
		   size_t size);

struct quote_key {
	uint32_t handle;              /* transient; flush with quote_flush() */
	TPM2B_PUBLIC pub;
	uint8_t name[2 + 64];         /* nameAlg || H(TPMT_PUBLIC) */
	size_t name_len;
	uint8_t policy_ref[16];       /* AK: the guest's UUID (its policy's policyRef) */
	int no_locality;              /* a hardware host AK: no PolicyLocality */
};

/* The AK's template for the guest uuid (policy: verify_ak_policy(uuid)). */
int quote_ak_template(enum quote_ak_alg alg, const char *uuid, TPM2B_PUBLIC *tmpl);

/* CreatePrimary under the endorsement hierarchy: the AK, or the TCG default
 * RSA-2048 EK (template L-1, the key swtpm_setup certified). */
int quote_ak_create(const struct quote_tpm *t, enum quote_ak_alg alg, const char *uuid,
		    struct quote_key *ak);
int quote_ek_create(const struct quote_tpm *t, struct quote_key *ek);

/* The host AK for a hardware TPM (verify_host_ak_policy(): no locality);
 * quote_sign() then sends no PolicyLocality. */
int quote_ak_create_host(const struct quote_tpm *t, enum quote_ak_alg alg, const char *uuid,
			 struct quote_key *ak);

/* The Name of a public area: nameAlg || H_nameAlg(marshalled TPMT_PUBLIC). */
int quote_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t cap, size_t *len);

/*
 * TPM2_ActivateCredential: the EK (policy session with PolicySecret on the
 * endorsement hierarchy) decrypts the credential the enroller made for the
 * AK's Name; only a TPM holding both keys can.  *cred gets the secret.
 */
int quote_activate(const struct quote_tpm *t, const struct quote_key *ak, const struct quote_key *ek,
		   const TPM2B_ID_OBJECT *blob, const TPM2B_ENCRYPTED_SECRET *secret,
		   TPM2B_DIGEST *cred);

/*
 * TPM2_Quote over sel with the AK (policy session: PolicyLocality, then
 * PolicySecret(endorsement) with the AK's policyRef), nonce as
 * qualifyingData.  Must run at QUOTE_LOCALITY.  Outputs the marshalled
 * TPMS_ATTEST and TPMT_SIGNATURE.
 */
int quote_sign(const struct quote_tpm *t, const struct quote_key *ak, const uint8_t *nonce, size_t nonce_len,
	       const TPML_PCR_SELECTION *sel, uint8_t *attest, size_t *attest_len,
	       uint8_t *sig, size_t cap, size_t *sig_len);

/* The selection QUOTE_PCR_MASK in every bank of banks. */
void quote_selection(const struct evlog_banks *banks, TPML_PCR_SELECTION *sel);

/* TPM2_FlushContext. */
int quote_flush(const struct quote_tpm *t, uint32_t handle);

/* ---- evidence ---------------------------------------------------------- */

#include "attest/format/bundle.h"

struct quote_guest {
	const char *name, *uuid, *label;   /* bundle.h rules */
	enum quote_ak_alg alg;             /* as enrolled */
	struct bundle_chain ak;            /* AK certificate (+ intermediates), DER */
	struct bundle_chain ek;            /* EK certificate (+ intermediates), DER */
	struct bundle_blob log;            /* the launcher's event log */
	/*
	 * Sets swtpm's locality on the control channel (SET_LOCALITY); the
	 * launcher's callback.  The launcher must hold guest commands back
	 * while quote_collect() runs (BUNDLE.md, "Quotes").
	 */
	int (*set_locality)(void *arg, uint8_t locality);
	void *arg;
};

/*
 * One bundle: locality 3, AK re-derived (its key must be the certified one),
 * quote of PCR 0..9 in every bank of the event log (the banks the launcher
 * measured: all the vTPM has allocated) with the verifier's nonce, those
 * PCRs read, AK flushed, locality 0 again (also on failure).  out is filled
 * with copies (bundle_free()).  0 or -errno; -EBUSY if the guest holds every
 * object slot (the guest is not disturbed; retry later).
 */
int quote_collect(const struct quote_tpm *t, const struct quote_guest *g, const uint8_t *nonce,
		  size_t nonce_len, struct bundle *out);

#endif
