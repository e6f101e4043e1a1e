/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's appraisal against REAL host evidence: a real swtpm stands for
 * the host TPM (its EK certificate from swtpm_localca, standing in for the
 * TPM vendor's CA), PCR 10 extended with an ima-ng list exactly as the
 * kernel's IMA extends it (each bank with that bank's hash of the template
 * data), an AK enrolled against the host EK by the producer's own enrollment
 * (credential activation), and TPM2_Quote of PCR 10 whose qualifying data
 * binds a guest quote.  Nothing mocked: the TPM, OpenSSL and the verifier.
 *
 * Checks: honest evidence affirms; a file not on the allowlist is named;
 * altering any byte of the host quote, its signature, the IMA list or the
 * bound guest quote/nonce is contraindicated with its own reason; wrong
 * anchors, another AK, another EK, a changed PCR value each have theirs.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <cmocka.h>

#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/format/imalog.h"
#include "attest/format/tpm.h"
#include "attest/producer/enroll.h"
#include "attest/producer/host_quote.h"
#include "attest/producer/quote.h"
#include "attest/producer/reference.h"
#include "attest/verify/ear.h"
#include "attest/vtpm/measure.h"
#include "attest/verify/verify_host.h"
#include "attest/vtpm/swtpm.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

#define HOST_NAME "host-1"
#define HOST_UUID "6e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b"
#define GUEST_NAME "guest-a"
#define GUEST_UUID "0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11"
#define GUEST_LABEL "system_u:system_r:bulwark_vmm_t:s0:c12,c345"
#define LIST_CAP  8192

/* One host's evidence: the list, the quoted PCR, the quote. */
struct host_ev {
	uint8_t ima[LIST_CAP];
	size_t ima_len;
	struct bundle_host h;
};

static struct {
	char root[64], state[96], keys[96], ca[96], certs[96], sock[96], ak_ca[96], other_ca[96];
	struct swtpm tpm;
	int fd;
	struct quote_tpm t;
	X509 *ek_cert, *ek_mid, *ca_cert, *other_cert, *ak_cert, *ak_other_ek;
	EVP_PKEY *ca_key, *other_key;
	TPM2B_PUBLIC ak_pub;
	struct bundle guest;             /* the guest quote the host quote binds */
	uint8_t guest_attest[96], guest_sig[64];
	uint8_t list[LIST_CAP];          /* what IMA measured so far (the TPM agrees) */
	size_t list_len;
	struct host_ev honest, violated;
	/* A real guest bundle (measured boot, enrolled AK, quote) and the same
	 * with the host's evidence bound to it: version 1 and version 2. */
	X509 *guest_ak;
	struct bundle real;
	char *v1, *v2;
	size_t v1_len, v2_len;
	struct host_ev bound;
	struct measure_secstate sec;
	struct measure_boot boot;
	uint8_t *glog;                   /* the guest's event log */
	size_t glog_len;
	struct host_allow_entry allow[8];
	size_t nallow;
	X509_STORE *ek_store, *ak_store, *other_store;
	/* Host quotes made at the guest AK's enrollment: before the forging
	 * tool ran (clean), and after (forged). */
	struct bundle_host_enroll enr_clean, enr_forged;
	int allow_migrate;               /* verify_real's manifest */
} F;

static int seen[VR_COUNT];

static const char *const files[][2] = {
	{ "boot_aggregate", "aggregate of PCRs 0-9" },
	{ "/usr/bin/bulwark", "ELF bulwark" },
	{ "/usr/bin/swtpm", "ELF swtpm" },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", "ELF libc" },
	{ "/root/forge-vtpm", "ELF a forging tool" },
};
#define FORGE 4

static int set_locality(uint8_t loc)
{
	return swtpm_ctrl(&F.tpm, SWTPM_CMD_SET_LOCALITY, &loc, 1, NULL, 0);
}

static int set_locality_cb(void *arg, uint8_t loc)
{
	(void)arg;
	return set_locality(loc);
}

static int host_quote(struct host_ev *ev);

/* IMA's measurement: the entry logged, each bank extended with its own hash
 * of the template data (all ones for a violation). */
static int ima_measure(const char *path, const char *content, int violation)
{
	struct evlog_digest fd, d[2];
	struct imalog_parser p;
	struct imalog_entry e;
	size_t at = F.list_len;
	int rc;

	memset(&fd, 0, sizeof(fd));
	if (violation) {
		fd.alg = EVLOG_ALG_SHA256;
		fd.size = 32;
	} else if ((rc = evlog_hash(EVLOG_ALG_SHA256, content, strlen(content), &fd))) {
		return rc;
	}
	rc = imalog_append(F.list, &F.list_len, LIST_CAP, path, &fd, violation);
	rc = rc ? rc : imalog_parse_begin(&p, F.list + at, F.list_len - at);
	rc = rc ? rc : imalog_parse_next(&p, &e) == 1 ? 0 : -EIO;
	for (int i = 0; !rc && i < 2; i++) {
		uint16_t alg = i ? EVLOG_ALG_SHA384 : EVLOG_ALG_SHA256;

		rc = evlog_hash(alg, e.template_data, e.template_data_len, &d[i]);
		if (violation)
			memset(d[i].bytes, 0xff, d[i].size);
	}
	return rc ? rc : tpm_pcr_extend(F.fd, IMALOG_PCR, d, 2);
}

static int der_copy(X509 *x, struct bundle_blob *b)
{
	struct bundle_blob o;

	if (attest_fixture_der(x, &o))
		return -1;
	b->data = malloc(o.len);
	if (b->data)
		memcpy(b->data, o.data, o.len);
	b->len = o.len;
	OPENSSL_free(o.data);
	return b->data ? 0 : -1;
}

/* The list as the kernel shows it: F.list plus extra (measured, not yet
 * extended: the list may run ahead of the TPM while we read it). */
static int write_list(const uint8_t *extra, size_t extra_len)
{
	char path[160];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/binary_runtime_measurements", F.root);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ok = fwrite(F.list, 1, F.list_len, f) == F.list_len &&
	     (!extra_len || fwrite(extra, 1, extra_len, f) == extra_len);
	return fclose(f) || !ok ? -EIO : 0;
}

/* The producer's host_quote_collect(), binding F.guest: the evidence now. */
static int host_quote(struct host_ev *ev)
{
	char ima[160];
	struct host_source src = { .t = &F.t, .alg = QUOTE_AK_RSA2048, .uuid = HOST_UUID,
		.set_locality = set_locality_cb, .ima_path = ima, .bank = EVLOG_ALG_SHA256 };
	int rc;

	snprintf(ima, sizeof(ima), "%s/binary_runtime_measurements", F.root);
	rc = attest_fixture_der(F.ak_cert, &src.ak.cert) || attest_fixture_der(F.ek_cert, &src.ek.cert) ||
	     attest_fixture_der(F.ek_mid, &src.ek.chain[0]) ? -1 : 0;
	src.ek.nchain = 1;
	rc = rc ? rc : write_list(NULL, 0);
	rc = rc ? rc : host_quote_collect(&src, &F.guest, &ev->h);
	if (!rc) {
		memcpy(ev->ima, ev->h.ima_log.data, ev->h.ima_log.len);
		ev->ima_len = ev->h.ima_log.len;
	}
	OPENSSL_free(src.ak.cert.data);
	OPENSSL_free(src.ek.cert.data);
	OPENSSL_free(src.ek.chain[0].data);
	return rc;
}

static void enroll_free(struct bundle_host_enroll *e)
{
	free(e->attest.data);
	free(e->signature.data);
	free(e->ima_log.data);
	memset(e, 0, sizeof(*e));
}

/* The producer's host_quote_enroll() for F.guest's AK: the host then. */
static int host_enroll_quote(struct bundle_host_enroll *out)
{
	char ima[160];
	struct host_source src = { .t = &F.t, .alg = QUOTE_AK_RSA2048, .uuid = HOST_UUID,
		.set_locality = set_locality_cb, .ima_path = ima, .bank = EVLOG_ALG_SHA256 };
	uint8_t name[2 + 64];
	size_t nlen = 0, off = 0;
	TPMT_PUBLIC pub;
	int rc;

	snprintf(ima, sizeof(ima), "%s/binary_runtime_measurements", F.root);
	rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(F.guest.ak_public.data, F.guest.ak_public.len, &off,
					   &pub) ? -EIO : 0;
	rc = rc ? rc : quote_name(&pub, name, sizeof(name), &nlen);
	rc = rc ? rc : write_list(NULL, 0);
	return rc ? rc : host_quote_enroll(&src, name, nlen, out);
}

