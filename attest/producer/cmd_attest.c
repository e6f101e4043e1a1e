/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark enroll` and `bulwark attest` (cmd_attest.h, BUNDLE.md). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "attest/producer/attestd.h"
#include "attest/producer/cmd_attest.h"
#include "attest/producer/enroll.h"
#include "attest/producer/host_quote.h"
#include "core/launch/commands.h"
#include "attest/vtpm/measure.h"
#include "core/args.h"
#include "core/path.h"
#include "core/log.h"
#include "core/util.h"

struct enroll_args {
	const char *name, *uuid, *tpm, *ek_cert, *ek_chain, *ek_ca, *ca_cert, *ca_key, *out;
	const char *host_tpm, *host_dir, *host_ima;   /* enrollment bound to the host */
	enum quote_ak_alg alg;
	int days;
};

static int enroll_parse(int argc, char **argv, struct enroll_args *a)
{
	static const struct option o[] = {
		{ "uuid", 1, NULL, 'u' }, { "tpm", 1, NULL, 't' }, { "ek-cert", 1, NULL, 'e' },
		{ "ek-chain", 1, NULL, 'i' }, { "ek-ca", 1, NULL, 'r' },
		{ "ca-cert", 1, NULL, 'c' }, { "ca-key", 1, NULL, 'k' },
		{ "alg", 1, NULL, 'a' }, { "days", 1, NULL, 'd' }, { "out-dir", 1, NULL, 'o' },
		{ "host-tpm", 1, NULL, 'H' }, { "host-dir", 1, NULL, 'D' },
		{ "host-ima", 1, NULL, 'M' }, { NULL, 0, NULL, 0 },
	};
	int c;

	a->days = 3650;
	a->host_ima = HOST_IMA_PATH;
	if (args_once(argc, argv, o, ""))
		return -EINVAL;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'u': a->uuid = optarg; break;
		case 't': a->tpm = optarg; break;
		case 'e': a->ek_cert = optarg; break;
		case 'i': a->ek_chain = optarg; break;
		case 'r': a->ek_ca = optarg; break;
		case 'c': a->ca_cert = optarg; break;
		case 'k': a->ca_key = optarg; break;
		case 'a': a->alg = !strcmp(optarg, "p256") ? QUOTE_AK_P256 : QUOTE_AK_RSA2048;
			if (strcmp(optarg, "p256") && strcmp(optarg, "rsa2048"))
				return -EINVAL;
			break;
		case 'd': a->days = atoi(optarg); break;
		case 'o': a->out = optarg; break;
		case 'H': a->host_tpm = optarg; break;
		case 'D': a->host_dir = optarg; break;
		case 'M': a->host_ima = optarg; break;
		default: return -EINVAL;
		}
	}
	if (!a->host_tpm != !a->host_dir)
		return -EINVAL;
	a->name = optind + 1 == argc ? argv[optind] : NULL;
	if (!a->name || !a->uuid || !a->tpm || !a->ek_cert || !a->ek_chain || !a->ek_ca ||
	    !a->ca_cert || !a->ca_key || !a->out || a->days <= 0)
		return -EINVAL;
	return 0;
}

static X509 *pem_cert(const char *path, int der)
{
	FILE *f = path_fopen_read(path, "certificate");
	X509 *x = NULL;

	if (f) {
		x = der ? d2i_X509_fp(f, NULL) : PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!x)
		log_err("%s: not a certificate", path);
	return x;
}

/* The attestation directory of cmd_attest.h. */
static int enroll_write(const struct enroll_args *a, X509 *ak, X509 *ek)
{
	unsigned char *der = NULL;
	struct bundle_blob chain = { 0 };
	char id[128];
	int n = i2d_X509(ak, &der), rc;

	if (mkdir(a->out, 0755) && errno != EEXIST)
		return -errno;
	rc = n > 0 ? attest_file_put_at(a->out, "ak.crt", der, (size_t)n, 0644) : -EINVAL;
	OPENSSL_free(der);
	der = NULL;
	n = i2d_X509(ek, &der);
	rc = rc ? rc : n > 0 ? attest_file_put_at(a->out, "ek.crt", der, (size_t)n, 0644) : -EINVAL;
	OPENSSL_free(der);
	snprintf(id, sizeof(id), "%s\n%s\n", a->name, a->uuid);
	rc = rc ? rc : attest_file_put_at(a->out, "identity", id, strlen(id), 0644);
	rc = rc ? rc : attest_file_put_at(a->out, "ak.alg", a->alg == QUOTE_AK_P256 ? "p256\n" : "rsa2048\n",
				a->alg == QUOTE_AK_P256 ? 5 : 8, 0644);
	rc = rc ? rc : bundle_read_file(a->ek_chain, 1u << 20, &chain.data, &chain.len);
	rc = rc ? rc : attest_file_put_at(a->out, "ek-chain.pem", chain.data, chain.len, 0644);
	free(chain.data);
	return rc;
}

static int enroll_run(const struct enroll_args *a, struct enroll_request *req)
{
	struct enroll_result res = { 0 };
	struct quote_tpm t;
	FILE *f = path_fopen_read(a->ca_key, "--ca-key");
	int fd = -1, rc;

	req->ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!req->ca_key || !req->ek_cert || !req->ca_cert || !req->ek_chain ||
	    X509_STORE_load_file(req->ek_anchors, a->ek_ca) != 1) {
		log_err("enroll %s: CA key, certificates or EK anchors unusable", a->name);
		return -EINVAL;
	}
	/* A TPM device is a hardware host TPM: its AK cannot demand locality 3. */
	req->host_hw = attest_tpm_is_device(a->tpm);
	rc = attest_tpm_connect(a->tpm, &fd);
	quote_tpm_fd(&t, &fd);
	rc = rc ? rc : enroll_guest(&t, req, &res);
	rc = rc ? rc : enroll_write(a, res.ak_cert, req->ek_cert);
	if (!rc && a->host_tpm)
		rc = enroll_host_bind(a->out, a->host_dir, a->host_tpm, a->host_ima,
				      &res.ak_pub.publicArea);
	if (!rc)
		printf("enrolled %s (%s): AK certificate in %s/ak.crt\n", a->name, a->uuid,
		       a->out);
	X509_free(res.ak_cert);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The EK chain file (PEM intermediates) as a stack. */
static STACK_OF(X509) *pem_stack(const char *path)
{
	STACK_OF(X509) *st = sk_X509_new_null();
	FILE *f = path_fopen_read(path, "--ek-chain");
	X509 *x;

	while (st && f && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		if (!sk_X509_push(st, x))
			X509_free(x);
	if (f)
		fclose(f);
	ERR_clear_error();      /* the end of the file reads as an error */
	return st;
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll_args a = { 0 };
	struct enroll_request req = { 0 };
	int rc;

	if (enroll_parse(argc, argv, &a)) {
		fprintf(stderr, "usage: bulwark enroll NAME --uuid UUID --tpm SOCK --ek-cert DER "
			"--ek-chain PEM --ek-ca PEM --ca-cert PEM --ca-key PEM [--alg rsa2048|p256] "
			"[--days N] --out-dir DIR\n"
			"       ... [--host-tpm SOCK --host-dir HOSTATTESTDIR [--host-ima FILE]]"
			"   (a host quote bound to the AK, for bundles' host evidence)\n");
		return 2;
	}
	req = (struct enroll_request){ .name = a.name, .uuid = a.uuid, .alg = a.alg,
		.ek_cert = pem_cert(a.ek_cert, 1), .ek_chain = pem_stack(a.ek_chain),
		.ek_anchors = X509_STORE_new(), .ca_cert = pem_cert(a.ca_cert, 0),
		.days = a.days };
	rc = req.ek_anchors ? enroll_run(&a, &req) : -ENOMEM;
	X509_free(req.ek_cert);
	X509_free(req.ca_cert);
	EVP_PKEY_free(req.ca_key);
	sk_X509_pop_free(req.ek_chain, X509_free);
	X509_STORE_free(req.ek_anchors);
	if (rc)
		fprintf(stderr, "bulwark enroll: %s: %s\n", a.name, strerror(-rc));
	return rc ? 1 : 0;
}

struct attest_args {
	const char *name, *nonce, *out, *dir, *log, *label, *tpm, *run_dir;
	const char *host_tpm, *host_dir, *host_ima;   /* issue 15: host evidence */
	int info;
};

static int attest_parse(int argc, char **argv, struct attest_args *a)
{
	static const struct option o[] = {
		{ "nonce", 1, NULL, 'n' }, { "out", 1, NULL, 'o' }, { "dir", 1, NULL, 'd' },
		{ "log", 1, NULL, 'l' }, { "label", 1, NULL, 'L' }, { "tpm", 1, NULL, 't' },
		{ "run-dir", 1, NULL, 'r' }, { "info", 0, NULL, 'i' },
		{ "host-tpm", 1, NULL, 'H' }, { "host-dir", 1, NULL, 'D' },
		{ "host-ima", 1, NULL, 'M' }, { NULL, 0, NULL, 0 },
	};
	int c;

	a->run_dir = ATTESTD_RUN_DIR;
	a->host_ima = HOST_IMA_PATH;
	if (args_once(argc, argv, o, ""))
		return -EINVAL;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'n': a->nonce = optarg; break;
		case 'o': a->out = optarg; break;
		case 'd': a->dir = optarg; break;
		case 'l': a->log = optarg; break;
		case 'L': a->label = optarg; break;
		case 't': a->tpm = optarg; break;
		case 'r': a->run_dir = optarg; break;
		case 'i': a->info = 1; break;
		case 'H': a->host_tpm = optarg; break;
		case 'D': a->host_dir = optarg; break;
		case 'M': a->host_ima = optarg; break;
		default: return -EINVAL;
		}
	}
	if (optind + 1 != argc || !a->out || !a->nonce == !a->info ||
	    !a->host_tpm != !a->host_dir || (a->host_tpm && a->info))
		return -EINVAL;
	a->name = argv[optind];
	/* Direct (test) mode: all of --tpm --dir --log --label, a quote only. */
	if (a->tpm || a->dir || a->log || a->label)
		return a->tpm && a->dir && a->log && a->label && !a->info ? 0 : -EINVAL;
	return 0;
}

/* --tpm: swtpm's test sockets, the attestation directory given. */
static int attest_direct(const struct attest_args *a, char **json, size_t *len)
{
	struct attest_source s;
	int rc = attest_source_open(&s, a->dir, a->log, a->label, a->tpm);

	if (rc)
		return rc;
	if (strcmp(s.name, a->name))
		rc = -ENOENT;           /* DIR belongs to another guest */
	rc = rc ? rc : attest_source_bundle(&s, a->nonce, json, len);
	attest_source_close(&s);
	return rc;
}

int cmd_attest(int argc, char **argv)
{
	struct attest_args a = { 0 };
	char *json = NULL, gdir[PATH_MAX];
	size_t len = 0;
	int rc;

	if (attest_parse(argc, argv, &a)) {
		fprintf(stderr, "usage: bulwark attest NAME --nonce HEX --out FILE [--run-dir DIR]\n"
			"       bulwark attest NAME --info --out FILE [--run-dir DIR]\n"
			"       bulwark attest NAME --nonce HEX --out FILE --tpm SOCK --dir ATTESTDIR "
			"--log EVENTLOG --label CONTEXT   (test sockets)\n"
			"       ... --host-tpm SOCK --host-dir HOSTATTESTDIR [--host-ima FILE]"
			"   (adds the host's evidence: version 2)\n");
		return 2;
	}
	if (a.tpm)
		rc = attest_direct(&a, &json, &len);
	else
		rc = attest_launcher_bundle(a.run_dir, a.name, a.info ? NULL : a.nonce,
					    ATTEST_CLIENT_TIMEOUT_MS, &json, &len);
	/* The host quote made at enrollment lies beside the AK certificate:
	 * --dir, or the launcher's STATE_DIR/NAME/attest (attestd.h). */
	if (!rc && a.host_tpm && !a.dir) {
		if (snprintf(gdir, sizeof(gdir), "%s/%s/attest", ATTESTD_STATE_DIR, a.name) >=
		    (int)sizeof(gdir))
			rc = -ENAMETOOLONG;
	}
	if (!rc && a.host_tpm)
		rc = attest_host_add(a.host_dir, a.host_tpm, a.host_ima, a.dir ? a.dir : gdir,
				     &json, &len);
	rc = rc ? rc : attest_file_put(a.out, json, len, 0644);
	free(json);
	if (rc)
		fprintf(stderr, "bulwark attest %s: %s\n", a.name, strerror(-rc));
	else
		printf("%s %s: %s\n", a.info ? "identity of" : "evidence for", a.name, a.out);
	return rc ? 1 : 0;
}
