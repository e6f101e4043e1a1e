/* SPDX-License-Identifier: Apache-2.0 */
/* Enrollment: credential activation and the AK certificate (enroll.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/format/bundle.h"
#include "attest/producer/enroll.h"
#include "attest/verify/verify_priv.h"
#include "core/log.h"
#include "core/util.h"

/* KDFa (TPM 2.0 Part 1, 11.4.10.2) with SHA-256, up to 32 bytes out. */
static int kdfa(const uint8_t *key, size_t klen, const char *label, const uint8_t *u,
		size_t ulen, uint32_t bits, uint8_t *out)
{
	uint8_t msg[4 + 16 + 1 + 2 + 64 + 4], mac[32];
	size_t llen = strlen(label) + 1, n = 0, off = 0;
	unsigned int mlen = 0;

	if (bits > 256 || llen > 16 || ulen > 66)
		return -EINVAL;
	(void)Tss2_MU_UINT32_Marshal(1, msg, sizeof(msg), &off);       /* counter */
	memcpy(msg + off, label, llen);
	off += llen;
	if (ulen)
		memcpy(msg + off, u, ulen);
	off += ulen;
	(void)Tss2_MU_UINT32_Marshal(bits, msg, sizeof(msg), &off);
	n = off;
	if (!HMAC(EVP_sha256(), key, (int)klen, msg, n, mac, &mlen))
		return -EIO;
	memcpy(out, mac, bits / 8);
	return 0;
}

/* RSA-OAEP(SHA-256, label "IDENTITY\0") of the seed to the EK. */
static int seed_encrypt(EVP_PKEY *ek, const uint8_t *seed, size_t len,
			TPM2B_ENCRYPTED_SECRET *enc)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(ek, NULL);
	unsigned char *label = OPENSSL_memdup("IDENTITY", 9);
	size_t out = sizeof(enc->secret);
	int ok = pc && label && EVP_PKEY_encrypt_init(pc) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
		 EVP_PKEY_CTX_set0_rsa_oaep_label(pc, label, 9) == 1;

	if (ok)
		label = NULL;         /* owned by pc now */
	ok = ok && EVP_PKEY_encrypt(pc, enc->secret, &out, seed, len) == 1;
	enc->size = ok ? (uint16_t)out : 0;
	OPENSSL_free(label);
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -EIO;
}

static int aes_cfb(const uint8_t key[16], const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;
	int ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv) == 1 &&
		 EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
		 EVP_EncryptFinal_ex(c, out + n, &m) == 1 && (size_t)(n + m) == len;

	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

int enroll_make_credential(EVP_PKEY *ek, const uint8_t *name, size_t name_len,
			   const uint8_t *secret, size_t secret_len, TPM2B_ID_OBJECT *blob,
			   TPM2B_ENCRYPTED_SECRET *enc)
{
	uint8_t seed[32], sym[16], hkey[32], plain[2 + 64], *enc_id, mac[32];
	uint8_t hmsg[2 + 64 + 2 + 64];
	unsigned int mlen = 0;
	size_t off = 0, plen = 2 + secret_len;
	int rc;

	if (secret_len > 64 || name_len > 66 || EVP_PKEY_get_base_id(ek) != EVP_PKEY_RSA)
		return -EINVAL;
	(void)Tss2_MU_UINT16_Marshal((uint16_t)secret_len, plain, sizeof(plain), &off);
	memcpy(plain + 2, secret, secret_len);
	rc = RAND_bytes(seed, sizeof(seed)) == 1 ? 0 : -EIO;
	rc = rc ? rc : seed_encrypt(ek, seed, sizeof(seed), enc);
	rc = rc ? rc : kdfa(seed, sizeof(seed), "STORAGE", name, name_len, 128, sym);
	rc = rc ? rc : kdfa(seed, sizeof(seed), "INTEGRITY", NULL, 0, 256, hkey);
	if (rc)
		return rc;
	/* TPM2B_ID_OBJECT: integrityHMAC (TPM2B_DIGEST) || encIdentity */
	enc_id = blob->credential + 2 + sizeof(mac);
	rc = aes_cfb(sym, plain, plen, enc_id);
	memcpy(hmsg, enc_id, plen);
	memcpy(hmsg + plen, name, name_len);
	if (rc || !HMAC(EVP_sha256(), hkey, sizeof(hkey), hmsg, plen + name_len, mac, &mlen))
		return rc ? rc : -EIO;
	off = 0;
	(void)Tss2_MU_UINT16_Marshal(sizeof(mac), blob->credential, sizeof(blob->credential),
				     &off);
	memcpy(blob->credential + 2, mac, sizeof(mac));
	blob->size = (uint16_t)(2 + sizeof(mac) + plen);
	OPENSSL_cleanse(seed, sizeof(seed));
	return 0;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	return ok ? 0 : -EINVAL;
}

/* The SAN that binds guest, AK Name and EK key. */
static int san_text(const struct enroll_request *req, const TPMT_PUBLIC *ak, char *out,
		    size_t cap)
{
	uint8_t name[2 + 64], h[32];
	char name_hex[2 * sizeof(name) + 1], ek_hex[65];
	unsigned char *der = NULL;
	size_t nlen = 0;
	int n = i2d_PUBKEY(X509_get0_pubkey(req->ek_cert), &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, h, NULL, EVP_sha256(), NULL) &&
		 !quote_name(ak, name, sizeof(name), &nlen);

	OPENSSL_free(der);
	if (!ok)
		return -EINVAL;
	hex_encode(name, nlen, name_hex);
	hex_encode(h, sizeof(h), ek_hex);
	n = snprintf(out, cap, "URI:%s%s,URI:%s%s,URI:%s%s", VERIFY_AK_SAN_UUID, req->uuid,
		     VERIFY_AK_SAN_NAME, name_hex, VERIFY_AK_SAN_EK, ek_hex);
	return n > 0 && (size_t)n < cap ? 0 : -E2BIG;
}