static int enroll_host(void)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = HOST_NAME, .uuid = HOST_UUID,
		.alg = QUOTE_AK_RSA2048, .ek_cert = F.ek_cert, .ek_chain = mid,
		.ek_anchors = anchors, .ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 30 };
	struct enroll_result res;
	char path[160];
	int rc;

	snprintf(path, sizeof(path), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	rc = anchors && mid && X509_STORE_load_file(anchors, path) == 1 &&
	     sk_X509_push(mid, F.ek_mid) ? 0 : -1;
	rc = rc ? rc : enroll_guest(&F.t, &req, &res);
	if (!rc) {
		F.ak_cert = res.ak_cert;
		F.ak_pub = res.ak_pub;
		req.ek_cert = F.other_cert;      /* the right CA, naming another EK */
		rc = enroll_issue(&req, &res.ak_pub.publicArea, &F.ak_other_ek);
	}
	sk_X509_free(mid);
	X509_STORE_free(anchors);
	return rc;
}

static X509_STORE *store_of(const char *path)
{
	X509_STORE *s = X509_STORE_new();

	if (s && X509_STORE_load_file(s, path) != 1) {
		X509_STORE_free(s);
		return NULL;
	}
	return s;
}

static int fixture_tpm(void)
{
	struct swtpm_config cfg = { .name = HOST_NAME, .state_dir = F.state, .key_dir = F.keys,
		.ca_dir = F.ca, .cert_dir = F.certs, .sock_path = F.sock };
	char path[160];
	int rc = swtpm_start(&cfg, &F.tpm);

	rc = rc ? rc : swtpm_open_data(&F.tpm, &F.fd);   /* started by measure_boot_run */
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/ek-rsa2048.crt", F.certs);
	F.ek_cert = attest_fixture_load_cert(path, 0);
	snprintf(path, sizeof(path), "%s/issuercert.pem", F.ca);
	F.ek_mid = attest_fixture_load_cert(path, 1);
	snprintf(path, sizeof(path), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	F.ek_store = store_of(path);
	F.ak_store = store_of(F.ak_ca);
	F.other_store = store_of(F.other_ca);
	return F.ek_cert && F.ek_mid && F.ek_store && F.ak_store && F.other_store ? 0 : -1;
}

static int fixture_paths(void)
{
	snprintf(F.root, sizeof(F.root), "/tmp/bulwark-test-host.XXXXXX");
	if (!mkdtemp(F.root))
		return -1;
	snprintf(F.state, sizeof(F.state), "%s/state", F.root);
	snprintf(F.keys, sizeof(F.keys), "%s/keys", F.root);
	snprintf(F.ca, sizeof(F.ca), "%s/ca", F.root);
	snprintf(F.certs, sizeof(F.certs), "%s/certs", F.root);
	snprintf(F.sock, sizeof(F.sock), "%s/tpm", F.root);
	snprintf(F.ak_ca, sizeof(F.ak_ca), "%s/ak-ca.pem", F.root);
	snprintf(F.other_ca, sizeof(F.other_ca), "%s/other-ca.pem", F.root);
	return mkdir(F.keys, 0700);
}

/* The allowlist: every file of files[] but the forging tool (n - 1), or all. */
static void allow_files(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct evlog_digest d;

		assert_int_equal(evlog_hash(EVLOG_ALG_SHA256, files[i][1], strlen(files[i][1]),
					    &d), 0);
		F.allow[i] = (struct host_allow_entry){ .path = files[i][0],
							.alg = EVLOG_ALG_SHA256 };
		memcpy(F.allow[i].digest, d.bytes, 32);
	}
	F.nallow = n;
	host_allow_sort(F.allow, n);
}

static void guest_fill(void)
{
	for (size_t i = 0; i < sizeof(F.guest_attest); i++)
		F.guest_attest[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(F.guest_sig); i++)
		F.guest_sig[i] = (uint8_t)(i * 13 + 5);
	F.guest.attest = (struct bundle_blob){ F.guest_attest, sizeof(F.guest_attest) };
	F.guest.signature = (struct bundle_blob){ F.guest_sig, sizeof(F.guest_sig) };
	memset(F.guest.nonce, 0x5a, 32);
	F.guest.nonce_len = 32;
}

/*
 * The guest's evidence, on the same swtpm (one real TPM plays both parts
 * here: the guest's quote covers PCRs 0-9 with the guest's AK, the host's
 * PCR 10 with the host's; the lab gives them two TPMs).  Measured boot,
 * enrollment, quote_collect, as the launcher does them.
 */
static int guest_evidence(void)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = GUEST_NAME, .uuid = GUEST_UUID,
		.alg = QUOTE_AK_RSA2048, .ek_cert = F.ek_cert, .ek_chain = mid,
		.ek_anchors = anchors, .ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 30 };
	struct quote_guest g = { .name = GUEST_NAME, .uuid = GUEST_UUID, .label = GUEST_LABEL,
		.alg = QUOTE_AK_RSA2048 };
	struct enroll_result res;
	struct evlog_writer log;
	uint8_t nonce[32];
	char path[160];
	int rc;

	F.sec = attest_fixture_secstate(GUEST_LABEL);
	F.boot = attest_fixture_boot(&F.sec);
	snprintf(path, sizeof(path), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	rc = anchors && mid && X509_STORE_load_file(anchors, path) == 1 &&
	     sk_X509_push(mid, F.ek_mid) ? 0 : -1;
	rc = rc ? rc : measure_boot_run(F.fd, NULL, &F.boot, &log);
	rc = rc ? rc : enroll_guest(&F.t, &req, &res);
	sk_X509_free(mid);
	X509_STORE_free(anchors);
	if (rc)
		return rc;
	F.guest_ak = res.ak_cert;
	g.log = (struct bundle_blob){ log.buf, log.len };
	g.set_locality = set_locality_cb;
	g.arg = NULL;
	rc = attest_fixture_der(F.guest_ak, &g.ak.cert) || attest_fixture_der(F.ek_cert, &g.ek.cert) ||
	     attest_fixture_der(F.ek_mid, &g.ek.chain[0]) ? -1 : 0;
	g.ek.nchain = 1;
	memset(nonce, 0xc3, sizeof(nonce));
	rc = rc ? rc : quote_collect(&F.t, &g, nonce, sizeof(nonce), &F.real);
	F.glog = rc ? NULL : malloc(log.len);
	if (F.glog) {
		memcpy(F.glog, log.buf, log.len);
		F.glog_len = log.len;
	}
	rc = rc ? rc : bundle_write(&F.real, &F.v1, &F.v1_len);
	OPENSSL_free(g.ak.cert.data);
	OPENSSL_free(g.ek.cert.data);
	OPENSSL_free(g.ek.chain[0].data);
	evlog_writer_free(&log);
	return rc;
}

