/* SPDX-License-Identifier: Apache-2.0 */
/* First-start enrollment and the guest's identity (attestd.h). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest/producer/attestd.h"
#include "attest/producer/host_quote.h"
#include "attest/producer/quote_vtpm.h"
#include "attest/verify/verify.h"
#include "attest/vtpm/measure.h"
#include "core/log.h"
#include "core/util.h"

/* DIR/NAME removed; 0 when it is gone (also when it never was). */
static int unlink_at_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

/* Creates path and its missing parents (mode for the ones created). */
static int attestd_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (path[0] != '/' || snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -EINVAL;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	if (lstat(tmp, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		log_err("%s: not a directory owned by us and closed to others", path);
		return -EPERM;
	}
	return 0;
}

/* dir/name, atomically (O_EXCL temporary, fsync, rename), mode. */
static int attestd_uuid_valid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int attestd_uuid(const char *state_dir, char uuid[37])
{
	char path[PATH_MAX];
	uint8_t *buf = NULL, r[16];
	size_t len = 0;
	int rc;

	if (snprintf(path, sizeof(path), "%s/uuid", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = bundle_read_file(path, 64, &buf, &len);
	if (!rc) {
		if (len && buf[len - 1] == '\n')
			len--;
		rc = attestd_uuid_valid((char *)buf, len) ? 0 : -EBADMSG;
		if (!rc)
			memcpy(uuid, buf, 37), uuid[36] = '\0';
		else
			log_err("%s: not one UUID", path);
		free(buf);
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);      /* version 4 */
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);      /* RFC 4122 variant */
	snprintf(uuid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
		 r[12], r[13], r[14], r[15]);
	snprintf(path, sizeof(path), "%s\n", uuid);
	return attest_file_put_at(state_dir, "uuid", path, 37, 0600);
}

/* A self-signed P-256 attestation CA valid 20 years. */
static int attestd_ca_make(X509 **cert, EVP_PKEY **key)
{
	X509 *x = X509_new();
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_EXTENSION *e[3] = { NULL };
	X509V3_CTX v3;
	int ok = x && k && X509_set_version(x, 2) &&
		 ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
		 X509_gmtime_adj(X509_getm_notAfter(x), 20L * 365 * 86400) &&
		 X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
			(const unsigned char *)"Bulwark local attestation CA", -1, -1, 0) &&
		 X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, k);

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	e[0] = ok ? X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE") : NULL;
	e[1] = ok ? X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") : NULL;
	e[2] = ok ? X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash") : NULL;
	for (size_t i = 0; i < 3; i++)
		ok = ok && e[i] && X509_add_ext(x, e[i], -1);
	ok = ok && X509_sign(x, k, EVP_sha256());
	for (size_t i = 0; i < 3; i++)
		X509_EXTENSION_free(e[i]);
	if (!ok) {
		X509_free(x);
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*cert = x;
	*key = k;
	return 0;
}

static int attestd_ca_store(const char *dir, X509 *cert, EVP_PKEY *key)
{
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char *kp = NULL, *cp = NULL;
	long kn, cn;
	int rc = kb && cb && PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) &&
		 PEM_write_bio_X509(cb, cert) ? 0 : -ENOMEM;

	kn = kb ? BIO_get_mem_data(kb, &kp) : 0;
	cn = cb ? BIO_get_mem_data(cb, &cp) : 0;
	rc = rc ? rc : attest_file_put_at(dir, "ca.key", kp, (size_t)kn, 0600);
	rc = rc ? rc : attest_file_put_at(dir, "ca.crt", cp, (size_t)cn, 0644);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* CA_DIR/ca.crt + ca.key, created on first use under CA_DIR/.lock. */
static int attestd_ca_load(const char *dir, X509 **cert, EVP_PKEY **key)
{
	char path[PATH_MAX];
	FILE *f;
	int lock, rc = attestd_mkdirs(dir, 0700);

	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	lock = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX)) {
		rc = -errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		rc = attestd_ca_make(cert, key);
		rc = rc ? rc : attestd_ca_store(dir, *cert, *key);
		if (!rc)
			log_info("attestation CA created in %s", dir);
		goto out;
	}
	*key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	f = fopen(path, "re");
	*cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	rc = *key && *cert && X509_check_private_key(*cert, *key) == 1 ? 0 : -EINVAL;
	if (rc)
		log_err("%s: attestation CA certificate or key unusable", dir);
