/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM structures: the AK's public area, the quote (TPMS_ATTEST), its
 * signature, the nonce, and the PCR digest over the bundle's PCR values.
 * Everything is unmarshalled with tss2-mu against the exact length given.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/verify/verify_priv.h"
#include "core/util.h"

#define AK_ATTRS_REQUIRED (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
			   TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | \
			   TPMA_OBJECT_SIGN_ENCRYPT)

static EVP_PKEY *pkey_rsa(const TPMT_PUBLIC *p)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size, NULL);
	BIGNUM *e = BN_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	uint32_t exp = p->parameters.rsaDetail.exponent ? p->parameters.rsaDetail.exponent : 65537;

	if (bld && n && e && pc && BN_set_word(e, exp) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(pc) == 1 &&
	    EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(pc);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	return k;
}

static EVP_PKEY *pkey_ecc(const TPMT_PUBLIC *p)
{
	const TPMS_ECC_POINT *q = &p->unique.ecc;
	unsigned char pt[1 + 2 * 48];
	const char *group = p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 ? "P-256" :
		p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384 ? "P-384" : NULL;
	size_t fs = group && group[2] == '2' ? 32 : 48;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pc;
	EVP_PKEY *k = NULL;

	if (!group || q->x.size != fs || q->y.size != fs)
		return NULL;
	pt[0] = 4;
	memcpy(pt + 1, q->x.buffer, fs);
	memcpy(pt + 1 + fs, q->y.buffer, fs);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * fs);
	params[2] = OSSL_PARAM_construct_end();
	pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pc && EVP_PKEY_fromdata_init(pc) == 1 &&
	    EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(pc);
	return k;
}

EVP_PKEY *verify_tpm_pkey(const TPMT_PUBLIC *p)
{
	return p->type == TPM2_ALG_RSA ? pkey_rsa(p) : p->type == TPM2_ALG_ECC ? pkey_ecc(p) : NULL;
}

/* The AK's Name: nameAlg (big-endian) || H_nameAlg(TPMT_PUBLIC), as hex. */
static int ak_name_hex(const struct bundle_blob *pub, uint16_t alg, char *out)
{
	const EVP_MD *md = verify_md(alg);
	uint8_t name[2 + EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!md || !EVP_Digest(pub->data, pub->len, name + 2, &n, md, NULL))
		return -1;
	name[0] = (uint8_t)(alg >> 8);
	name[1] = (uint8_t)alg;
	hex_encode(name, 2 + n, out);
	return 0;
}

int verify_ak_policy_ref(const char *uuid, uint8_t ref[VERIFY_AK_POLICY_REF_LEN])
{
	size_t n = 0, len = 0;

	if (strlen(uuid) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i += 2, n++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i] != '-')
				return -EINVAL;
			i++;
		}
		if (n == VERIFY_AK_POLICY_REF_LEN || bundle_hex_decode(uuid + i, 2, ref + n, 1, &len))
			return -EINVAL;
	}
	return n == VERIFY_AK_POLICY_REF_LEN ? 0 : -EINVAL;
}

/* policyDigest := H(policyDigest || a) (TPM 2.0 Part 3, PolicyUpdate). */
static int policy_extend(uint8_t d[32], const void *a, size_t alen)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = mc && EVP_DigestInit_ex(mc, verify_md(TPM2_ALG_SHA256), NULL) &&
		 EVP_DigestUpdate(mc, d, 32) && EVP_DigestUpdate(mc, a, alen) &&
		 EVP_DigestFinal_ex(mc, d, NULL);

	EVP_MD_CTX_free(mc);
	return ok ? 0 : -EIO;
}

int verify_ak_policy(const char *uuid, uint8_t digest[32])
{
	static const uint8_t locality[] = { 0, 0, 0x01, 0x6f, 1u << 3 };   /* CC, TPMA_LOCALITY 3 */
	static const uint8_t secret[] = { 0, 0, 0x01, 0x51, 0x40, 0, 0, 0x0b };  /* CC, RH_ENDORSEMENT */
	uint8_t ref[VERIFY_AK_POLICY_REF_LEN];
	int rc = verify_ak_policy_ref(uuid, ref);

	memset(digest, 0, 32);
	rc = rc ? rc : policy_extend(digest, locality, sizeof(locality));
	rc = rc ? rc : policy_extend(digest, secret, sizeof(secret));
	return rc ? rc : policy_extend(digest, ref, sizeof(ref));
}