/* The host's evidence bound to the real guest quote, in a version 2 bundle. */
static int guest_evidence_v2(void)
{
	struct bundle saved = F.guest;
	int rc;

	F.guest = F.real;                 /* host_quote() binds F.guest */
	rc = host_quote(&F.bound);
	F.guest = saved;
	if (rc)
		return rc;
	F.real.version = BUNDLE_VERSION_HOST;
	F.real.host = F.bound.h;
	rc = bundle_write(&F.real, &F.v2, &F.v2_len);
	memset(&F.real.host, 0, sizeof(F.real.host));   /* F.bound owns it */
	F.real.version = BUNDLE_VERSION;
	return rc;
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
	int rc;

	(void)state;
	log_set_level(LOG_WARN);
	F.fd = -1;
	quote_tpm_fd(&F.t, &F.fd);
	guest_fill();
	rc = fixture_paths() ? 1 :
	     attest_fixture_make_ca("Bulwark test attestation CA", F.ak_ca, &F.ca_key, &F.ca_cert) ? 2 :
	     attest_fixture_make_ca("Somebody else's CA", F.other_ca, &F.other_key, &F.other_cert) ? 3 :
	     fixture_tpm() ? 4 : guest_evidence() ? 10 : enroll_host() ? 5 : 0;
	F.guest.ak_public = F.real.ak_public;   /* the guest AK enrollment binds */
	for (size_t i = 0; !rc && i < ARRAY_SIZE(files); i++) {
		rc = i == FORGE && host_enroll_quote(&F.enr_clean) ? 12 : 0;
		rc = rc ? rc : ima_measure(files[i][0], files[i][1], 0) ? 6 : 0;
	}
	rc = rc ? rc : host_enroll_quote(&F.enr_forged) ? 13 : 0;
	rc = rc ? rc : host_quote(&F.honest) ? 7 : 0;
	rc = rc ? rc : guest_evidence_v2() ? 11 : 0;
	rc = rc ? rc : ima_measure("/var/log/forged.log", NULL, 1) ? 8 : 0;
	rc = rc ? rc : host_quote(&F.violated) ? 9 : 0;
	if (rc) {
		fprintf(stderr, "host fixture failed at step %d\n", rc);
		group_teardown(state);
		return -1;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	if (F.fd >= 0)
		close(F.fd);
	swtpm_stop(&F.tpm);
	bundle_host_free(&F.honest.h);
	bundle_host_free(&F.violated.h);
	bundle_host_free(&F.bound.h);
	enroll_free(&F.enr_clean);
	enroll_free(&F.enr_forged);
	bundle_free(&F.real);
	free(F.v1);
	free(F.v2);
	free(F.glog);
	X509_free(F.guest_ak);
	X509_free(F.ek_cert);
	X509_free(F.ek_mid);
	X509_free(F.ca_cert);
	X509_free(F.other_cert);
	X509_free(F.ak_cert);
	X509_free(F.ak_other_ek);
	EVP_PKEY_free(F.ca_key);
	EVP_PKEY_free(F.other_key);
	X509_STORE_free(F.ek_store);
	X509_STORE_free(F.ak_store);
	X509_STORE_free(F.other_store);
	if (F.root[0])
		nftw(F.root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static enum verify_status appraise(const struct bundle_host *h, struct verify_result *res)
{
	struct verify_host_policy pol = { .ek_store = F.ek_store, .ak_store = F.ak_store,
					  .allow = F.allow, .nallow = F.nallow };
	enum verify_status s = verify_host(&pol, h, &F.guest, res);

	if (res->nfail && res->fail[0].reason < VR_COUNT)
		seen[res->fail[0].reason] = 1;
	return s;
}

static void expect(const struct bundle_host *h, enum verify_reason want)
{
	struct verify_result res;

	assert_int_equal(appraise(h, &res), want == VR_HOST_IMA_VIOLATION ? VS_WARNING :
					    VS_CONTRAINDICATED);
	if (res.fail[0].reason != want)
		print_error("primary %s (%s), wanted %s\n", verify_reason_name(res.fail[0].reason),
			    res.fail[0].detail, verify_reason_name(want));
	assert_int_equal(res.fail[0].reason, want);
}

static void test_honest_host_affirms(void **state)
{
	struct verify_result res;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	if (appraise(&F.honest.h, &res) != VS_AFFIRMING)
		print_error("%s: %s\n", verify_reason_name(res.fail[0].reason), res.fail[0].detail);
	assert_int_equal(res.status, VS_AFFIRMING);
	assert_int_equal(res.nfail, 0);
	assert_int_equal(res.events, ARRAY_SIZE(files));
	assert_int_equal(res.vector[TV_HARDWARE], 2);
	assert_int_equal(res.vector[TV_EXECUTABLES], 2);
	assert_int_equal(res.vector[TV_INSTANCE_IDENTITY], 2);
	assert_string_equal(res.name, "host");
}

/* The forging tool ran on the host: it is in the IMA list, and named. */
static void test_file_not_allowed_is_named(void **state)
{
	struct verify_result res;

	(void)state;
	allow_files(FORGE);             /* everything but /root/forge-vtpm */
	assert_int_equal(appraise(&F.honest.h, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.nfail, 1);
	assert_int_equal(res.fail[0].reason, VR_HOST_FILE);
	assert_non_null(strstr(res.fail[0].detail, "/root/forge-vtpm"));
	assert_int_equal(res.vector[TV_EXECUTABLES], 96);
	allow_files(ARRAY_SIZE(files));
	expect(&F.violated.h, VR_HOST_IMA_VIOLATION);
}

/* Every byte of the host's TPMS_ATTEST and TPMT_SIGNATURE. */
static void test_quote_bytes(void **state)
{
	struct bundle_host h = F.honest.h;
	uint8_t a[1024], s[1024];
	struct verify_result res;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	memcpy(a, F.honest.h.attest.data, h.attest.len);
	memcpy(s, F.honest.h.signature.data, h.signature.len);
	h.attest.data = a;
	h.signature.data = s;
	for (size_t i = 0; i < h.attest.len; i++) {
		a[i] ^= 0x01;
		assert_int_equal(appraise(&h, &res), VS_CONTRAINDICATED);
		assert_true(res.fail[0].reason == VR_HOST_QUOTE_MALFORMED ||
			    res.fail[0].reason == VR_HOST_SIGNATURE);
		a[i] ^= 0x01;
	}
	for (size_t i = 0; i < h.signature.len; i++) {
		s[i] ^= 0x01;
		assert_int_equal(appraise(&h, &res), VS_CONTRAINDICATED);
		assert_int_equal(res.fail[0].reason, VR_HOST_SIGNATURE);
		s[i] ^= 0x01;
	}
	a[0] ^= 0x80;                   /* magic: not TPM-generated */
	expect(&h, VR_HOST_QUOTE_MALFORMED);
}

/* Every byte of the IMA list: malformed, or it no longer replays. */
static void test_ima_bytes(void **state)
{
	struct bundle_host h = F.honest.h;
	uint8_t l[LIST_CAP];
	struct verify_result res;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	memcpy(l, F.honest.ima, F.honest.ima_len);
	h.ima_log.data = l;
	for (size_t i = 0; i < h.ima_log.len; i++) {
		l[i] ^= 0x01;
		assert_int_equal(appraise(&h, &res), VS_CONTRAINDICATED);
		assert_true(res.fail[0].reason == VR_HOST_IMA_MALFORMED ||
			    res.fail[0].reason == VR_HOST_IMA_REPLAY);
		l[i] ^= 0x01;
	}
	h.ima_log.len -= 1;
	expect(&h, VR_HOST_IMA_MALFORMED);
	/* a whole entry dropped from the end: well formed, no longer the PCR */
	{
		struct imalog_parser p;
		struct imalog_entry e;
		size_t last = 0;

		assert_int_equal(imalog_parse_begin(&p, l, F.honest.ima_len), 0);
		while (imalog_parse_next(&p, &e) == 1)
			last = e.offset;
		h.ima_log.len = last;
	}
	expect(&h, VR_HOST_IMA_REPLAY);
}

/* The binding: any byte of the guest quote, its signature or the nonce. */
static void test_binding_bytes(void **state)
{
	struct verify_result res;
	uint8_t *parts[] = { F.guest_attest, F.guest_sig, F.guest.nonce };
	size_t lens[] = { sizeof(F.guest_attest), sizeof(F.guest_sig), F.guest.nonce_len };

	(void)state;
	allow_files(ARRAY_SIZE(files));
	for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
		for (size_t i = 0; i < lens[k]; i++) {
			parts[k][i] ^= 0x01;
			assert_int_equal(appraise(&F.honest.h, &res), VS_CONTRAINDICATED);
			assert_int_equal(res.fail[0].reason, VR_HOST_BINDING);
			parts[k][i] ^= 0x01;
		}
	F.guest.nonce_len = 31;          /* a shorter nonce, same bytes */
	expect(&F.honest.h, VR_HOST_BINDING);
	F.guest.nonce_len = 32;
	assert_int_equal(appraise(&F.honest.h, &res), VS_AFFIRMING);
}

static void test_chain_and_keys(void **state)
{
	struct verify_host_policy pol = { .ek_store = F.other_store, .ak_store = F.ak_store,
					  .allow = F.allow, .nallow = F.nallow };
	struct bundle_host h = F.honest.h;
	struct verify_result res;
	struct bundle_blob other;
	uint8_t pcr[EVLOG_MAX_DIGEST];

	(void)state;
	allow_files(ARRAY_SIZE(files));
	pol.nallow = F.nallow;
	assert_int_equal(verify_host(&pol, &h, &F.guest, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.fail[0].reason, VR_HOST_EK_CHAIN);
	assert_int_equal(res.vector[TV_HARDWARE], 96);
	seen[VR_HOST_EK_CHAIN] = 1;
	pol.ek_store = F.ek_store;
	pol.ak_store = F.other_store;
	assert_int_equal(verify_host(&pol, &h, &F.guest, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.fail[0].reason, VR_HOST_AK_CHAIN);
	seen[VR_HOST_AK_CHAIN] = 1;
	/* an AK certificate (from the right CA) naming another EK */
	assert_int_equal(der_copy(F.ak_other_ek, &other), 0);
	h.ak.cert = other;
	expect(&h, VR_HOST_AK_EK_BINDING);
	free(other.data);
	/* another public area than the certified one (the EK's, a storage key) */
	h = F.honest.h;
	h.ak_public = F.honest.h.ek.cert;   /* not even a TPMT_PUBLIC */
	expect(&h, VR_HOST_AK_PUBLIC);
	/* PCR 10 said to be something else than the TPM quoted */
	h = F.honest.h;
	memcpy(pcr, h.pcr10, sizeof(pcr));
	pcr[0] ^= 1;
	memcpy(h.pcr10, pcr, sizeof(pcr));
	expect(&h, VR_HOST_PCR);
}

/*
 * The producer reads the list after quoting: entries the kernel logged after
 * the quote are cut off, so the list in the bundle is exactly the quoted
 * one; a list that no prefix of replays to PCR 10 is refused (-ESTALE).
 */
static void test_producer_cuts_list_at_quote(void **state)
{
	struct evlog_digest d = { .alg = EVLOG_ALG_SHA256, .size = 32 };
	uint8_t extra[512], saved[LIST_CAP];
	size_t n = 0, saved_len = F.list_len;
	struct host_source src = { .t = &F.t, .alg = QUOTE_AK_RSA2048, .uuid = HOST_UUID,
		.set_locality = set_locality_cb, .bank = EVLOG_ALG_SHA256 };
	struct bundle_host h;
	char ima[160];

	(void)state;
	snprintf(ima, sizeof(ima), "%s/binary_runtime_measurements", F.root);
	src.ima_path = ima;
	src.ak.cert = F.honest.h.ak.cert;
	src.ek = F.honest.h.ek;
	assert_int_equal(imalog_append(extra, &n, sizeof(extra), "/usr/bin/later", &d, 0), 0);
	assert_int_equal(write_list(extra, n), 0);
	assert_int_equal(host_quote_collect(&src, &F.guest, &h), 0);
	assert_int_equal(h.ima_log.len, F.list_len);
	assert_memory_equal(h.ima_log.data, F.list, F.list_len);
	bundle_host_free(&h);
	/* a list the TPM never saw (its first entry changed) */
	memcpy(saved, F.list, F.list_len);
	F.list[40] ^= 1;
	assert_int_equal(write_list(NULL, 0), 0);
	assert_int_equal(host_quote_collect(&src, &F.guest, &h), -ESTALE);
	memcpy(F.list, saved, saved_len);
	assert_int_equal(write_list(NULL, 0), 0);
}

/*
 * A hardware host TPM's AK (no PolicyLocality: /dev/tpmrm0 gives user space
 * no locality), enrolled by credential activation and quoted at locality 0
 * on the same real TPM: the evidence verifies (the fixture's list has a
 * violation by now: that warning is the only reason); and the locality-3 AK
 * cannot sign at locality 0.
 */
static void test_hardware_host_ak(void **state)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = HOST_NAME, .uuid = HOST_UUID,
		.alg = QUOTE_AK_RSA2048, .ek_cert = F.ek_cert, .ek_chain = mid,
		.ek_anchors = anchors, .ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 30,
		.host_hw = 1 };
	struct host_source src = { .t = &F.t, .alg = QUOTE_AK_RSA2048, .uuid = HOST_UUID,
		.bank = EVLOG_ALG_SHA256 };
	struct enroll_result er;
	struct verify_result res;
	struct bundle_host h;
	char path[160], ima[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	assert_int_equal(X509_STORE_load_file(anchors, path), 1);
	assert_true(sk_X509_push(mid, F.ek_mid) > 0);
	assert_int_equal(enroll_guest(&F.t, &req, &er), 0);
	snprintf(ima, sizeof(ima), "%s/binary_runtime_measurements", F.root);
	src.ima_path = ima;
	assert_int_equal(attest_fixture_der(er.ak_cert, &src.ak.cert), 0);
	src.ek = F.honest.h.ek;
	assert_int_equal(write_list(NULL, 0), 0);
	assert_int_equal(host_quote_collect(&src, &F.guest, &h), 0);   /* locality 0 */
	allow_files(ARRAY_SIZE(files));
	assert_int_equal(appraise(&h, &res), VS_WARNING);     /* the fixture's violation */
	assert_int_equal(res.nfail, 1);
	assert_int_equal(res.fail[0].reason, VR_HOST_IMA_VIOLATION);
	bundle_host_free(&h);
	OPENSSL_free(src.ak.cert.data);
	/* the locality-3 AK at locality 0: the TPM refuses to sign */
	{
		TPML_PCR_SELECTION sel = { .count = 1, .pcrSelections = { {
			.hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = { 0, 4, 0 } } } };
		uint8_t att[1024], sig[1024], bind[32] = { 0 };
		size_t alen = 0, slen = 0;
		struct quote_key ak;

		assert_int_equal(quote_ak_create(&F.t, QUOTE_AK_RSA2048, HOST_UUID, &ak), 0);
		assert_int_not_equal(quote_sign(&F.t, &ak, bind, sizeof(bind), &sel, att, &alen, sig,
						sizeof(sig), &slen), 0);
		quote_flush(&F.t, ak.handle);
	}
	X509_free(er.ak_cert);
	sk_X509_free(mid);
	X509_STORE_free(anchors);
}

/* A version 2 bundle: written, parsed back, the same evidence; one spelling. */
static void test_bundle_v2_roundtrip(void **state)
{
	struct bundle b, back;
	struct bundle_error err;
	struct verify_result res;
	char *json = NULL, *p;
	size_t len = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.version = BUNDLE_VERSION_HOST;
	snprintf(b.name, sizeof(b.name), "guest-a");
	snprintf(b.uuid, sizeof(b.uuid), "0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11");
	snprintf(b.label, sizeof(b.label), "system_u:system_r:bulwark_vmm_t:s0:c1,c2");
	snprintf(b.created, sizeof(b.created), "2026-12-02T05:00:00Z");
	memcpy(b.nonce, F.guest.nonce, F.guest.nonce_len);
	b.nonce_len = F.guest.nonce_len;
	b.attest = F.guest.attest;
	b.signature = F.guest.signature;
	b.ak_public = F.guest.attest;
	b.ak.cert = F.honest.h.ak.cert;
	b.ek = F.honest.h.ek;
	b.event_log = F.guest.signature;
	b.pcrs.banks = (struct evlog_banks){ .count = 1, .alg = { EVLOG_ALG_SHA256 },
					     .size = { 32 } };
	b.pcrs.mask[0] = 1;
	b.host = F.honest.h;
	assert_int_equal(bundle_write(&b, &json, &len), 0);
	assert_non_null(strstr(json, "\"version\":2,"));
	assert_int_equal(bundle_parse((const uint8_t *)json, len, &back, &err), 0);
	assert_int_equal(back.version, BUNDLE_VERSION_HOST);
	assert_int_equal(back.host.ima_log.len, F.honest.h.ima_log.len);
	assert_memory_equal(back.host.ima_log.data, F.honest.h.ima_log.data, back.host.ima_log.len);
	assert_memory_equal(back.host.attest.data, F.honest.h.attest.data, back.host.attest.len);
	assert_int_equal(back.host.ek.nchain, 1);
	assert_memory_equal(back.host.pcr10, F.honest.h.pcr10, 32);
	/* the parsed host evidence appraises as the original */
	assert_int_equal(appraise(&back.host, &res), VS_AFFIRMING);
	bundle_free(&back);
	/* another spelling of the same evidence is refused */
	p = strstr(json, "\"pcr_bank\":");
	assert_non_null(p);
	p[-1] = '\t';
	assert_int_equal(bundle_parse((const uint8_t *)json, len, &back, &err), -EBADMSG);
	assert_int_equal(err.code, BUNDLE_ERR_CANONICAL);
	p[-1] = ' ';
	/* version 1 with a host member is refused by name */
	p = strstr(json, "\"version\":2");
	p[10] = '1';
	assert_int_equal(bundle_parse((const uint8_t *)json, len, &back, &err), -EBADMSG);
	assert_int_equal(err.code, BUNDLE_ERR_FIELD);
	free(json);
}

/* bulwark-verify's path: verify_bundle() of real version 1 and 2 bundles. */
static enum verify_status verify_real(const char *json, size_t len, int host_required,
				      size_t nallow, struct verify_result *res)
{
	static struct manifest m;
	const struct evlog_banks banks = { .count = 2,
		.alg = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 }, .size = { 32, 48 } };
	char ek_ca[160];
	const char *ak[] = { F.ak_ca }, *ek[] = { ek_ca };
	struct host_allowlist al = { .e = F.allow, .n = nallow };
	const struct verify_options o = { .ak_ca = ak, .nak_ca = 1, .ek_ca = ek, .nek_ca = 1,
		.manifest = &m, .host_ek_ca = ek, .nhost_ek_ca = 1, .host_ak_ca = ak,
		.nhost_ak_ca = 1, .host_allow = &al };
	struct verify_ctx *ctx = NULL;
	uint8_t nonce[32];
	enum verify_status st;

	snprintf(ek_ca, sizeof(ek_ca), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	assert_int_equal(reference_build(&F.boot, &banks, "host-test", 1, &m), 0);
	m.host_required = host_required;
	m.allow_migrate = F.allow_migrate;
	assert_int_equal(verify_ctx_new(&o, &ctx), 0);
	memset(nonce, 0xc3, sizeof(nonce));
	assert_int_equal(verify_ctx_expect_nonce(ctx, nonce, sizeof(nonce)), 0);
	st = verify_bundle(ctx, (const uint8_t *)json, len, res);
	verify_ctx_free(ctx);
	return st;
}

static void test_verify_bundle_with_host(void **state)
{
	struct verify_result res;
	char *ear = NULL;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	/* version 1, host evidence not required: the guest alone, as before */
	if (verify_real(F.v1, F.v1_len, 0, F.nallow, &res) != VS_AFFIRMING)
		print_error("%s: %s\n", verify_reason_name(res.fail[0].reason), res.fail[0].detail);
	assert_int_equal(res.status, VS_AFFIRMING);
	assert_int_equal(res.host.present, 0);
	/* version 1, required: at best a warning */
	assert_int_equal(verify_real(F.v1, F.v1_len, 1, F.nallow, &res), VS_WARNING);
	assert_int_equal(res.fail[0].reason, VR_HOST_MISSING);
	assert_int_equal(res.vector[TV_HARDWARE], 32);
	seen[VR_HOST_MISSING] = 1;
	/* version 2, honest host: both affirm, two trust vectors */
	if (verify_real(F.v2, F.v2_len, 1, F.nallow, &res) != VS_AFFIRMING)
		ear_report(stderr, &res, "v2");
	assert_int_equal(verify_result_worst(&res), VS_AFFIRMING);
	assert_int_equal(res.status, VS_AFFIRMING);
	assert_int_equal(res.host.present, 1);
	assert_int_equal(res.host.status, VS_AFFIRMING);
	assert_int_equal(res.host.vector[TV_HARDWARE], 2);
	assert_int_equal(res.host.entries, ARRAY_SIZE(files));
	assert_int_equal(ear_json(&res, "b.json", "host-test", 0, &ear), 0);
	assert_non_null(strstr(ear, "\"bulwark:host\""));
	assert_non_null(strstr(ear, "\"bulwark.ima-entries\":5"));
	free(ear);
	/* the forging tool not on the allowlist: the guest still affirms, the
	 * host does not, and the bundle's verdict is the worse of the two */
	allow_files(FORGE);
	assert_int_equal(verify_real(F.v2, F.v2_len, 1, F.nallow, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.status, VS_AFFIRMING);
	assert_int_equal(res.host.status, VS_CONTRAINDICATED);
	assert_int_equal(res.host.fail[0].reason, VR_HOST_FILE);
	assert_non_null(strstr(res.host.fail[0].detail, "/root/forge-vtpm"));
	allow_files(ARRAY_SIZE(files));
}

/* The manifest's default is "required": guest-only evidence is accepted
 * only when the manifest says "guest-only"; it always says which. */
static void test_manifest_host_default(void **state)
{
	static struct manifest m, again;
	const struct evlog_banks banks = { .count = 2,
		.alg = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 }, .size = { 32, 48 } };
	struct bundle_error err;
	char *text = NULL, *back = NULL, *p, *q, buf[16384];
	size_t len = 0;
	int n;

	(void)state;
	assert_int_equal(reference_build(&F.boot, &banks, "host-test", 1, &m), 0);
	assert_int_equal(m.host_required, 1);
	assert_int_equal(manifest_write(&m, &text, &len), 0);
	p = strstr(text, ",\n  \"host_evidence\":\"required\"");
	assert_non_null(p);
	/* the key removed: still required */
	q = p + strlen(",\n  \"host_evidence\":\"required\"");
	n = snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - text), text, q);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	again.host_required = 0;
	assert_int_equal(manifest_parse((uint8_t *)buf, (size_t)n, &again, &err), 0);
	assert_int_equal(again.host_required, 1);
	/* "guest-only": accepted, and written back as such */
	n = snprintf(buf, sizeof(buf), "%.*s,\"host_evidence\":\"guest-only\"%s",
		     (int)(p - text), text, q);
	assert_int_equal(manifest_parse((uint8_t *)buf, (size_t)n, &again, &err), 0);
	assert_int_equal(again.host_required, 0);
	assert_int_equal(manifest_write(&again, &back, &len), 0);
	assert_non_null(strstr(back, "\"host_evidence\":\"guest-only\""));
	free(back);
	/* anything else is refused by name */
	n = snprintf(buf, sizeof(buf), "%.*s,\"host_evidence\":\"optional\"%s",
		     (int)(p - text), text, q);
	free(text);
	assert_int_equal(manifest_parse((uint8_t *)buf, (size_t)n, &again, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "host_evidence"));
}

static void put_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* What `bulwark enroll` writes (cmd_attest.h), for the guest's or the host's AK. */
static void attest_dir(const char *dir, const char *name, const char *uuid, X509 *ak)
{
	struct bundle_blob der;
	char id[128], path[256];
	uint8_t *chain = NULL;
	size_t n = 0;

	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(id, sizeof(id), "%s\n%s\n", name, uuid);
	put_bytes(dir, "identity", id, strlen(id));
	put_bytes(dir, "ak.alg", "rsa2048\n", 8);
	assert_int_equal(attest_fixture_der(ak, &der), 0);
	put_bytes(dir, "ak.crt", der.data, der.len);
	OPENSSL_free(der.data);
	assert_int_equal(attest_fixture_der(F.ek_cert, &der), 0);
	put_bytes(dir, "ek.crt", der.data, der.len);
	OPENSSL_free(der.data);
	snprintf(path, sizeof(path), "%s/issuercert.pem", F.ca);
	assert_int_equal(bundle_read_file(path, 1u << 20, &chain, &n), 0);
	put_bytes(dir, "ek-chain.pem", chain, n);
	free(chain);
}

/* build/bin/bulwark beside this test's build/tests (or build/san/...). */
static void bulwark_bin(char *out, size_t cap)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (snprintf(out, cap, "%s/../bin/bulwark", self) >= (int)cap)
		fail_msg("path too long");
	if (access(out, X_OK))
		fail_msg("%s not built: make build/bin/bulwark (or all)", out);
}

/*
 * The real `bulwark attest --host-tpm`: the guest's quote from its vTPM's
 * test sockets, the host's evidence added, a version 2 bundle that
 * bulwark-verify's path appraises (the host list has the fixture's
 * violation by now: the host's only reason is that warning).
 */
static void test_cli_attest_with_host(void **state)
{
	char bin[PATH_MAX], gdir[128], hdir[128], out[128], cmd[PATH_MAX + 2048];
	struct verify_result res;
	uint8_t *json = NULL;
	size_t len = 0;

	(void)state;
	bulwark_bin(bin, sizeof(bin));
	snprintf(gdir, sizeof(gdir), "%s/guest-dir", F.root);
	snprintf(hdir, sizeof(hdir), "%s/host-dir", F.root);
	snprintf(out, sizeof(out), "%s/cli.json", F.root);
	attest_dir(gdir, GUEST_NAME, GUEST_UUID, F.guest_ak);
	attest_dir(hdir, HOST_NAME, HOST_UUID, F.ak_cert);
	put_bytes(F.root, "guest.log", F.glog, F.glog_len);
	assert_int_equal(write_list(NULL, 0), 0);
	close(F.fd);                      /* swtpm serves one data channel */
	F.fd = -1;
	snprintf(cmd, sizeof(cmd), "%s attest %s --nonce %s --out %s --tpm %s --dir %s "
		 "--log %s/guest.log --label %s --host-tpm %s --host-dir %s "
		 "--host-ima %s/binary_runtime_measurements >/dev/null", bin, GUEST_NAME,
		 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", out, F.sock,
		 gdir, F.root, GUEST_LABEL, F.sock, hdir, F.root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(swtpm_open_data(&F.tpm, &F.fd), 0);
	assert_int_equal(bundle_read_file(out, BUNDLE_MAX_SIZE_HOST, &json, &len), 0);
	assert_non_null(strstr((char *)json, "\"version\":2,"));
	allow_files(ARRAY_SIZE(files));
	assert_int_equal(verify_real((char *)json, len, 1, F.nallow, &res), VS_WARNING);
	assert_int_equal(res.status, VS_AFFIRMING);
	assert_int_equal(res.host.present, 1);
	assert_int_equal(res.host.nfail, 1);
	assert_int_equal(res.host.fail[0].reason, VR_HOST_IMA_VIOLATION);
	assert_int_equal(res.host.entries, ARRAY_SIZE(files) + 1);
	free(json);
}

/*
 * `bulwark attest --host-tpm` copies the host quote made at enrollment
 * (DIR/host-enroll.*, as `bulwark enroll --host-tpm` writes them) into the
 * bundle; a byte changed in the kept signature is contraindicated.
 */
static void test_cli_attest_with_enrollment(void **state)
{
	char bin[PATH_MAX], gdir[128], hdir[128], out[128], cmd[PATH_MAX + 2048];
	struct bundle_host_enroll e;
	struct verify_result res;
	uint8_t *json = NULL;
	size_t len = 0;

	(void)state;
	bulwark_bin(bin, sizeof(bin));
	snprintf(gdir, sizeof(gdir), "%s/guest-dir", F.root);
	snprintf(hdir, sizeof(hdir), "%s/host-dir", F.root);
	snprintf(out, sizeof(out), "%s/cli-enroll.json", F.root);
	assert_int_equal(host_enroll_quote(&e), 0);
	put_bytes(gdir, "host-enroll.attest", e.attest.data, e.attest.len);
	put_bytes(gdir, "host-enroll.sig", e.signature.data, e.signature.len);
	put_bytes(gdir, "host-enroll.pcr10", e.pcr10, 32);
	put_bytes(gdir, "host-enroll.ima", e.ima_log.data, e.ima_log.len);
	close(F.fd);
	F.fd = -1;
	for (int round = 0; round < 2; round++) {
		snprintf(cmd, sizeof(cmd), "%s attest %s --nonce %s --out %s --tpm %s --dir %s "
			 "--log %s/guest.log --label %s --host-tpm %s --host-dir %s "
			 "--host-ima %s/binary_runtime_measurements >/dev/null", bin, GUEST_NAME,
			 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", out,
			 F.sock, gdir, F.root, GUEST_LABEL, F.sock, hdir, F.root);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(bundle_read_file(out, BUNDLE_MAX_SIZE_HOST, &json, &len), 0);
		assert_non_null(strstr((char *)json, "\n    \"enrollment\":{"));
		allow_files(ARRAY_SIZE(files));
		verify_real((char *)json, len, 1, F.nallow, &res);
		free(json);
		assert_int_equal(res.status, VS_AFFIRMING);
		assert_int_equal(res.host.present, 1);
		if (!round) {
			/* the violation (a warning) is in both lists: nothing else */
			assert_int_equal(res.host.status, VS_WARNING);
			for (size_t i = 0; i < res.host.nfail; i++)
				assert_int_equal(res.host.fail[i].reason, VR_HOST_IMA_VIOLATION);
			e.signature.data[e.signature.len - 1] ^= 0x01;
			put_bytes(gdir, "host-enroll.sig", e.signature.data, e.signature.len);
		} else {
			size_t i = 0;

			assert_int_equal(res.host.status, VS_CONTRAINDICATED);
			while (i < res.host.nfail && res.host.fail[i].reason != VR_HOST_ENROLL_SIGNATURE)
				i++;
			assert_true(i < res.host.nfail);
		}
	}
	assert_int_equal(swtpm_open_data(&F.tpm, &F.fd), 0);
	enroll_free(&e);
}

/* Does res name reason r with a detail containing what? */
static int has_reason(const struct verify_result *res, enum verify_reason r, const char *what)
{
	for (size_t i = 0; i < res->nfail; i++)
		if (res->fail[i].reason == r && (!what || strstr(res->fail[i].detail, what)))
			return 1;
	return 0;
}

/* Enrollment bound to the host: clean affirms, forged names the tool. */
static void test_enrollment_honest_and_forged(void **state)
{
	struct bundle_host h = F.honest.h;
	struct verify_result res;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	h.enroll = F.enr_clean;
	assert_int_equal(appraise(&h, &res), VS_AFFIRMING);
	assert_int_equal(res.nfail, 0);
	assert_int_equal(res.events, ARRAY_SIZE(files));   /* the current list's */
	h.enroll = F.enr_forged;
	assert_int_equal(appraise(&h, &res), VS_AFFIRMING);
	/* the forging tool is not allowed: the certificate was issued after it ran */
	allow_files(FORGE);
	h.enroll = F.enr_clean;
	assert_int_equal(appraise(&h, &res), VS_CONTRAINDICATED);
	assert_false(has_reason(&res, VR_HOST_ENROLL_FILE, NULL));
	h.enroll = F.enr_forged;
	assert_int_equal(appraise(&h, &res), VS_CONTRAINDICATED);
	assert_true(has_reason(&res, VR_HOST_FILE, "/root/forge-vtpm"));
	assert_true(has_reason(&res, VR_HOST_ENROLL_FILE, "/root/forge-vtpm"));
	seen[VR_HOST_ENROLL_FILE] = 1;
	allow_files(ARRAY_SIZE(files));
}

static void expect_enroll(const struct bundle_host *h, enum verify_reason a, enum verify_reason b)
{
	struct verify_result res;

	assert_int_equal(appraise(h, &res), VS_CONTRAINDICATED);
	if (res.fail[0].reason != a && res.fail[0].reason != b)
		print_error("primary %s (%s)\n", verify_reason_name(res.fail[0].reason),
			    res.fail[0].detail);
	assert_true(res.fail[0].reason == a || res.fail[0].reason == b);
}

/* Every byte of the enrollment quote, its signature, PCR 10 and IMA list. */
static void test_enrollment_bytes(void **state)
{
	struct bundle_host h = F.honest.h;
	struct bundle_host_enroll *e = &h.enroll;
	uint8_t a[1024], s[1024], l[LIST_CAP];

	(void)state;
	allow_files(ARRAY_SIZE(files));
	h.enroll = F.enr_forged;
	memcpy(a, e->attest.data, e->attest.len);
	memcpy(s, e->signature.data, e->signature.len);
	memcpy(l, e->ima_log.data, e->ima_log.len);
	e->attest.data = a;
	e->signature.data = s;
	e->ima_log.data = l;
	for (size_t i = 0; i < e->attest.len; i++) {
		a[i] ^= 0x01;
		expect_enroll(&h, VR_HOST_ENROLL_MALFORMED, VR_HOST_ENROLL_SIGNATURE);
		a[i] ^= 0x01;
	}
	for (size_t i = 0; i < e->signature.len; i++) {
		s[i] ^= 0x01;
		expect_enroll(&h, VR_HOST_ENROLL_SIGNATURE, VR_HOST_ENROLL_SIGNATURE);
		s[i] ^= 0x01;
	}
	for (size_t i = 0; i < e->ima_log.len; i++) {
		l[i] ^= 0x01;
		expect_enroll(&h, VR_HOST_ENROLL_IMA_MALFORMED, VR_HOST_ENROLL_IMA_REPLAY);
		l[i] ^= 0x01;
	}
	e->ima_log = F.enr_clean.ima_log;     /* an earlier, well-formed list */
	expect_enroll(&h, VR_HOST_ENROLL_IMA_REPLAY, VR_HOST_ENROLL_IMA_REPLAY);
	e->ima_log = (struct bundle_blob){ l, F.enr_forged.ima_log.len };
	for (size_t i = 0; i < 32; i++) {
		e->pcr10[i] ^= 0x01;
		expect_enroll(&h, VR_HOST_ENROLL_PCR, VR_HOST_ENROLL_PCR);
		e->pcr10[i] ^= 0x01;
	}
	a[0] ^= 0x80;                         /* magic: not TPM-generated */
	expect_enroll(&h, VR_HOST_ENROLL_MALFORMED, VR_HOST_ENROLL_MALFORMED);
	a[0] ^= 0x80;
	{
		struct verify_result res;

		assert_int_equal(appraise(&h, &res), VS_AFFIRMING);
	}
}

/* The binding: the guest AK's Name, and no other quote stands for it. */
static void test_enrollment_binding(void **state)
{
	struct bundle_host h = F.honest.h;
	struct bundle_blob saved = F.guest.ak_public;
	uint8_t pub[BUNDLE_MAX_TPM];

	(void)state;
	allow_files(ARRAY_SIZE(files));
	h.enroll = F.enr_forged;
	assert_true(saved.len <= sizeof(pub));
	memcpy(pub, saved.data, saved.len);
	F.guest.ak_public.data = pub;
	for (size_t i = 0; i < saved.len; i++) {
		pub[i] ^= 0x01;
		expect_enroll(&h, VR_HOST_ENROLL_BINDING, VR_HOST_ENROLL_BINDING);
		pub[i] ^= 0x01;
	}
	F.guest.ak_public = saved;
	/* the bundle's own host quote (bound to the guest quote) as the enrollment's */
	h.enroll.attest = F.honest.h.attest;
	h.enroll.signature = F.honest.h.signature;
	h.enroll.ima_log = F.honest.h.ima_log;
	memcpy(h.enroll.pcr10, F.honest.h.pcr10, 32);
	expect_enroll(&h, VR_HOST_ENROLL_BINDING, VR_HOST_ENROLL_BINDING);
	/* and the enrollment quote as the bundle's */
	h = F.honest.h;
	h.attest = F.enr_forged.attest;
	h.signature = F.enr_forged.signature;
	h.ima_log = F.enr_forged.ima_log;
	memcpy(h.pcr10, F.enr_forged.pcr10, 32);
	expect(&h, VR_HOST_BINDING);
}

/* "host"."enrollment" written, parsed back, canonical, optional. */
static void test_enrollment_roundtrip(void **state)
{
	struct bundle_error err;
	struct verify_result res;
	struct bundle back;
	char *json = NULL, *p;
	size_t len = 0;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	F.real.version = BUNDLE_VERSION_HOST;
	F.real.host = F.bound.h;
	F.real.host.enroll = F.enr_forged;
	assert_int_equal(bundle_write(&F.real, &json, &len), 0);
	memset(&F.real.host, 0, sizeof(F.real.host));
	F.real.version = BUNDLE_VERSION;
	assert_non_null(strstr(json, "\n    \"enrollment\":{\n      \"attest\":"));
	assert_int_equal(bundle_parse((const uint8_t *)json, len, &back, &err), 0);
	assert_true(back.host.enroll.present);
	assert_int_equal(back.host.enroll.ima_log.len, F.enr_forged.ima_log.len);
	assert_memory_equal(back.host.enroll.attest.data, F.enr_forged.attest.data,
			    F.enr_forged.attest.len);
	assert_int_equal(verify_host(&(struct verify_host_policy){ .ek_store = F.ek_store,
		.ak_store = F.ak_store, .allow = F.allow, .nallow = F.nallow }, &back.host, &back,
		&res), VS_AFFIRMING);
	bundle_free(&back);
	p = strstr(json, "\"pcr10\":\"");
	p = p ? strstr(p + 1, "\"pcr10\":\"") : NULL;    /* the enrollment's */
	assert_non_null(p);
	memcpy(p, "\"pcrXX\"", 7);
	assert_int_equal(bundle_parse((const uint8_t *)json, len, &back, &err), -EBADMSG);
	assert_int_equal(err.code, BUNDLE_ERR_FIELD);
	free(json);
}


/* ---- issue 18 item 4: each host's evidence across a move ------------------ */

/* The producer's source of the fixture's host (F.t), its certificates DER. */
static int hop_source(struct host_source *src, char *ima, size_t cap)
{
	snprintf(ima, cap, "%s/binary_runtime_measurements", F.root);
	*src = (struct host_source){ .t = &F.t, .alg = QUOTE_AK_RSA2048, .uuid = HOST_UUID,
		.set_locality = set_locality_cb, .ima_path = ima, .bank = EVLOG_ALG_SHA256 };
	src->ek.nchain = 1;
	return attest_fixture_der(F.ak_cert, &src->ak.cert) ||
	       attest_fixture_der(F.ek_cert, &src->ek.cert) ||
	       attest_fixture_der(F.ek_mid, &src->ek.chain[0]) || write_list(NULL, 0) ? -1 : 0;
}

static void hop_source_free(struct host_source *src)
{
	OPENSSL_free(src->ak.cert.data);
	OPENSSL_free(src->ek.cert.data);
	OPENSSL_free(src->ek.chain[0].data);
}

/* The fixture's list ends with a violation (group_setup): the best a quote
 * made now can be is that one warning. */
static void only_violation(const struct verify_host_result *h)
{
	assert_int_equal(h->status, VS_WARNING);
	assert_int_equal(h->nfail, 1);
	assert_int_equal(h->fail[0].reason, VR_HOST_IMA_VIOLATION);
}

static enum verify_status hop_appraise(const struct bundle_hop *hop, struct verify_result *res)
{
	struct verify_host_policy pol = { .ek_store = F.ek_store, .ak_store = F.ak_store,
					  .allow = F.allow, .nallow = F.nallow };
	enum verify_status s = verify_host_hop(&pol, hop, "host at migration 1", res);

	if (res->nfail && res->fail[0].reason < VR_COUNT)
		seen[res->fail[0].reason] = 1;
	return s;
}

/* The source's quote: bound to its stream, every byte of it checked. */
static void test_hop_quote(void **state)
{
	struct host_source src;
	struct bundle_hop hop, back;
	struct verify_result res;
	uint8_t stream[32], *rec = NULL, a[1024];
	char ima[160], why[160];
	size_t len = 0;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	memset(stream, 0x5a, sizeof(stream));
	assert_int_equal(hop_source(&src, ima, sizeof(ima)), 0);
	assert_int_equal(host_quote_hop(&src, stream, &hop), 0);
	hop_source_free(&src);
	assert_int_equal(hop_appraise(&hop, &res), VS_WARNING);  /* the violation */
	assert_int_equal(res.nfail, 1);
	assert_int_equal(res.fail[0].reason, VR_HOST_IMA_VIOLATION);
	assert_int_equal(res.events, ARRAY_SIZE(files) + 1);
	/* the record's bytes: what decodes encodes back to the same bytes */
	assert_int_equal(bundle_hop_encode(&hop, &rec, &len), 0);
	assert_int_equal(bundle_hop_decode(rec, len, &back, why, sizeof(why)), 0);
	assert_memory_equal(back.stream_sha256, stream, 32);
	assert_int_equal(hop_appraise(&back, &res), VS_WARNING);
	bundle_hop_free(&back);
	free(rec);
	/* another stream: the quote does not bind it */
	hop.stream_sha256[7] ^= 0x01;
	assert_int_equal(hop_appraise(&hop, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.fail[0].reason, VR_HOP_BINDING);
	assert_non_null(strstr(res.fail[0].detail, "migration"));
	hop.stream_sha256[7] ^= 0x01;
	/* the quote's bytes */
	memcpy(a, hop.host.attest.data, hop.host.attest.len);
	for (size_t i = 0; i < hop.host.attest.len; i += 3) {
		hop.host.attest.data[i] ^= 0x01;
		assert_int_equal(hop_appraise(&hop, &res), VS_CONTRAINDICATED);
		hop.host.attest.data[i] ^= 0x01;
	}
	/* the guest's own host quote is no hop's */
	{
		struct bundle_hop other = { .host = F.honest.h };

		memcpy(other.stream_sha256, stream, 32);
		assert_int_equal(hop_appraise(&other, &res), VS_CONTRAINDICATED);
		assert_int_equal(res.fail[0].reason, VR_HOP_BINDING);
	}
	/* a file the allowlist lacks is named with the hop */
	allow_files(FORGE);
	assert_int_equal(hop_appraise(&hop, &res), VS_CONTRAINDICATED);
	assert_true(has_reason(&res, VR_HOST_FILE, "/root/forge-vtpm"));
	allow_files(ARRAY_SIZE(files));
	bundle_hop_free(&hop);
}

/* A record with small made-up blobs (the codec checks structure only). */
static void hop_fake(struct bundle_hop *h, uint8_t *blob)
{
	memset(h, 0, sizeof(*h));
	memset(h->stream_sha256, 0x11, 32);
	h->host.pcr_alg = EVLOG_ALG_SHA256;
	h->host.attest = (struct bundle_blob){ blob, 3 };
	h->host.signature = (struct bundle_blob){ blob, 4 };
	h->host.ak_public = (struct bundle_blob){ blob, 5 };
	h->host.ima_log = (struct bundle_blob){ blob, 6 };
	h->host.ak.cert = (struct bundle_blob){ blob, 7 };
	h->host.ek.cert = (struct bundle_blob){ blob, 8 };
	h->host.ek.chain[0] = (struct bundle_blob){ blob, 9 };
	h->host.ek.nchain = 1;
}

static void hop_refused(const uint8_t *p, size_t len, const char *what)
{
	struct bundle_hop h;
	char why[160] = "";

	assert_int_equal(bundle_hop_decode(p, len, &h, why, sizeof(why)), -EBADMSG);
	if (what && !strstr(why, what))
		print_error("reason \"%s\", wanted \"%s\"\n", why, what);
	assert_true(!what || strstr(why, what));
}

/* Every refusal of the record's decoder, and the encoder's bounds. */
static void test_hop_record_refusals(void **state)
{
	uint8_t blob[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, *rec = NULL, *big;
	struct bundle_hop h, back;
	char why[160];
	size_t len = 0;

	(void)state;
	hop_fake(&h, blob);
	assert_int_equal(bundle_hop_encode(&h, &rec, &len), 0);
	assert_int_equal(bundle_hop_decode(rec, len, &back, why, sizeof(why)), 0);
	assert_int_equal(back.host.ek.nchain, 1);
	bundle_hop_free(&back);
	for (size_t n = 0; n < len; n++)
		hop_refused(rec, n, "cut short");
	big = malloc(len + 1);
	assert_non_null(big);
	memcpy(big, rec, len);
	big[len] = 0;
	hop_refused(big, len + 1, "after its last field");
	big[0] = 2;
	hop_refused(big, len, "version");
	big[0] = 1;
	big[5] = 1;
	hop_refused(big, len, "reserved word");
	big[5] = 0;
	big[40] = 0x99;                          /* bank 0x0099 */
	hop_refused(big, len, "PCR bank");
	big[40] = 0x0b;
	big[43] = 1;
	hop_refused(big, len, "reserved half-word");
	big[43] = 0;
	big[44] = 20;                            /* PCR 10: SHA-1's size in a SHA-256 bank */
	hop_refused(big, len, "PCR 10");
	big[44] = 32;
	memset(big + 80, 0, 4);                  /* the quote: empty */
	hop_refused(big, len, "host quote");
	memcpy(big, rec, len);
	memset(big + len - 9 - 4 - 4, 5, 1);     /* the EK chain's count: 5 */
	hop_refused(big, len, "intermediates");
	free(big);
	free(rec);
	/* the encoder refuses what the decoder would */
	h.host.pcr_alg = 0;
	assert_int_equal(bundle_hop_encode(&h, &rec, &len), -EINVAL);
	hop_fake(&h, blob);
	h.host.attest.len = 0;
	assert_int_equal(bundle_hop_encode(&h, &rec, &len), -EINVAL);
	hop_fake(&h, blob);
	h.host.ek.nchain = BUNDLE_MAX_CHAIN + 1;
	assert_int_equal(bundle_hop_encode(&h, &rec, &len), -EINVAL);
}

/*
 * The whole path: the guest's log gains a migration event (the target's
 * code), its quote is made, the target host's evidence binds it and the
 * source host's binds the stream: verify_bundle affirms with both hosts
 * appraised; a hop that names another stream, or is missing, is said.
 */
static void test_hop_bundle_verifies(void **state)
{
	uint8_t stream[32], cert[32], nonce[32];
	struct measure_migration mg = { "host-a", cert, stream };
	struct quote_guest g = { .name = GUEST_NAME, .uuid = GUEST_UUID, .label = GUEST_LABEL,
		.alg = QUOTE_AK_RSA2048, .set_locality = set_locality_cb };
	struct host_source src;
	struct evlog_writer w;
	struct verify_result res;
	struct bundle b;
	char ima[160], *json = NULL, *ear = NULL, *p;
	size_t len = 0;

	(void)state;
	allow_files(ARRAY_SIZE(files));
	memset(stream, 0x77, sizeof(stream));
	memset(cert, 0x33, sizeof(cert));
	memset(nonce, 0xc3, sizeof(nonce));
	assert_int_equal(measure_log_load(&w, F.glog, F.glog_len), 0);
	assert_int_equal(measure_migrate_run(F.fd, &w, &mg, 1796000000, &F.sec), 0);
	g.log = (struct bundle_blob){ w.buf, w.len };
	assert_int_equal(attest_fixture_der(F.guest_ak, &g.ak.cert), 0);
	assert_int_equal(attest_fixture_der(F.ek_cert, &g.ek.cert), 0);
	assert_int_equal(attest_fixture_der(F.ek_mid, &g.ek.chain[0]), 0);
	g.ek.nchain = 1;
	assert_int_equal(quote_collect(&F.t, &g, nonce, sizeof(nonce), &b), 0);
	OPENSSL_free(g.ak.cert.data);
	OPENSSL_free(g.ek.cert.data);
	OPENSSL_free(g.ek.chain[0].data);
	evlog_writer_free(&w);
	assert_int_equal(hop_source(&src, ima, sizeof(ima)), 0);
	assert_int_equal(host_quote_collect(&src, &b, &b.host), 0);     /* host B, now */
	assert_int_equal(host_quote_hop(&src, stream, &b.hops[0]), 0);  /* host A, at the move */
	hop_source_free(&src);
	b.version = BUNDLE_VERSION_HOST;
	b.nhops = 1;
	F.allow_migrate = 1;
	assert_int_equal(bundle_write(&b, &json, &len), 0);
	assert_non_null(strstr(json, "\n  \"migrations\":[\n    {\n      \"stream_sha256\":\"7777"));
	if (verify_real(json, len, 1, F.nallow, &res) != VS_WARNING)
		ear_report(stderr, &res, "hop");
	assert_int_equal(verify_result_worst(&res), VS_WARNING);
	assert_int_equal(res.status, VS_AFFIRMING);      /* the guest, migrated */
	only_violation(&res.host);                       /* host B */
	assert_int_equal(res.nhops, 1);
	assert_int_equal(res.hops[0].link, 1);
	assert_true(res.chain[1].migrated);
	only_violation(&res.hops[0].r);                  /* host A, at the move */
	/* bound to the move's stream: as fresh as the move (2), not "unknown" (32) */
	assert_int_equal(res.hops[0].r.vector[TV_INSTANCE_IDENTITY], 2);
	assert_int_equal(ear_json(&res, "b.json", "host-test", 0, &ear), 0);
	assert_non_null(strstr(ear, "\"bulwark:host:migration-1\""));
	assert_non_null(strstr(ear, "\"bulwark.chain-link\":1"));
	free(ear);
	/* the record names another stream: no migration of the log has it */
	p = strstr(json, "\"stream_sha256\":\"7777");
	p[17] = '6';
	assert_int_equal(verify_real(json, len, 1, F.nallow, &res), VS_CONTRAINDICATED);
	assert_int_equal(res.status, VS_WARNING);        /* its migration lacks evidence */
	assert_int_equal(res.hops[0].r.status, VS_CONTRAINDICATED);
	{
		struct verify_result r = { .nfail = res.hops[0].r.nfail };

		memcpy(r.fail, res.hops[0].r.fail, sizeof(r.fail));
		assert_true(has_reason(&r, VR_HOP_NOT_IN_LOG, "no migration event"));
		assert_true(has_reason(&r, VR_HOP_BINDING, NULL));
		seen[VR_HOP_NOT_IN_LOG] = 1;
	}
	/* and the migration it should name has no host evidence: a warning */
	assert_true(has_reason(&res, VR_HOST_MISSING, "migration 1 from host-a"));
	free(json);
	/* no hop at all: host-evidence-missing names the migration */
	b.nhops = 0;
	assert_int_equal(bundle_write(&b, &json, &len), 0);
	assert_int_equal(verify_real(json, len, 1, F.nallow, &res), VS_WARNING);
	assert_int_equal(res.fail[0].reason, VR_HOST_MISSING);
	assert_non_null(strstr(res.fail[0].detail, "migration 1 from host-a"));
	/* guest-only manifests do not ask (host B's violation stays a warning) */
	assert_int_equal(verify_real(json, len, 0, F.nallow, &res), VS_WARNING);
	assert_int_equal(res.status, VS_AFFIRMING);
	free(json);
	b.nhops = 1;
	/* "migrations" is version 2's only */
	b.version = BUNDLE_VERSION;
	assert_int_equal(bundle_write(&b, &json, &len), -EINVAL);
	F.allow_migrate = 0;
	bundle_free(&b);
}

/* Last: every host reason verify_host() can give was the primary one. */
static void test_every_host_reason(void **state)
{
	(void)state;
	for (int r = VR_HOST_MISSING; r <= VR_HOP_NOT_IN_LOG; r++) {   /* the host's */
		if (r >= VR_RESTORE_NOT_ALLOWED && r <= VR_MIGRATE_MALFORMED)
			continue;                                      /* the guest's */
		if (!seen[r])
			print_error("no test produced %s\n", verify_reason_name((enum verify_reason)r));
		assert_true(seen[r]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest_host_affirms),
		cmocka_unit_test(test_file_not_allowed_is_named),
		cmocka_unit_test(test_quote_bytes),
		cmocka_unit_test(test_ima_bytes),
		cmocka_unit_test(test_binding_bytes),
		cmocka_unit_test(test_chain_and_keys),
		cmocka_unit_test(test_producer_cuts_list_at_quote),
		cmocka_unit_test(test_hardware_host_ak),
		cmocka_unit_test(test_bundle_v2_roundtrip),
		cmocka_unit_test(test_verify_bundle_with_host),
		cmocka_unit_test(test_manifest_host_default),
		cmocka_unit_test(test_cli_attest_with_host),
		cmocka_unit_test(test_cli_attest_with_enrollment),
		cmocka_unit_test(test_enrollment_honest_and_forged),
		cmocka_unit_test(test_enrollment_bytes),
		cmocka_unit_test(test_enrollment_binding),
		cmocka_unit_test(test_enrollment_roundtrip),
		cmocka_unit_test(test_hop_quote),
		cmocka_unit_test(test_hop_record_refusals),
		cmocka_unit_test(test_hop_bundle_verifies),
		cmocka_unit_test(test_every_host_reason),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