out:
	if (rc) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}
	if (lock >= 0)
		close(lock);
	ERR_clear_error();
	return rc;
}

static int attestd_read_in(const char *dir, const char *name, size_t max, struct bundle_blob *b)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return bundle_read_file(path, max, &b->data, &b->len);
}

/* Every PEM certificate of path as DER into c->chain (at most BUNDLE_MAX_CHAIN). */
static int attestd_read_chain(const char *path, struct bundle_chain *c)
{
	FILE *f = fopen(path, "re");
	X509 *x;
	int rc = f ? 0 : -errno;

	while (!rc && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);

		X509_free(x);
		if (n <= 0 || c->nchain == BUNDLE_MAX_CHAIN) {
			rc = n <= 0 ? -EINVAL : -E2BIG;
		} else {
			c->chain[c->nchain].data = malloc((size_t)n);
			rc = c->chain[c->nchain].data ? 0 : -ENOMEM;
			if (!rc)
				memcpy(c->chain[c->nchain].data, der, (size_t)n);
			c->chain[c->nchain++].len = (size_t)n;
		}
		OPENSSL_free(der);
	}
	if (f)
		fclose(f);
	ERR_clear_error();
	return !rc && !c->nchain ? -EINVAL : rc;
}

static int attestd_blob_eq(const char *dir, const char *name, const void *b, size_t len)
{
	struct bundle_blob f = { 0 };
	int eq = !attestd_read_in(dir, name, BUNDLE_MAX_CERT, &f) && f.len == len &&
		 !memcmp(f.data, b, len);

	free(f.data);
	return eq;
}

static int attestd_has(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
	       !access(path, F_OK);
}

/*
 * Enrollment bound to the host: the host quote over the new AK's Name.
 * Without a host TPM, the files of an earlier enrollment go (they bind
 * another AK, and the bundle would carry them).
 */
