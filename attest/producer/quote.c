/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's attestation commands to the vTPM (quote.h). */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "attest/producer/quote.h"
#include "attest/format/tpm.h"
#include "attest/verify/verify.h"
#include "core/log.h"
#include "core/util.h"

struct cmd {
	uint8_t b[TPM_MAX_MSG];
	size_t off;
	int err;
};

struct rsp {
	uint8_t b[TPM_MAX_MSG];
	size_t len, off, end;
};

/* Marshals one value (scalar by value, structure by pointer) into c. */
#define C_PUT(c, type, val) do { \
	if (!(c)->err && Tss2_MU_##type##_Marshal(val, (c)->b, sizeof((c)->b), &(c)->off)) \
		(c)->err = -EOVERFLOW; \
} while (0)

/* Unmarshals one parameter from r's parameter area; non-zero on failure. */
#define R_GET(r, type, out) Tss2_MU_##type##_Unmarshal((r)->b, (r)->end, &(r)->off, out)

static void cmd_begin(struct cmd *c, uint16_t tag, uint32_t cc)
{
	c->off = 0;
	c->err = 0;
	C_PUT(c, UINT16, tag);
	C_PUT(c, UINT32, 0);
	C_PUT(c, UINT32, cc);
}

/* The authorization area: password (TPM2_RH_PW) or policy sessions, no HMAC. */
static void cmd_auth(struct cmd *c, const uint32_t *sessions, size_t n)
{
	size_t start;

	C_PUT(c, UINT32, 0);
	start = c->off;
	for (size_t i = 0; i < n; i++) {
		TPMS_AUTH_COMMAND a = { .sessionHandle = sessions[i] };

		C_PUT(c, TPMS_AUTH_COMMAND, &a);
	}
	if (!c->err) {
		size_t at = start - 4;

		(void)Tss2_MU_UINT32_Marshal((uint32_t)(c->off - start), c->b, sizeof(c->b), &at);
	}
}

static int xfer_fd(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		   size_t *rsp_len)
{
	uint32_t code;

	return tpm_transact(*(int *)arg, cmd, len, rsp, cap, rsp_len, &code);
}

void quote_tpm_fd(struct quote_tpm *t, int *fd)
{
	t->xfer = xfer_fd;
	t->arg = fd;
}

/* One exchange; the response code from the (transport-checked) header. */
static int cmd_xfer(const struct quote_tpm *t, struct cmd *c, struct rsp *r, uint32_t *code)
{
	size_t off = 6;
	int rc = t->xfer(t->arg, c->b, c->off, r->b, sizeof(r->b), &r->len);

	if (!rc && (r->len < 10 || Tss2_MU_UINT32_Unmarshal(r->b, r->len, &off, code)))
		rc = -EPROTO;
	return rc;
}

/* Sends c; success only; positions r at the parameters (after a handle). */
static int cmd_run(const struct quote_tpm *t, struct cmd *c, struct rsp *r, const char *what,
		   uint32_t *handle)
{
	uint32_t code = 0, psize = 0;
	size_t at = 2;
	uint16_t tag = 0;
	int rc;

	if (c->err)
		return c->err;
	(void)Tss2_MU_UINT32_Marshal((uint32_t)c->off, c->b, sizeof(c->b), &at);
	/* TPM_RC_RETRY/YIELDED/TESTING: the command did not start; send it again. */
	for (int tries = 0; tries < 8; tries++) {
		rc = cmd_xfer(t, c, r, &code);
		if (rc || (code != TPM2_RC_RETRY && code != TPM2_RC_YIELDED &&
			   code != TPM2_RC_TESTING))
			break;
	}
	if (rc)
		return rc;
	if (code != TPM2_RC_SUCCESS) {
		log_err("%s: TPM response code 0x%03x", what, code);
		return code == TPM2_RC_OBJECT_MEMORY || code == TPM2_RC_SESSION_MEMORY ?
			-EBUSY : -EIO;
	}
	r->off = 0;
	r->end = r->len;
	if (Tss2_MU_UINT16_Unmarshal(r->b, r->len, &r->off, &tag))
		return -EPROTO;
	r->off = 10;
	if (handle && Tss2_MU_UINT32_Unmarshal(r->b, r->len, &r->off, handle))
		return -EPROTO;
	if (tag == TPM2_ST_SESSIONS) {
		if (Tss2_MU_UINT32_Unmarshal(r->b, r->len, &r->off, &psize) ||
		    psize > r->len - r->off)
			return -EPROTO;
		r->end = r->off + psize;
	}
	return 0;
}