static int cert_fill(X509 *x, const struct enroll_request *req, EVP_PKEY *key)
{
	BIGNUM *bn = BN_new();
	X509_NAME *subj = X509_NAME_new();
	int ok = bn && subj && X509_set_version(x, 2) &&
		 BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
		 X509_set_issuer_name(x, X509_get_subject_name(req->ca_cert)) &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
		 X509_gmtime_adj(X509_getm_notAfter(x), (long)req->days * 86400) &&
		 X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
					    (const unsigned char *)req->name, -1, -1, 0) &&
		 X509_set_subject_name(x, subj) && X509_set_pubkey(x, key);

	BN_free(bn);
	X509_NAME_free(subj);
	return ok ? 0 : -EINVAL;
}

int enroll_issue(const struct enroll_request *req, const TPMT_PUBLIC *ak, X509 **out)
{
	char san[512];
	X509V3_CTX v3;
	EVP_PKEY *key = verify_tpm_pkey(ak);
	X509 *x = X509_new();
	int rc = key && x && req->days > 0 ? 0 : -EINVAL;

	rc = rc ? rc : cert_fill(x, req, key);
	rc = rc ? rc : san_text(req, ak, san, sizeof(san));
	if (!rc) {
		X509V3_set_ctx(&v3, req->ca_cert, x, NULL, NULL, 0);
		rc = ext_add(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
		rc = rc ? rc : ext_add(x, &v3, NID_key_usage, "critical,digitalSignature");
		rc = rc ? rc : ext_add(x, &v3, NID_subject_key_identifier, "hash");
		rc = rc ? rc : ext_add(x, &v3, NID_authority_key_identifier, "keyid:always");
		rc = rc ? rc : ext_add(x, &v3, NID_subject_alt_name, san);
	}
	if (!rc && !X509_sign(x, req->ca_key, EVP_sha256()))
		rc = -EIO;
	EVP_PKEY_free(key);
	if (rc) {
		X509_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

/* Step 1: the EK certificate chains to a trusted EK CA. */
static int ek_trusted(const struct enroll_request *req)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = sc && X509_STORE_CTX_init(sc, req->ek_anchors, req->ek_cert,
					   req->ek_chain) == 1 && X509_verify_cert(sc) == 1;

	if (!ok)
		log_err("guest %s: EK certificate not trusted: %s", req->name,
			sc ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)) : "?");
	X509_STORE_CTX_free(sc);
	return ok ? 0 : -EPERM;
}

/* Steps 3-4 with the EK loaded: the AK must activate the credential. */
static int activate(const struct quote_tpm *t, const struct enroll_request *req, const struct quote_key *ek,
		    struct quote_key *ak)
{
	uint8_t secret[32];
	TPM2B_ID_OBJECT blob;
	TPM2B_ENCRYPTED_SECRET enc;
	TPM2B_DIGEST got = { 0 };
	int rc = req->host_hw ? quote_ak_create_host(t, req->alg, req->uuid, ak) :
				quote_ak_create(t, req->alg, req->uuid, ak);

	if (rc)
		return rc;
	rc = RAND_bytes(secret, sizeof(secret)) == 1 ? 0 : -EIO;
	/* The enroller's own Name for the AK, from the public area (recomputed). */
	rc = rc ? rc : quote_name(&ak->pub.publicArea, ak->name, sizeof(ak->name), &ak->name_len);
	rc = rc ? rc : enroll_make_credential(X509_get0_pubkey(req->ek_cert), ak->name,
					      ak->name_len, secret, sizeof(secret), &blob, &enc);
	rc = rc ? rc : quote_activate(t, ak, ek, &blob, &enc, &got);
	if (!rc && (got.size != sizeof(secret) || CRYPTO_memcmp(got.buffer, secret, sizeof(secret))))
		rc = -EPERM;
	if (rc)
		log_err("guest %s: credential activation failed: %s", req->name, strerror(-rc));
	quote_flush(t, ak->handle);
	return rc;
}

int enroll_guest(const struct quote_tpm *t, const struct enroll_request *req, struct enroll_result *res)
{
	struct quote_key ek, ak;
	EVP_PKEY *tpm_ek = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = ek_trusted(req);
	rc = rc ? rc : quote_ek_create(t, &ek);
	if (rc)
		return rc;
	tpm_ek = verify_tpm_pkey(&ek.pub.publicArea);
	if (!tpm_ek || EVP_PKEY_eq(tpm_ek, X509_get0_pubkey(req->ek_cert)) != 1) {
		log_err("guest %s: the vTPM's EK is not the certified one", req->name);
		rc = -EPERM;
	}
	rc = rc ? rc : activate(t, req, &ek, &ak);
	EVP_PKEY_free(tpm_ek);
	quote_flush(t, ek.handle);
	if (!rc && (rc = enroll_issue(req, &ak.pub.publicArea, &res->ak_cert)))
		log_err("guest %s: cannot issue the AK certificate: %s", req->name, strerror(-rc));
	if (!rc) {
		res->ak_pub = ak.pub;
		log_info("guest %s: AK enrolled (credential activated), certificate issued",
			 req->name);
	}
	return rc;
}