static int attestd_host_bind(const struct attestd_enroll_config *cfg, const char *dir,
			     const TPMT_PUBLIC *ak)
{
	static const char *const files[] = { "host-enroll.attest", "host-enroll.sig",
		"host-enroll.pcr10", "host-enroll.ima" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	if (!cfg->host_tpm)
		return 0;
	return cfg->host_bind(dir, cfg->host_dir, cfg->host_tpm,
			      cfg->host_ima ? cfg->host_ima : HOST_IMA_PATH, ak);
}

static const char *attestd_alg_text(enum quote_ak_alg alg)
{
	return alg == QUOTE_AK_P256 ? "p256\n" : "rsa2048\n";
}

/* ak.policy: the AK's authPolicy (verify_ak_policy()) in hex, a line. */
static int attestd_policy_text(const char *uuid, char text[66])
{
	uint8_t d[32];
	int rc = verify_ak_policy(uuid, d);

	if (rc)
		return rc;
	hex_encode(d, sizeof(d), text);
	text[64] = '\n';
	text[65] = '\0';
	return 0;
}

/*
 * The stored enrollment is still good: same guest and UUID, same AK
 * algorithm, an AK certified under the current AK policy (an AK enrolled
 * before the UUID was in its policy is enrolled again), same EK certificate
 * (the vTPM state was not recreated), an AK certificate signed by the
 * current attestation CA, and, when a host TPM is configured (host), the
 * host quote made at enrollment.
 */
static int attestd_stored(const char *dir, const char *ident, const char *uuid,
			  enum quote_ak_alg alg, const struct bundle_blob *ek, X509 *ca,
			  int host, struct bundle_blob *ak)
{
	const unsigned char *p;
	char policy[66];
	X509 *x;
	int ok;

	/* A guest never enrolled has no ak.policy: not an error to log. */
	if (attestd_policy_text(uuid, policy) || !attestd_has(dir, "ak.policy") ||
	    (host && !attestd_has(dir, "host-enroll.attest")) ||
	    !attestd_blob_eq(dir, "ak.policy", policy, strlen(policy)) ||
	    !attestd_blob_eq(dir, "identity", ident, strlen(ident)) ||
	    !attestd_blob_eq(dir, "ak.alg", attestd_alg_text(alg), strlen(attestd_alg_text(alg))) ||
	    !attestd_blob_eq(dir, "ek.crt", ek->data, ek->len) ||
	    attestd_read_in(dir, "ak.crt", BUNDLE_MAX_CERT, ak))
		return 0;
	p = ak->data;
	x = d2i_X509(NULL, &p, (long)ak->len);
	ok = x && p == ak->data + ak->len && X509_verify(x, X509_get0_pubkey(ca)) == 1;
	X509_free(x);
	ERR_clear_error();
	if (!ok) {
		free(ak->data);
		ak->data = NULL;
		ak->len = 0;
	}
	return ok;
}

struct attestd_enroll_ctx {
	const struct attestd_enroll_config *cfg;
	char state[PATH_MAX], dir[PATH_MAX], ident[128];
	X509 *ca;
	EVP_PKEY *ca_key;
};

/* EK_CA_DIR/swtpm-localca-rootca-cert.pem: this host's EK anchors. */
static int attestd_anchors_load(X509_STORE *anchors, const char *ek_ca_dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/swtpm-localca-rootca-cert.pem", ek_ca_dir) >=
	    (int)sizeof(path) || X509_STORE_load_file(anchors, path) != 1) {
		log_err("guest %s: EK anchors %s unusable", name, path);
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

/* quote_vtpm_enroll, then the attestation directory (cmd_attest.h). */
static int attestd_enroll_run(struct attestd_enroll_ctx *c, struct vtpm *v,
			      struct attestd_guest *id)
{
	const unsigned char *p = id->g.ek.cert.data;
	X509 *ek = d2i_X509(NULL, &p, (long)id->g.ek.cert.len);
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = id->name, .uuid = id->uuid, .alg = c->cfg->alg,
		.ek_cert = ek, .ek_chain = mid, .ek_anchors = anchors, .ca_cert = c->ca,
		.ca_key = c->ca_key, .days = c->cfg->days > 0 ? c->cfg->days : 3650 };
	struct enroll_result res = { 0 };
	unsigned char *der = NULL;
	char policy[66];
	int n, rc = ek && anchors && mid ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < id->g.ek.nchain; i++) {
		X509 *x;

		p = id->g.ek.chain[i].data;
		x = d2i_X509(NULL, &p, (long)id->g.ek.chain[i].len);
		if (!x || !sk_X509_push(mid, x)) {
			X509_free(x);
			rc = -EINVAL;
		}
	}
	if (!rc && attestd_anchors_load(anchors, c->cfg->ek_ca_dir, id->name))
		rc = -EINVAL;
	rc = rc ? rc : quote_vtpm_enroll(v, &req, &res);
	n = rc ? 0 : i2d_X509(res.ak_cert, &der);
	if (!rc && n <= 0)
		rc = -EINVAL;
	rc = rc ? rc : attest_file_put_at(c->dir, "ek.crt", id->g.ek.cert.data, id->g.ek.cert.len, 0644);
	rc = rc ? rc : attest_file_put_at(c->dir, "ak.crt", der, (size_t)n, 0644);
	rc = rc ? rc : attest_file_put_at(c->dir, "ak.alg", attestd_alg_text(c->cfg->alg),
				   strlen(attestd_alg_text(c->cfg->alg)), 0644);
	rc = rc ? rc : attest_file_put_at(c->dir, "identity", c->ident, strlen(c->ident), 0644);
	rc = rc ? rc : attestd_policy_text(id->uuid, policy);
	rc = rc ? rc : attest_file_put_at(c->dir, "ak.policy", policy, strlen(policy), 0644);
	rc = rc ? rc : attestd_host_bind(c->cfg, c->dir, &res.ak_pub.publicArea);
	if (!rc) {
		id->g.ak.cert.data = malloc((size_t)n);
		rc = id->g.ak.cert.data ? 0 : -ENOMEM;
		if (!rc)
			memcpy(id->g.ak.cert.data, der, (size_t)n);
		id->g.ak.cert.len = rc ? 0 : (size_t)n;
	}
	OPENSSL_free(der);
	X509_free(res.ak_cert);
	X509_free(ek);
	sk_X509_pop_free(mid, X509_free);
	X509_STORE_free(anchors);
	ERR_clear_error();
	return rc;
}