int quote_flush(const struct quote_tpm *t, uint32_t handle)
{
	struct cmd c;
	struct rsp r;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_FlushContext);
	C_PUT(&c, UINT32, handle);
	return cmd_run(t, &c, &r, "TPM2_FlushContext", NULL);
}

int quote_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t cap, size_t *len)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	unsigned int n = 0;

	if (pub->nameAlg != TPM2_ALG_SHA256 || cap < 2 + 32 ||
	    Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off) ||
	    !EVP_Digest(buf, off, name + 2, &n, EVP_sha256(), NULL))
		return -EINVAL;
	name[0] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
	name[1] = (uint8_t)TPM2_ALG_SHA256;
	*len = 2 + n;
	return 0;
}

static int create_primary(const struct quote_tpm *t, const TPM2B_PUBLIC *tmpl, struct quote_key *k,
			  const char *what)
{
	static const uint32_t pw[] = { TPM2_RH_PW };
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	struct cmd c;
	struct rsp r;
	int rc;

	memset(k, 0, sizeof(*k));
	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_CreatePrimary);
	C_PUT(&c, UINT32, TPM2_RH_ENDORSEMENT);
	cmd_auth(&c, pw, ARRAY_SIZE(pw));
	C_PUT(&c, TPM2B_SENSITIVE_CREATE, &sens);
	C_PUT(&c, TPM2B_PUBLIC, tmpl);
	C_PUT(&c, TPM2B_DATA, &outside);
	C_PUT(&c, TPML_PCR_SELECTION, &none);
	rc = cmd_run(t, &c, &r, what, &k->handle);
	if (rc)
		return rc;
	if (R_GET(&r, TPM2B_PUBLIC, &k->pub) ||
	    quote_name(&k->pub.publicArea, k->name, sizeof(k->name), &k->name_len)) {
		quote_flush(t, k->handle);
		return -EPROTO;
	}
	return 0;
}

int quote_ak_template(enum quote_ak_alg alg, const char *uuid, TPM2B_PUBLIC *t)
{
	TPMT_PUBLIC *p = &t->publicArea;

	memset(t, 0, sizeof(*t));
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
		TPMA_OBJECT_NODA;
	if (alg == QUOTE_AK_RSA2048) {
		p->type = TPM2_ALG_RSA;
		p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
		p->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
		p->parameters.rsaDetail.keyBits = 2048;
	} else if (alg == QUOTE_AK_P256) {
		p->type = TPM2_ALG_ECC;
		p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
		p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		return -EINVAL;
	}
	p->authPolicy.size = 32;
	return verify_ak_policy(uuid, p->authPolicy.buffer);
}

int quote_ak_create(const struct quote_tpm *t, enum quote_ak_alg alg, const char *uuid,
		    struct quote_key *ak)
{
	TPM2B_PUBLIC tmpl;
	int rc = quote_ak_template(alg, uuid, &tmpl);

	rc = rc ? rc : create_primary(t, &tmpl, ak, "CreatePrimary(AK)");
	return rc ? rc : verify_ak_policy_ref(uuid, ak->policy_ref);
}

int quote_ak_create_host(const struct quote_tpm *t, enum quote_ak_alg alg, const char *uuid,
			 struct quote_key *ak)
{
	TPM2B_PUBLIC tmpl;
	int rc = quote_ak_template(alg, uuid, &tmpl);

	rc = rc ? rc : verify_host_ak_policy(uuid, tmpl.publicArea.authPolicy.buffer);
	rc = rc ? rc : create_primary(t, &tmpl, ak, "CreatePrimary(host AK)");
	ak->no_locality = 1;
	return rc ? rc : verify_ak_policy_ref(uuid, ak->policy_ref);
}

int quote_ek_create(const struct quote_tpm *t, struct quote_key *ek)
{
	/* TCG EK Credential Profile, template L-1: PolicySecret(endorsement). */
	static const uint8_t policy_a[32] = {
		0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d,
		0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64,
		0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
	};
	TPM2B_PUBLIC tmpl = { 0 };
	TPMT_PUBLIC *p = &tmpl.publicArea;

	p->type = TPM2_ALG_RSA;
	p->nameAlg = TPM2_ALG_SHA256;
	p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
		TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->authPolicy.size = sizeof(policy_a);
	memcpy(p->authPolicy.buffer, policy_a, sizeof(policy_a));
	p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
	p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
	p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
	p->parameters.rsaDetail.keyBits = 2048;
	p->unique.rsa.size = 256;
	return create_primary(t, &tmpl, ek, "CreatePrimary(EK)");
}

