/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulwark-verify: the auditor's verifier.  Checks evidence bundles offline
 * against a reference manifest and trust anchors; prints a readable report
 * and EAR JSON.  Exit status: 0 every bundle affirming, 1 some warning (and
 * none contraindicated), 2 some contraindicated, 3 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/verify/ear.h"
#include "attest/verify/verify.h"
#include "core/args.h"
#include "core/log.h"
#include "core/path.h"
#include "core/util.h"

#define MAX_ANCHORS 16
#define MAX_BUNDLES 4096

struct args {
	const char *manifest, *ear, *nonces, *used;
	const char *ak_ca[MAX_ANCHORS], *ek_ca[MAX_ANCHORS];
	size_t nak, nek;
	const char *host_ak_ca[MAX_ANCHORS], *host_ek_ca[MAX_ANCHORS], *host_allow;
	size_t nhost_ak, nhost_ek;
	const char *nonce_hex[MAX_ANCHORS];
	size_t nnonce;
	time_t at;
	long bench;
	int quiet;
	char **bundles;
	size_t nbundles;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark-verify --manifest FILE --ak-ca PEM --ek-ca PEM\n"
		"         [--nonce HEX]... [--nonces FILE] [--used-nonces FILE] [--at UNIXTIME]\n"
		"         [--ear FILE|-] [--quiet] [--bench ROUNDS]\n"
		"         [--host-ek-ca PEM]... [--host-ak-ca PEM]... [--host-allowlist FILE]\n"
		"         BUNDLE...\n"
		"exit: 0 all affirming, 1 warning, 2 contraindicated, 3 error\n");
}

static int add_arg(const char **list, size_t *n, const char *v)
{
	if (*n >= MAX_ANCHORS)
		return -E2BIG;
	list[(*n)++] = v;
	return 0;
}

/* A non-negative decimal UNIX time, nothing else. */
static int parse_time(const char *s, time_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -EINVAL;
	*out = (time_t)v;
	return 0;
}

static int args_parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "manifest", 1, NULL, 'm' }, { "ak-ca", 1, NULL, 'a' },
		{ "ek-ca", 1, NULL, 'e' }, { "nonce", 1, NULL, 'n' },
		{ "nonces", 1, NULL, 'N' }, { "used-nonces", 1, NULL, 'u' },
		{ "at", 1, NULL, 't' }, { "ear", 1, NULL, 'j' }, { "quiet", 0, NULL, 'q' },
		{ "bench", 1, NULL, 'b' }, { "help", 0, NULL, 'h' },
		{ "host-ek-ca", 1, NULL, 'E' }, { "host-ak-ca", 1, NULL, 'A' },
		{ "host-allowlist", 1, NULL, 'L' }, { NULL, 0, NULL, 0 },
	};
	/* Only the trust anchors and --nonce repeat. */
	int c, rc = args_once(argc, argv, opts, "aenAE");

	while (!rc && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': a->manifest = optarg; break;
		case 'a': rc = add_arg(a->ak_ca, &a->nak, optarg); break;
		case 'e': rc = add_arg(a->ek_ca, &a->nek, optarg); break;
		case 'n': rc = add_arg(a->nonce_hex, &a->nnonce, optarg); break;
		case 'N': a->nonces = optarg; break;
		case 'u': a->used = optarg; break;
		case 't': rc = parse_time(optarg, &a->at); break;
		case 'j': a->ear = optarg; break;
		case 'q': a->quiet = 1; break;
		case 'b': a->bench = strtol(optarg, NULL, 10); break;
		case 'E': rc = add_arg(a->host_ek_ca, &a->nhost_ek, optarg); break;
		case 'A': rc = add_arg(a->host_ak_ca, &a->nhost_ak, optarg); break;
		case 'L': a->host_allow = optarg; break;
		default: rc = -EINVAL; break;
		}
	}
	a->bundles = argv + optind;
	a->nbundles = (size_t)(argc - optind);
	if (rc || !a->manifest || !a->nak || !a->nek || !a->nbundles ||
	    a->nbundles > MAX_BUNDLES || a->bench < 0)
		return -EINVAL;
	return 0;
}