static int attestd_enroll_check(const struct attestd_enroll_config *cfg, const char *label)
{
	size_t n = cfg->name ? strlen(cfg->name) : 0;

	if (!n || n > BUNDLE_NAME_MAX || strspn(cfg->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789_.-") != n || cfg->name[0] == '.' ||
	    !label || !label[0] || strlen(label) > BUNDLE_LABEL_MAX || !cfg->ek_cert_dir ||
	    !cfg->ek_ca_dir || (cfg->alg != QUOTE_AK_RSA2048 && cfg->alg != QUOTE_AK_P256) ||
	    !cfg->host_tpm != !cfg->host_dir || (cfg->host_tpm && !cfg->host_bind))
		return -EINVAL;
	return 0;
}

/* Paths, directories, the UUID, the CA and the EK certificates. */
static int attestd_enroll_prepare(struct attestd_enroll_ctx *c, const char *label,
				  struct attestd_guest *id)
{
	const struct attestd_enroll_config *cfg = c->cfg;
	char path[PATH_MAX];
	int rc;

	if (cfg->state_dir)
		snprintf(c->state, sizeof(c->state), "%s", cfg->state_dir);
	else
		snprintf(c->state, sizeof(c->state), "%s/%s", ATTESTD_STATE_DIR, cfg->name);
	if (snprintf(c->dir, sizeof(c->dir), "%s/attest", c->state) >= (int)sizeof(c->dir))
		return -ENAMETOOLONG;
	snprintf(id->name, sizeof(id->name), "%s", cfg->name);
	snprintf(id->label, sizeof(id->label), "%s", label);
	rc = attestd_mkdirs(c->state, 0700);
	rc = rc ? rc : attestd_mkdirs(c->dir, 0700);
	rc = rc ? rc : attestd_uuid(c->state, id->uuid);
	rc = rc ? rc : attestd_ca_load(cfg->ca_dir ? cfg->ca_dir : ATTESTD_CA_DIR, &c->ca,
				       &c->ca_key);
	snprintf(c->ident, sizeof(c->ident), "%s\n%s\n", id->name, id->uuid);
	rc = rc ? rc : attestd_read_in(cfg->ek_cert_dir, ATTESTD_EK_CERT, BUNDLE_MAX_CERT,
				       &id->g.ek.cert);
	/* A guest that migrated here keeps its EK chain beside its EK
	 * certificate (attestd_adopt); a guest made here: this host's. */
	snprintf(path, sizeof(path), "%s/" ATTESTD_EK_CHAIN, cfg->ek_cert_dir);
	if (access(path, F_OK))
		snprintf(path, sizeof(path), "%s/issuercert.pem", cfg->ek_ca_dir);
	rc = rc ? rc : attestd_read_chain(path, &id->g.ek);
	return rc;
}

int attestd_enroll_if_needed(const struct attestd_enroll_config *cfg, struct vtpm *v,
			     const char *label, struct attestd_guest *id)
{
	struct attestd_enroll_ctx c = { .cfg = cfg };
	int rc = attestd_enroll_check(cfg, label);

	memset(id, 0, sizeof(*id));
	if (rc) {
		log_err("guest %s: enrollment: invalid configuration", cfg->name ? cfg->name : "?");
		return rc;
	}
	rc = attestd_enroll_prepare(&c, label, id);
	if (!rc && attestd_stored(c.dir, c.ident, id->uuid, cfg->alg, &id->g.ek.cert, c.ca,
				  cfg->host_tpm != NULL, &id->g.ak.cert)) {
		log_info("guest %s: enrolled AK certificate in %s", id->name, c.dir);
	} else if (!rc) {
		rc = attestd_enroll_run(&c, v, id);
		if (!rc)
			log_info("guest %s (%s): enrolled, AK certificate in %s/ak.crt%s", id->name,
				 id->uuid, c.dir, cfg->host_tpm ? ", bound to a host quote" : "");
	}
	X509_free(c.ca);
	EVP_PKEY_free(c.ca_key);
	if (rc) {
		log_err("guest %s: enrollment failed: %s", cfg->name, strerror(-rc));
		attestd_guest_free(id);
		return rc;
	}
	id->g = (struct quote_guest){ .name = id->name, .uuid = id->uuid, .label = id->label,
		.alg = cfg->alg, .ak = id->g.ak, .ek = id->g.ek };
	return 0;
}

void attestd_guest_free(struct attestd_guest *id)
{
	struct bundle_chain *c[] = { &id->g.ak, &id->g.ek };

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		free(c[i]->cert.data);
		for (size_t j = 0; j < c[i]->nchain && j < BUNDLE_MAX_CHAIN; j++)
			free(c[i]->chain[j].data);
	}
	memset(id, 0, sizeof(*id));
}