int verify_host_ak_policy(const char *uuid, uint8_t digest[32])
{
	static const uint8_t secret[] = { 0, 0, 0x01, 0x51, 0x40, 0, 0, 0x0b };  /* CC, RH_ENDORSEMENT */
	uint8_t ref[VERIFY_AK_POLICY_REF_LEN];
	int rc = verify_ak_policy_ref(uuid, ref);

	memset(digest, 0, 32);
	rc = rc ? rc : policy_extend(digest, secret, sizeof(secret));
	return rc ? rc : policy_extend(digest, ref, sizeof(ref));
}

/* The AK's policy is the one of the guest its certificate names. */
static void ak_guest_check(struct verify_work *w, struct verify_result *res)
{
	char uuid[40];
	uint8_t want[32];
	const TPM2B_DIGEST *p = &w->ak_public.authPolicy;

	if (verify_san_uri(w->ak_cert, VERIFY_AK_SAN_UUID, uuid, sizeof(uuid)) ||
	    verify_ak_policy(uuid, want) || p->size != sizeof(want) ||
	    memcmp(p->buffer, want, sizeof(want)))
		verify_fail(res, VR_AK_GUEST_BINDING, "the AK's policy is not the one of guest %s",
			    w->b.uuid);
}

int verify_ak_public(struct verify_work *w, struct verify_result *res)
{
	char name[2 * (2 + EVP_MAX_MD_SIZE) + 1], certified[sizeof(name)];
	TPMT_PUBLIC *p = &w->ak_public;
	EVP_PKEY *tk = NULL;
	size_t off = 0;

	w->ak_key = X509_get_pubkey(w->ak_cert);
	if (!w->ak_key) {
		verify_fail(res, VR_AK_PUBLIC, "AK certificate has no usable key");
		return -1;
	}
	if (Tss2_MU_TPMT_PUBLIC_Unmarshal(w->b.ak_public.data, w->b.ak_public.len, &off, p) ||
	    off != w->b.ak_public.len) {
		verify_fail(res, VR_AK_PUBLIC, "AK public area malformed");
		return -1;
	}
	if ((p->objectAttributes & AK_ATTRS_REQUIRED) != AK_ATTRS_REQUIRED ||
	    (p->objectAttributes & TPMA_OBJECT_DECRYPT))
		verify_fail(res, VR_AK_PUBLIC, "key is not a restricted TPM-resident signing key");
	if (ak_name_hex(&w->b.ak_public, p->nameAlg, name) ||
	    verify_san_uri(w->ak_cert, VERIFY_AK_SAN_NAME, certified, sizeof(certified)) ||
	    strcmp(name, certified))
		verify_fail(res, VR_AK_PUBLIC, "AK public area is not the one certified");
	tk = verify_tpm_pkey(p);
	if (!tk || EVP_PKEY_eq(tk, w->ak_key) != 1)
		verify_fail(res, VR_AK_PUBLIC, "AK public key differs from the certificate's");
	EVP_PKEY_free(tk);
	ak_guest_check(w, res);
	return 0;
}

/* DER ECDSA-Sig-Value from the TPM's r and s. */
static int ecdsa_der(const TPMS_SIGNATURE_ECC *e, unsigned char **der, int *len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	BIGNUM *s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);

	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	*der = NULL;
	*len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return *len > 0 ? 0 : -1;
}