/* An unsalted, unbound policy session (SHA-256). */
static int policy_start(const struct quote_tpm *t, uint32_t *session)
{
	TPM2B_NONCE nonce = { .size = 32 };
	TPM2B_ENCRYPTED_SECRET salt = { 0 };
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	struct cmd c;
	struct rsp r;

	if (RAND_bytes(nonce.buffer, nonce.size) != 1)
		return -EIO;
	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_StartAuthSession);
	C_PUT(&c, UINT32, TPM2_RH_NULL);
	C_PUT(&c, UINT32, TPM2_RH_NULL);
	C_PUT(&c, TPM2B_NONCE, &nonce);
	C_PUT(&c, TPM2B_ENCRYPTED_SECRET, &salt);
	C_PUT(&c, UINT8, TPM2_SE_POLICY);
	C_PUT(&c, TPMT_SYM_DEF, &sym);
	C_PUT(&c, UINT16, TPM2_ALG_SHA256);
	return cmd_run(t, &c, &r, "StartAuthSession", session);
}

static int policy_locality(const struct quote_tpm *t, uint32_t session)
{
	struct cmd c;
	struct rsp r;

	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_PolicyLocality);
	C_PUT(&c, UINT32, session);
	C_PUT(&c, UINT8, 1u << QUOTE_LOCALITY);
	return cmd_run(t, &c, &r, "PolicyLocality", NULL);
}

/* PolicySecret(TPM_RH_ENDORSEMENT): what the EK's policy A asks for (ref
 * NULL), and the AK's second step (ref: the guest's UUID). */
static int policy_secret_eh(const struct quote_tpm *t, uint32_t session, const uint8_t *ref)
{
	static const uint32_t pw[] = { TPM2_RH_PW };
	TPM2B_NONCE empty = { 0 }, policy_ref = { .size = ref ? VERIFY_AK_POLICY_REF_LEN : 0 };
	TPM2B_DIGEST cphash = { 0 };
	struct cmd c;
	struct rsp r;

	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_PolicySecret);
	C_PUT(&c, UINT32, TPM2_RH_ENDORSEMENT);
	C_PUT(&c, UINT32, session);
	cmd_auth(&c, pw, ARRAY_SIZE(pw));
	C_PUT(&c, TPM2B_NONCE, &empty);
	C_PUT(&c, TPM2B_DIGEST, &cphash);
	if (ref)
		memcpy(policy_ref.buffer, ref, policy_ref.size);
	C_PUT(&c, TPM2B_NONCE, &policy_ref);
	C_PUT(&c, INT32, 0);
	return cmd_run(t, &c, &r, "PolicySecret", NULL);
}

int quote_activate(const struct quote_tpm *t, const struct quote_key *ak, const struct quote_key *ek,
		   const TPM2B_ID_OBJECT *blob, const TPM2B_ENCRYPTED_SECRET *secret,
		   TPM2B_DIGEST *cred)
{
	uint32_t auth[2] = { TPM2_RH_PW, 0 };
	struct cmd c;
	struct rsp r;
	int rc = policy_start(t, &auth[1]);

	rc = rc ? rc : policy_secret_eh(t, auth[1], NULL);
	if (rc)
		goto out;
	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_ActivateCredential);
	C_PUT(&c, UINT32, ak->handle);
	C_PUT(&c, UINT32, ek->handle);
	cmd_auth(&c, auth, ARRAY_SIZE(auth));
	C_PUT(&c, TPM2B_ID_OBJECT, blob);
	C_PUT(&c, TPM2B_ENCRYPTED_SECRET, secret);
	rc = cmd_run(t, &c, &r, "ActivateCredential", NULL);
	/* The session was not continued: the TPM flushed it with the command. */
	auth[1] = rc ? auth[1] : 0;
	if (!rc && (R_GET(&r, TPM2B_DIGEST, cred) || r.off != r.end))
		rc = -EPROTO;
out:
	if (auth[1])
		quote_flush(t, auth[1]);
	return rc;
}