/* One whole DER certificate, nothing after it. */
static X509 *attestd_der(const struct bundle_blob *b)
{
	const unsigned char *p = b->data;
	X509 *x = b->len && b->len <= BUNDLE_MAX_CERT ? d2i_X509(NULL, &p, (long)b->len) : NULL;

	if (x && p != b->data + b->len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int attestd_ek_check(const char *ek_ca_dir, const char *name, const struct bundle_chain *ek,
		     char *why, size_t whylen)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	X509 *leaf = attestd_der(&ek->cert);
	int rc = anchors && mid && sc ? 0 : -ENOMEM;

	if (!rc && !leaf)
		rc = -EBADMSG, snprintf(why, whylen, "the EK certificate is not one DER certificate");
	for (size_t i = 0; !rc && i < ek->nchain && i < BUNDLE_MAX_CHAIN; i++) {
		X509 *x = attestd_der(&ek->chain[i]);

		if (!x || !sk_X509_push(mid, x)) {
			X509_free(x);
			rc = -EBADMSG;
			snprintf(why, whylen, "EK chain certificate %zu is not one DER certificate", i);
		}
	}
	if (!rc && attestd_anchors_load(anchors, ek_ca_dir, name)) {
		rc = -EINVAL;
		snprintf(why, whylen, "this host's EK anchors (%s) are unusable", ek_ca_dir);
	}
	if (!rc && (X509_STORE_CTX_init(sc, anchors, leaf, mid) != 1 || X509_verify_cert(sc) != 1)) {
		rc = -EPERM;
		snprintf(why, whylen, "the EK certificate does not chain to this host's EK "
			 "anchors (%s/swtpm-localca-rootca-cert.pem): %s", ek_ca_dir,
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	}
	X509_STORE_CTX_free(sc);
	X509_free(leaf);
	sk_X509_pop_free(mid, X509_free);
	X509_STORE_free(anchors);
	ERR_clear_error();
	return rc;
}

/* The chain as one PEM file (attestd_read_chain reads it back). */
static int attestd_chain_put(const char *dir, const struct bundle_chain *ek)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int rc = b ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < ek->nchain && i < BUNDLE_MAX_CHAIN; i++) {
		X509 *x = attestd_der(&ek->chain[i]);

		rc = x && PEM_write_bio_X509(b, x) ? 0 : -EINVAL;
		X509_free(x);
	}
	n = b ? BIO_get_mem_data(b, &p) : 0;
	rc = rc ? rc : attest_file_put_at(dir, ATTESTD_EK_CHAIN, p, (size_t)n, 0644);
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

int attestd_adopt(const struct attestd_enroll_config *cfg, const char *uuid,
		  const struct bundle_chain *ek)
{
	char state[PATH_MAX], dir[PATH_MAX], line[38];
	int rc;

	if (!cfg->name || !cfg->ek_cert_dir || !uuid || !attestd_uuid_valid(uuid, strlen(uuid)) ||
	    !ek->nchain || ek->nchain > BUNDLE_MAX_CHAIN)
		return -EINVAL;
	if (cfg->state_dir)
		snprintf(state, sizeof(state), "%s", cfg->state_dir);
	else
		snprintf(state, sizeof(state), "%s/%s", ATTESTD_STATE_DIR, cfg->name);
	if (snprintf(dir, sizeof(dir), "%s/attest", state) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	/* The enrollment of the TPM this host made first goes before anything
	 * else: its AK is not the migrated TPM's (an error below leaves no
	 * enrollment, never a stale one). */
	rc = attestd_mkdirs(state, 0700);
	if (!rc && unlink_at_dir(dir, "ak.crt"))
		rc = -errno;
	snprintf(line, sizeof(line), "%s\n", uuid);
	rc = rc ? rc : attest_file_put_at(state, "uuid", line, 37, 0600);
	rc = rc ? rc : attest_file_put_at(cfg->ek_cert_dir, ATTESTD_EK_CERT, ek->cert.data,
					  ek->cert.len, 0644);
	rc = rc ? rc : attestd_chain_put(cfg->ek_cert_dir, ek);
	if (rc)
		log_err("guest %s: the migrated identity not stored: %s", cfg->name, strerror(-rc));
	else
		log_info("guest %s: identity %s and its EK certificate taken from the source",
			 cfg->name, uuid);
	return rc;
}