/* The AK's own scheme, and the hash it signs with; 0 if unsupported. */
static uint16_t scheme_hash(const TPMT_PUBLIC *p, const TPMT_SIGNATURE *s)
{
	if (p->type == TPM2_ALG_RSA && s->sigAlg == TPM2_ALG_RSASSA &&
	    p->parameters.rsaDetail.scheme.scheme == TPM2_ALG_RSASSA &&
	    p->parameters.rsaDetail.scheme.details.rsassa.hashAlg == s->signature.rsassa.hash)
		return s->signature.rsassa.hash;
	if (p->type == TPM2_ALG_ECC && s->sigAlg == TPM2_ALG_ECDSA &&
	    p->parameters.eccDetail.scheme.scheme == TPM2_ALG_ECDSA &&
	    p->parameters.eccDetail.scheme.details.ecdsa.hashAlg == s->signature.ecdsa.hash)
		return s->signature.ecdsa.hash;
	return 0;
}

/*
 * An ECDSA signature's r and s padded to the curve's size, as a TPM writes
 * them (libtpms: BnTo2B to the order's bytes), so that leading zeros cannot
 * give one signature a second encoding.  (s and n - s both verify: that is
 * ECDSA's own, which no encoding rule can remove.)
 */
static int signature_canonical(const struct verify_work *w)
{
	const TPMS_ECC_PARMS *e = &w->ak_public.parameters.eccDetail;
	TPMT_SIGNATURE s;
	size_t off = 0, fs;

	if (w->ak_public.type != TPM2_ALG_ECC ||
	    Tss2_MU_TPMT_SIGNATURE_Unmarshal(w->b.signature.data, w->b.signature.len, &off, &s) ||
	    s.sigAlg != TPM2_ALG_ECDSA)
		return 1;
	fs = e->curveID == TPM2_ECC_NIST_P256 ? 32 : e->curveID == TPM2_ECC_NIST_P384 ? 48 : 0;
	return s.signature.ecdsa.signatureR.size == fs && s.signature.ecdsa.signatureS.size == fs;
}

/* 0 when key (pub's) signed attest with sig in pub's own scheme; *hash gets its hash. */
int verify_tpm_signature(const TPMT_PUBLIC *pub, EVP_PKEY *key, const struct bundle_blob *sigb,
			 const struct bundle_blob *attest, uint16_t *hash)
{
	TPMT_SIGNATURE s;
	EVP_MD_CTX *mc = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig;
	size_t off = 0, siglen;
	int len = 0, ok = 0;

	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigb->data, sigb->len, &off, &s) ||
	    off != sigb->len || !(*hash = scheme_hash(pub, &s)) || !verify_md(*hash))
		return -1;
	if (s.sigAlg == TPM2_ALG_ECDSA) {
		if (ecdsa_der(&s.signature.ecdsa, &der, &len))
			return -1;
		sig = der;
		siglen = (size_t)len;
	} else {
		sig = s.signature.rsassa.sig.buffer;
		siglen = s.signature.rsassa.sig.size;
	}
	mc = EVP_MD_CTX_new();
	ok = mc && EVP_DigestVerifyInit(mc, NULL, verify_md(*hash), NULL, key) == 1 &&
	     EVP_DigestVerify(mc, sig, siglen, attest->data, attest->len) == 1;
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* 0 when the AK signed the attest bytes; *hash gets the scheme's hash. */
static int signature_check(struct verify_work *w, uint16_t *hash)
{
	return verify_tpm_signature(&w->ak_public, w->ak_key, &w->b.signature, &w->b.attest,
				    hash);
}

static int bank_index(const struct bundle_pcrs *p, uint16_t alg)
{
	for (uint32_t i = 0; i < p->banks.count; i++)
		if (p->banks.alg[i] == alg)
			return (int)i;
	return -1;
}

