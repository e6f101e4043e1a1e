/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quotes on a RUNNING guest's vTPM, the launcher's way: vtpm_start (real
 * swtpm, measured boot, proxy), a poll-loop thread forwarding the guest's
 * commands (this test plays the VMM on v.vmm_fd), enrollment and quotes as
 * host transactions from the test thread.  Checks: the evidence verifies;
 * the guest's own objects survive host quotes untouched; a guest that
 * derives the very same AK cannot make it sign (locality policy); a guest
 * that fills every object slot only makes the quote fail (-EBUSY), never
 * loses its objects.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest/producer/quote_vtpm.h"
#include "attest/producer/reference.h"
#include "attest/format/tpm.h"
#include "attest/verify/verify.h"
#include "attest/verify/verify_priv.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

#define LABEL "system_u:system_r:bulwark_vmm_t:s0:c40,c41"
#define UUID  "7d0c3b1e-2a4f-4e5d-8c6b-9a0f1e2d3c4b"

static char root[] = "/tmp/bulwark-test-quote-vtpm.XXXXXX";
static struct measure_secstate secstate;

static struct {
	char dir[5][128];
	char ak_ca[160], ek_ca[160];
	struct vtpm_config cfg;
	struct measure_boot boot;
	struct vtpm v;
	pthread_t loop;
	int stop_fd, loop_rc;
	struct quote_tpm guest;       /* the guest's commands, through the proxy */
	EVP_PKEY *ca_key;
	X509 *ca_cert, *ak_cert, *ek_cert, *ek_mid;
} F;

static void *loop_run(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = tpmproxy_fd(&F.v.proxy), .events = tpmproxy_events(&F.v.proxy) },
			{ .fd = F.stop_fd, .events = POLLIN },
		};

		if (poll(pfd, 2, tpmproxy_timeout_ms(&F.v.proxy)) < 0 && errno != EINTR) {
			F.loop_rc = -errno;
			break;
		}
		if (pfd[1].revents)
			break;
		F.loop_rc = tpmproxy_service(&F.v.proxy, pfd[0].revents);
		if (F.loop_rc)
			break;
	}
	return NULL;
}

static int enroll(void)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = "guest-q", .uuid = UUID, .alg = QUOTE_AK_P256,
		.ek_cert = F.ek_cert, .ek_chain = mid, .ek_anchors = anchors,
		.ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 1 };
	struct enroll_result res;
	int rc = anchors && mid && X509_STORE_load_file(anchors, F.ek_ca) == 1 &&
		 sk_X509_push(mid, F.ek_mid) ? 0 : -1;

	rc = rc ? rc : quote_vtpm_enroll(&F.v, &req, &res);
	F.ak_cert = rc ? NULL : res.ak_cert;
	sk_X509_free(mid);
	X509_STORE_free(anchors);
	return rc;
}

static int group_setup(void **state)
{
	static const char *const sub[] = { "state", "keys", "ca", "certs", "boot.log" };
	char path[160];

	(void)state;
	log_set_level(LOG_WARN);
	if (!mkdtemp(root))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		snprintf(F.dir[i], sizeof(F.dir[i]), "%s/%s", root, sub[i]);
	snprintf(F.ak_ca, sizeof(F.ak_ca), "%s/ak-ca.pem", root);
	snprintf(F.ek_ca, sizeof(F.ek_ca), "%s/swtpm-localca-rootca-cert.pem", F.dir[2]);
	mkdir(F.dir[1], 0700);
	secstate = attest_fixture_secstate(LABEL);
	F.boot = attest_fixture_boot(&secstate);
	F.cfg = (struct vtpm_config){ .tpm = { .name = "guest-q", .state_dir = F.dir[0],
		.key_dir = F.dir[1], .ca_dir = F.dir[2], .cert_dir = F.dir[3],
		.child_setup = attest_fixture_die_with_test }, .boot = &F.boot, .log_path = F.dir[4] };
	if (vtpm_start(&F.cfg, &F.v) ||
	    attest_fixture_make_ca("test AK CA", F.ak_ca, &F.ca_key, &F.ca_cert))
		return -1;
	snprintf(path, sizeof(path), "%s/ek-rsa2048.crt", F.dir[3]);
	F.ek_cert = attest_fixture_load_cert(path, 0);
	snprintf(path, sizeof(path), "%s/issuercert.pem", F.dir[2]);
	F.ek_mid = attest_fixture_load_cert(path, 1);
	F.stop_fd = eventfd(0, EFD_CLOEXEC);
	if (!F.ek_cert || !F.ek_mid || F.stop_fd < 0 ||
	    pthread_create(&F.loop, NULL, loop_run, NULL))
		return -1;
	quote_tpm_fd(&F.guest, &F.v.vmm_fd);
	return enroll();
}