/* One hex nonce per line into the issued set. */
static int nonces_load(struct verify_ctx *ctx, const char *path)
{
	uint8_t *buf = NULL, nonce[BUNDLE_MAX_NONCE];
	size_t len = 0, n;
	char *save = NULL;
	int rc = bundle_read_file(path, 64u << 20, &buf, &len);

	for (char *l = rc ? NULL : strtok_r((char *)buf, "\n", &save); !rc && l;
	     l = strtok_r(NULL, "\n", &save)) {
		rc = bundle_hex_decode(l, strlen(l), nonce, sizeof(nonce), &n);
		rc = rc ? rc : verify_ctx_expect_nonce(ctx, nonce, n);
	}
	free(buf);
	if (rc)
		log_err("%s: %s", path, strerror(-rc));
	return rc;
}

static int nonces_setup(struct verify_ctx *ctx, const struct args *a)
{
	uint8_t nonce[BUNDLE_MAX_NONCE];
	size_t n;
	int rc = 0;

	for (size_t i = 0; !rc && i < a->nnonce; i++) {
		rc = bundle_hex_decode(a->nonce_hex[i], strlen(a->nonce_hex[i]), nonce,
				       sizeof(nonce), &n);
		rc = rc ? rc : verify_ctx_expect_nonce(ctx, nonce, n);
		if (rc)
			log_err("--nonce %s: not 16..64 bytes of lower-case hex", a->nonce_hex[i]);
	}
	return rc ? rc : a->nonces ? nonces_load(ctx, a->nonces) : 0;
}

static void verify_file(struct verify_ctx *ctx, const char *path, struct verify_result *res)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	/* bundle_parse() bounds all but a version 2 bundle at BUNDLE_MAX_SIZE. */
	int rc = bundle_read_file(path, BUNDLE_MAX_SIZE_HOST, &buf, &len);

	memset(res, 0, sizeof(*res));
	if (rc == -EFBIG)
		verify_fail(res, VR_BUNDLE_TOO_LARGE, "larger than %u bytes", BUNDLE_MAX_SIZE_HOST);
	else if (rc)
		verify_fail(res, VR_INTERNAL, "cannot read: %s", strerror(-rc));
	else
		verify_bundle(ctx, buf, len, res);
	free(buf);
}

/* Every bundle, then the checks across bundles; exit status by the worst. */
static int batch(struct verify_ctx *ctx, const struct args *a, const char *m_id,
		 struct verify_result *res)
{
	enum verify_status worst = VS_AFFIRMING;
	FILE *ear = NULL;
	int rc = 0;

	for (size_t i = 0; i < a->nbundles; i++)
		verify_file(ctx, a->bundles[i], &res[i]);
	verify_batch_labels(res, a->nbundles);
	verify_batch_clock(res, a->nbundles);
	verify_batch_clones(res, a->nbundles);
	for (size_t i = 0; i < a->nbundles; i++) {
		enum verify_status st = verify_result_worst(&res[i]);  /* guest and host */

		if (!a->quiet)
			ear_report(a->ear && !strcmp(a->ear, "-") ? stderr : stdout, &res[i],
				   a->bundles[i]);
		if (st != VS_AFFIRMING && (worst == VS_AFFIRMING || st != VS_WARNING))
			worst = st == VS_WARNING ? VS_WARNING : VS_CONTRAINDICATED;
	}
	if (a->ear) {
		ear = strcmp(a->ear, "-") ? fopen(a->ear, "we") : stdout;
		rc = ear ? ear_write(ear, res, (const char *const *)a->bundles, a->nbundles,
				     m_id, time(NULL)) : -errno;
		if (ear && ear != stdout && fclose(ear))
			rc = -errno;
		if (rc)
			log_err("cannot write EAR to %s: %s", a->ear, strerror(-rc));
	}
	return rc ? 3 : worst == VS_AFFIRMING ? 0 : worst == VS_WARNING ? 1 : 2;
}