/* Selection == the bundle's PCRs exactly; digest over them in selection order. */
static void pcrs_check(struct verify_work *w, uint16_t hash, struct verify_result *res)
{
	const TPML_PCR_SELECTION *sel = &w->attest.attested.quote.pcrSelect;
	const struct bundle_pcrs *p = &w->b.pcrs;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t d[EVP_MAX_MD_SIZE];
	uint32_t seen = 0;
	unsigned int n = 0;
	int ok = mc && EVP_DigestInit_ex(mc, verify_md(hash), NULL);

	for (uint32_t i = 0; ok && i < sel->count; i++) {
		int b = bank_index(p, sel->pcrSelections[i].hash);
		uint32_t mask = 0;

		for (uint32_t j = 0; j < sel->pcrSelections[i].sizeofSelect && j < 3; j++)
			mask |= (uint32_t)sel->pcrSelections[i].pcrSelect[j] << (8 * j);
		if (b < 0 || (seen & (1u << b)) || mask != p->mask[b] ||
		    sel->pcrSelections[i].sizeofSelect > 3) {
			verify_fail(res, VR_PCR_SELECTION, "quoted PCR selection differs from the bundle's");
			EVP_MD_CTX_free(mc);
			return;
		}
		seen |= 1u << b;
		for (uint32_t pcr = 0; ok && pcr < EVLOG_NUM_PCRS; pcr++)
			if (mask & (1u << pcr))
				ok = EVP_DigestUpdate(mc, p->value[b][pcr], p->banks.size[b]);
	}
	ok = ok && EVP_DigestFinal_ex(mc, d, &n);
	EVP_MD_CTX_free(mc);
	if (ok && seen != (1u << p->banks.count) - 1)
		verify_fail(res, VR_PCR_SELECTION, "a bank of the bundle was not quoted");
	else if (!ok || n != w->attest.attested.quote.pcrDigest.size ||
		 memcmp(d, w->attest.attested.quote.pcrDigest.buffer, n))
		verify_fail(res, VR_PCR_DIGEST, "PCR values differ from the quoted digest");
}

static void nonce_check(struct verify_ctx *ctx, struct verify_result *res)
{
	const TPM2B_DATA *x = &ctx->w.attest.extraData;
	const struct bundle *b = &ctx->w.b;
	int rc;

	if (x->size != b->nonce_len || memcmp(x->buffer, b->nonce, b->nonce_len)) {
		verify_fail(res, VR_NONCE_MISMATCH, "the quote carries another nonce");
		return;
	}
	if (ctx->issued.n) {
		rc = verify_nonce_lookup(&ctx->issued, b->nonce, b->nonce_len, 0);
		if (rc != 1)
			verify_fail(res, VR_NONCE_WRONG, "nonce %s was not issued", res->nonce_hex);
		res->fresh = rc == 1;
	}
	rc = verify_nonce_lookup(&ctx->used, b->nonce, b->nonce_len, 1);
	if (rc)
		verify_fail(res, rc == 1 ? VR_NONCE_REPLAYED : VR_INTERNAL,
			    "nonce %s already used", res->nonce_hex);
}

int verify_quote(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_work *w = &ctx->w;
	uint16_t hash = 0;
	size_t off = 0;

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(w->b.attest.data, w->b.attest.len, &off, &w->attest) ||
	    off != w->b.attest.len) {
		verify_fail(res, VR_ATTEST_MALFORMED, "TPMS_ATTEST malformed");
		return -1;
	}
	if (w->attest.magic != TPM2_GENERATED_VALUE)
		verify_fail(res, VR_ATTEST_MAGIC, "magic 0x%08x", w->attest.magic);
	if (w->attest.type != TPM2_ST_ATTEST_QUOTE) {
		verify_fail(res, VR_ATTEST_TYPE, "type 0x%04x is not a quote", w->attest.type);
		return -1;
	}
	res->clock = w->attest.clockInfo.clock;
	res->reset_count = w->attest.clockInfo.resetCount;
	res->restart_count = w->attest.clockInfo.restartCount;
	res->clock_safe = w->attest.clockInfo.safe == TPM2_YES;
	res->clock_known = 1;
	if (signature_check(w, &hash))
		verify_fail(res, VR_SIGNATURE, "quote not signed by the certified AK");
	else if (!signature_canonical(w))
		verify_fail(res, VR_BUNDLE_NOT_CANONICAL, "quote signature: ECDSA r or s not "
			    "padded to the curve's size");
	nonce_check(ctx, res);
	if (hash)
		pcrs_check(w, hash, res);
	else
		verify_fail(res, VR_PCR_DIGEST, "no usable hash to check the PCR digest with");
	return 0;
}
