/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host credentials for the migration channel (core/launch/migkeys.h), with
 * OpenSSL: EC P-256 keys, X.509 v3 certificates that pass OpenSSL's strict
 * chain checks (X509_V_FLAG_X509_STRICT, as migchan verifies).
 */
#include "core/launch/migkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/launch/migchan_int.h"
#include "core/util.h"

#define CA_DAYS   3650
#define HOST_DAYS 1095

/* A new file PATH (O_EXCL, MODE) written by PEM writer W; 0 or -errno. */
static int pem_out(const char *path, mode_t mode, int (*w)(FILE *, const void *),
		   const void *obj, char *why, size_t whylen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode), rc = 0;
	FILE *f;

	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	f = fdopen(fd, "w");
	if (!f || !w(f, obj) || fflush(f) || fsync(fd))
		rc = -EIO;
	if (f ? fclose(f) : close(fd))
		rc = -EIO;
	if (rc) {
		snprintf(why, whylen, "%s: cannot write it", path);
		unlink(path);
	}
	return rc;
}

static int w_key(FILE *f, const void *k)
{
	return PEM_write_PrivateKey(f, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

static int w_crt(FILE *f, const void *x)
{
	return PEM_write_X509(f, (X509 *)x);
}

static int add_ext(X509 *x, X509V3_CTX *c, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, c, nid, v);
	int ok = e && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	return ok ? 0 : -EINVAL;
}

/* A certificate for KEY named CN, signed by ISSUER/IKEY (NULL: itself). */
static X509 *cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	X509V3_CTX c;
	int bad;

	bad = !x || !bn || !X509_set_version(x, 2) || !BN_rand(bn, 127, 0, 0) ||
	      !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	      !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	      !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * (issuer ? HOST_DAYS : CA_DAYS)) ||
	      !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					  (const unsigned char *)cn, -1, -1, 0) ||
	      !X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x)) ||
	      !X509_set_pubkey(x, key);
	BN_free(bn);
	if (!bad) {
		X509V3_set_ctx(&c, issuer ? issuer : x, x, NULL, NULL, 0);
		bad = add_ext(x, &c, NID_subject_key_identifier, "hash") ||
		      add_ext(x, &c, NID_authority_key_identifier, "keyid:always") ||
		      (issuer ? add_ext(x, &c, NID_basic_constraints, "critical,CA:FALSE") ||
				add_ext(x, &c, NID_key_usage, "critical,digitalSignature") ||
				add_ext(x, &c, NID_ext_key_usage, "serverAuth,clientAuth") :
				add_ext(x, &c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
				add_ext(x, &c, NID_key_usage, "critical,keyCertSign,cRLSign"));
	}
	if (bad || !X509_sign(x, ikey ? ikey : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int path_in(char *out, size_t cap, const char *dir, const char *file)
{
	return snprintf(out, cap, "%s/%s", dir, file) >= (int)cap ? -ENAMETOOLONG : 0;
}

static int dir_make(const char *dir, char *why, size_t whylen)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int rc = -errno;

		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	return 0;
}

/* The CA's key and certificate, loaded (made first when absent). */
static int ca_load(const char *dir, EVP_PKEY **key, X509 **crt, char *why, size_t whylen)
{
	char kp[PATH_MAX], cp[PATH_MAX];
	FILE *f;
	int rc = dir_make(dir, why, whylen);

	*key = NULL;
	*crt = NULL;
	if (rc || path_in(kp, sizeof(kp), dir, "ca.key") || path_in(cp, sizeof(cp), dir, "ca.crt"))
		return rc ? rc : -ENAMETOOLONG;
	if (access(kp, F_OK)) {
		uint8_t id[4];
		char cn[40], hex[9];

		/* a name of its own: another CA's certificates are then "unable
		 * to get local issuer certificate", not a name clash */
		if (RAND_bytes(id, sizeof(id)) != 1)
			return -EIO;
		hex_encode(id, sizeof(id), hex);
		snprintf(cn, sizeof(cn), "bulwark-migrate-ca-%s", hex);
		*key = EVP_EC_gen("P-256");
		*crt = *key ? cert_make(*key, cn, NULL, NULL) : NULL;
		if (!*crt) {
			snprintf(why, whylen, "cannot make a CA: OpenSSL failed");
			return -EIO;
		}
		rc = pem_out(kp, 0600, w_key, *key, why, whylen);
		rc = rc ? rc : pem_out(cp, 0644, w_crt, *crt, why, whylen);
		return rc;
	}
	f = migchan_file_open(kp, true, why, whylen);
	*key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = *key ? migchan_file_open(cp, false, why, whylen) : NULL;
	*crt = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!*crt || X509_check_private_key(*crt, *key) != 1) {
		if (!why[0])
			snprintf(why, whylen, "%s: not a CA made by migrate-keys", dir);
		return -EINVAL;
	}
	return 0;
}

int migkeys_ca(const char *dir, char *why, size_t whylen)
{
	EVP_PKEY *k;
	X509 *x;
	int rc;

	why[0] = '\0';
	rc = ca_load(dir, &k, &x, why, whylen);
	EVP_PKEY_free(k);
	X509_free(x);
	return rc;
}

static int host_files(const char *out, EVP_PKEY *key, X509 *crt, X509 *ca,
		      char *why, size_t whylen)
{
	char kp[PATH_MAX], cp[PATH_MAX], ap[PATH_MAX];
	int rc;

	if (path_in(kp, sizeof(kp), out, "host.key") || path_in(cp, sizeof(cp), out, "host.crt") ||
	    path_in(ap, sizeof(ap), out, "ca.crt"))
		return -ENAMETOOLONG;
	rc = pem_out(kp, 0600, w_key, key, why, whylen);
	if (rc)
		return rc;
	unlink(cp);
	rc = pem_out(cp, 0644, w_crt, crt, why, whylen);
	if (!rc && access(ap, F_OK) == 0) {
		FILE *f = migchan_file_open(ap, false, why, whylen);
		X509 *old = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

		if (f)
			fclose(f);
		if (!old || X509_cmp(old, ca)) {
			snprintf(why, whylen, "%s exists and is another CA's", ap);
			rc = -EEXIST;
		}
		X509_free(old);
	} else if (!rc) {
		rc = pem_out(ap, 0644, w_crt, ca, why, whylen);
	}
	if (rc)
		unlink(kp), unlink(cp);
	return rc;
}

int migkeys_host(const char *ca_dir, const char *out, const char *cn,
		 char pin[MIGKEYS_PIN_LEN + 1], char *why, size_t whylen)
{
	EVP_PKEY *ck = NULL, *k = NULL;
	X509 *ca = NULL, *x = NULL;
	uint8_t sha[32];
	unsigned int n = 0;
	int rc;

	why[0] = '\0';
	if (!cn || !migchan_cn_ok(cn, strlen(cn))) {
		snprintf(why, whylen, "--cn: 1 to 64 printable ASCII characters, no space");
		return -EINVAL;
	}
	rc = dir_make(out, why, whylen);
	rc = rc ? rc : ca_load(ca_dir, &ck, &ca, why, whylen);
	if (!rc) {
		k = EVP_EC_gen("P-256");
		x = k ? cert_make(k, cn, ca, ck) : NULL;
		if (!x || !X509_digest(x, EVP_sha256(), sha, &n) || n != 32) {
			snprintf(why, whylen, "cannot make the host certificate: OpenSSL failed");
			rc = -EIO;
		}
	}
	rc = rc ? rc : host_files(out, k, x, ca, why, whylen);
	if (!rc) {
		memcpy(pin, "sha256:", 7);
		hex_encode(sha, 32, pin + 7);
	}
	EVP_PKEY_free(ck);
	EVP_PKEY_free(k);
	X509_free(ca);
	X509_free(x);
	return rc;
}