void quote_selection(const struct evlog_banks *banks, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	for (uint32_t i = 0; i < banks->count && i < ARRAY_SIZE(sel->pcrSelections); i++) {
		sel->pcrSelections[i].hash = banks->alg[i];
		sel->pcrSelections[i].sizeofSelect = 3;
		sel->pcrSelections[i].pcrSelect[0] = QUOTE_PCR_MASK & 0xff;
		sel->pcrSelections[i].pcrSelect[1] = (QUOTE_PCR_MASK >> 8) & 0xff;
		sel->pcrSelections[i].pcrSelect[2] = (QUOTE_PCR_MASK >> 16) & 0xff;
		sel->count++;
	}
}

/* The quote's two outputs, copied as the TPM marshalled them. */
static int quote_out(struct rsp *r, uint8_t *attest, size_t *attest_len, uint8_t *sig,
		     size_t cap, size_t *sig_len)
{
	TPM2B_ATTEST q;
	TPMT_SIGNATURE s;
	size_t start;

	if (R_GET(r, TPM2B_ATTEST, &q) || q.size > cap)
		return -EPROTO;
	start = r->off;
	if (R_GET(r, TPMT_SIGNATURE, &s) || r->off != r->end || r->off - start > cap)
		return -EPROTO;
	memcpy(attest, q.attestationData, q.size);
	*attest_len = q.size;
	memcpy(sig, r->b + start, r->off - start);
	*sig_len = r->off - start;
	return 0;
}

int quote_sign(const struct quote_tpm *t, const struct quote_key *ak, const uint8_t *nonce, size_t nonce_len,
	       const TPML_PCR_SELECTION *sel, uint8_t *attest, size_t *attest_len,
	       uint8_t *sig, size_t cap, size_t *sig_len)
{
	TPM2B_DATA q = { .size = (uint16_t)nonce_len };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	uint32_t session = 0;
	struct cmd c;
	struct rsp r;
	int rc;

	if (nonce_len > sizeof(q.buffer))
		return -EINVAL;
	memcpy(q.buffer, nonce, nonce_len);
	rc = policy_start(t, &session);
	rc = rc || ak->no_locality ? rc : policy_locality(t, session);
	rc = rc ? rc : policy_secret_eh(t, session, ak->policy_ref);
	if (rc)
		goto out;
	cmd_begin(&c, TPM2_ST_SESSIONS, TPM2_CC_Quote);
	C_PUT(&c, UINT32, ak->handle);
	cmd_auth(&c, &session, 1);
	C_PUT(&c, TPM2B_DATA, &q);
	C_PUT(&c, TPMT_SIG_SCHEME, &scheme);
	C_PUT(&c, TPML_PCR_SELECTION, sel);
	rc = cmd_run(t, &c, &r, "Quote", NULL);
	session = rc ? session : 0;
	rc = rc ? rc : quote_out(&r, attest, attest_len, sig, cap, sig_len);
out:
	if (session)
		quote_flush(t, session);
	return rc;
}

int quote_pcr_read(const struct quote_tpm *t, uint16_t alg, uint32_t pcr, uint8_t *out,
		   size_t size)
{
	TPML_PCR_SELECTION sel = { .count = 1 };
	TPML_PCR_SELECTION got;
	TPML_DIGEST d;
	uint32_t counter;
	struct cmd c;
	struct rsp r;
	int rc;

	if (pcr >= EVLOG_NUM_PCRS)
		return -EINVAL;
	sel.pcrSelections[0].hash = alg;
	sel.pcrSelections[0].sizeofSelect = 3;
	sel.pcrSelections[0].pcrSelect[pcr / 8] = (uint8_t)(1u << (pcr % 8));
	cmd_begin(&c, TPM2_ST_NO_SESSIONS, TPM2_CC_PCR_Read);
	C_PUT(&c, TPML_PCR_SELECTION, &sel);
	rc = cmd_run(t, &c, &r, "PCR_Read", NULL);
	if (rc)
		return rc;
	if (R_GET(&r, UINT32, &counter) || R_GET(&r, TPML_PCR_SELECTION, &got) ||
	    R_GET(&r, TPML_DIGEST, &d) || r.off != r.end || got.count != 1 ||
	    memcmp(&got.pcrSelections[0], &sel.pcrSelections[0], sizeof(got.pcrSelections[0])) ||
	    d.count != 1 || d.digests[0].size != size)
		return -EPROTO;
	memcpy(out, d.digests[0].buffer, size);
	return 0;
}