static double seconds(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In-process rounds over bundles held in memory: verification only, no I/O. */
static int bench(struct verify_ctx *ctx, const struct args *a)
{
	struct verify_result res;
	uint8_t *buf[MAX_BUNDLES] = { 0 };
	size_t len[MAX_BUNDLES], affirmed = 0, total = 0;
	double w0, c0, wall, cpu;
	int rc = 0;

	for (size_t i = 0; !rc && i < a->nbundles; i++)
		rc = bundle_read_file(a->bundles[i], BUNDLE_MAX_SIZE_HOST, &buf[i], &len[i]);
	w0 = seconds(CLOCK_MONOTONIC);
	c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (long r = 0; !rc && r < a->bench; r++) {
		verify_ctx_forget_used(ctx);
		for (size_t i = 0; i < a->nbundles; i++, total++)
			affirmed += verify_bundle(ctx, buf[i], len[i], &res) == VS_AFFIRMING;
	}
	wall = seconds(CLOCK_MONOTONIC) - w0;
	cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	for (size_t i = 0; i < a->nbundles; i++)
		free(buf[i]);
	if (rc || !total)
		return 3;
	printf("verified %zu bundles (%zu affirming) in %.3f s wall, %.3f s CPU: "
	       "%.0f bundles/s per core\n", total, affirmed, wall, cpu,
	       (double)total / (cpu > 0 ? cpu : wall));
	return affirmed == total ? 0 : 2;
}

static int manifest_load(const char *path, struct manifest *m)
{
	struct bundle_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = bundle_read_file(path, MANIFEST_MAX_SIZE, &buf, &len);

	if (rc) {
		log_err("manifest %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = manifest_parse(buf, len, m, &err);
	if (rc)
		log_err("manifest %s: %s", path, err.msg);
	free(buf);
	return rc;
}

static int anchor_files_check(const char *const *files, size_t n, const char *opt)
{
	for (size_t i = 0; i < n; i++) {
		int fd = path_open_regular(files[i], O_RDONLY, opt, NULL);

		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

/* The trust anchor files are opened like every other input first (no
 * symlink anywhere, regular files only): OpenSSL would block on a FIFO. */
static int anchors_check(const struct args *a)
{
	int rc = anchor_files_check(a->ak_ca, a->nak, "--ak-ca");

	rc = rc ? rc : anchor_files_check(a->ek_ca, a->nek, "--ek-ca");
	rc = rc ? rc : anchor_files_check(a->host_ak_ca, a->nhost_ak, "--host-ak-ca");
	return rc ? rc : anchor_files_check(a->host_ek_ca, a->nhost_ek, "--host-ek-ca");
}

/* --host-allowlist FILE (host_allow.h); none: an empty list. */
static int allowlist_load(const char *path, struct host_allowlist *l)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[96];
	int rc;

	memset(l, 0, sizeof(*l));
	if (!path)
		return 0;
	rc = bundle_read_file(path, HOST_ALLOW_MAX_SIZE, &buf, &len);
	if (rc) {
		log_err("host allowlist %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = host_allow_parse(buf, len, l, why, sizeof(why));
	if (rc)
		log_err("host allowlist %s: %s", path, rc == -EBADMSG ? why : strerror(-rc));
	free(buf);
	return rc;
}

static int run(const struct args *a, struct manifest *m)
{
	struct host_allowlist allow;
	struct verify_options o = { .ak_ca = a->ak_ca, .nak_ca = a->nak, .ek_ca = a->ek_ca,
				    .nek_ca = a->nek, .manifest = m, .at = a->at,
				    .host_ek_ca = a->host_ek_ca, .nhost_ek_ca = a->nhost_ek,
				    .host_ak_ca = a->host_ak_ca, .nhost_ak_ca = a->nhost_ak,
				    .host_allow = &allow };
	struct verify_result *res = NULL;
	struct verify_store *store = NULL;
	struct verify_ctx *ctx = NULL;
	int rc = allowlist_load(a->host_allow, &allow);

	rc = rc ? rc : manifest_load(a->manifest, m);
	rc = rc ? rc : anchors_check(a);
	rc = rc ? rc : verify_ctx_new(&o, &ctx);
	rc = rc ? rc : nonces_setup(ctx, a);
	if (rc)
		goto out;
	if (a->bench) {
		rc = bench(ctx, a);
		goto out;
	}
	res = calloc(a->nbundles, sizeof(*res));
	/* The store stays locked from its reading to its replacement. */
	rc = !res ? -ENOMEM : a->used ? verify_store_open(a->used, ctx, &store) : 0;
	rc = rc ? rc : batch(ctx, a, m->id, res);
	if (rc >= 0 && store && verify_store_commit(store, res, a->nbundles))
		rc = 3;
out:
	verify_store_close(store);
	free(res);
	verify_ctx_free(ctx);
	host_allow_free(&allow);
	return rc < 0 ? 3 : rc;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct manifest *m;
	int rc;

	if (args_parse(argc, argv, &a)) {
		usage(stderr);
		return 3;
	}
	m = malloc(sizeof(*m));
	if (!m)
		return 3;
	rc = run(&a, m);
	free(m);
	return rc;
}