static int group_teardown(void **state)
{
	uint64_t one = 1;
	char cmd[128];

	(void)state;
	if (F.stop_fd >= 0 && write(F.stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(F.loop, NULL);
	vtpm_stop(&F.v);
	X509_free(F.ak_cert);
	X509_free(F.ek_cert);
	X509_free(F.ek_mid);
	X509_free(F.ca_cert);
	EVP_PKEY_free(F.ca_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A host quote as the launcher makes it; the JSON into *json. */
static int host_quote(const uint8_t *nonce, char **json, size_t *len)
{
	struct quote_guest g = { .name = "guest-q", .uuid = UUID, .label = LABEL,
				 .alg = QUOTE_AK_P256 };
	struct bundle b;
	int rc = attest_fixture_der(F.ak_cert, &g.ak.cert) || attest_fixture_der(F.ek_cert, &g.ek.cert) ||
		 attest_fixture_der(F.ek_mid, &g.ek.chain[0]) ? -ENOMEM : 0;

	g.ek.nchain = 1;
	rc = rc ? rc : quote_vtpm_collect(&F.v, &g, nonce, 32, &b);
	if (!rc) {
		rc = bundle_write(&b, json, len);
		bundle_free(&b);
	}
	OPENSSL_free(g.ak.cert.data);
	OPENSSL_free(g.ek.cert.data);
	OPENSSL_free(g.ek.chain[0].data);
	return rc;
}

/* The guest's TPM2_ReadPublic(handle) response code (0: the object is there). */
static uint32_t guest_read_public(uint32_t handle)
{
	uint8_t cmd[14] = { 0x80, 0x01, 0, 0, 0, 14, 0, 0, 0x01, 0x73 }, rsp[TPM_MAX_MSG];
	size_t len = 0;
	uint32_t code = 0xffffffff;

	cmd[10] = (uint8_t)(handle >> 24);
	cmd[11] = (uint8_t)(handle >> 16);
	cmd[12] = (uint8_t)(handle >> 8);
	cmd[13] = (uint8_t)handle;
	assert_int_equal(tpm_transact(F.v.vmm_fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &len,
				      &code), 0);
	return code;
}

static enum verify_status verify(const char *json, size_t len, const uint8_t *nonce,
				 struct verify_result *res)
{
	int st = attest_fixture_verify(&F.boot, "quote-vtpm", F.ak_ca, F.ek_ca, json, len, nonce,
				       res);

	assert_true(st >= 0);
	return (enum verify_status)st;
}

/* ---- tests ------------------------------------------------------------ */

static void test_quote_while_guest_holds_objects(void **state)
{
	struct quote_key mine;
	struct verify_result res;
	uint8_t nonce[32];
	char *json = NULL;
	size_t len = 0;

	(void)state;
	memset(nonce, 0x3c, sizeof(nonce));
	/* The guest derives the very same AK (the endorsement hierarchy is open). */
	assert_int_equal(quote_ak_create(&F.guest, QUOTE_AK_P256, UUID, &mine), 0);
	assert_int_equal(guest_read_public(mine.handle), 0);
	assert_int_equal(host_quote(nonce, &json, &len), 0);
	/* Its object is untouched by the host transaction ... */
	assert_int_equal(guest_read_public(mine.handle), 0);
	/* ... and the evidence is good. */
	assert_int_equal(verify(json, len, nonce, &res), VS_AFFIRMING);
	assert_string_equal(res.label, LABEL);
	free(json);
	assert_int_equal(quote_flush(&F.guest, mine.handle), 0);
}

static void test_guest_cannot_sign_with_the_ak(void **state)
{
	uint8_t nonce[32] = { 1 }, attest[BUNDLE_MAX_TPM], sig[BUNDLE_MAX_TPM];
	size_t alen = 0, slen = 0;
	struct evlog_banks banks = { .count = 1, .alg = { EVLOG_ALG_SHA256 }, .size = { 32 } };
	TPML_PCR_SELECTION sel;
	struct quote_key ak;
	EVP_PKEY *key;
	uint8_t loc;
	int rc;

	(void)state;
	quote_selection(&banks, &sel);
	assert_int_equal(quote_ak_create(&F.guest, QUOTE_AK_P256, UUID, &ak), 0);
	/* Same key as the certified one ... */
	key = verify_tpm_pkey(&ak.pub.publicArea);
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_eq(key, X509_get0_pubkey(F.ak_cert)), 1);
	EVP_PKEY_free(key);
	/* ... but at locality 0 the policy (PolicyLocality(3)) never holds. */
	assert_int_equal(quote_sign(&F.guest, &ak, nonce, sizeof(nonce), &sel, attest, &alen,
				    sig, sizeof(sig), &slen), -EIO);
	/* Control: the same commands at locality 3 (which only the holder of the
	 * control channel can set) do sign, so the locality was the reason. */
	loc = 3;
	assert_int_equal(swtpm_ctrl(&F.v.swtpm, SWTPM_CMD_SET_LOCALITY, &loc, 1, NULL, 0), 0);
	rc = quote_sign(&F.guest, &ak, nonce, sizeof(nonce), &sel, attest, &alen, sig,
			sizeof(sig), &slen);
	loc = 0;
	assert_int_equal(swtpm_ctrl(&F.v.swtpm, SWTPM_CMD_SET_LOCALITY, &loc, 1, NULL, 0), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(quote_flush(&F.guest, ak.handle), 0);
}

static void test_full_slots_deny_but_do_not_disturb(void **state)
{
	struct quote_key k[3];
	uint8_t nonce[32];
	char *json = NULL;
	size_t len = 0, n = 0;
	int rc;

	(void)state;
	memset(nonce, 0x7e, sizeof(nonce));
	/* swtpm has 3 transient slots: the guest takes them all. */
	for (; n < ARRAY_SIZE(k); n++)
		assert_int_equal(quote_ak_create(&F.guest, QUOTE_AK_P256, UUID, &k[n]), 0);
	rc = host_quote(nonce, &json, &len);
	assert_int_equal(rc, -EBUSY);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(guest_read_public(k[i].handle), 0);
		assert_int_equal(quote_flush(&F.guest, k[i].handle), 0);
	}
	/* Slots free again: the next quote works. */
	assert_int_equal(host_quote(nonce, &json, &len), 0);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_while_guest_holds_objects),
		cmocka_unit_test(test_guest_cannot_sign_with_the_ak),
		cmocka_unit_test(test_full_slots_deny_but_do_not_disturb),
	};

	F.stop_fd = -1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
