/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier against REAL evidence: a real swtpm (swtpm_setup EK
 * certificates from swtpm_localca), a measured boot by attest/vtpm/measure.c,
 * enrollment by credential activation (attest/producer/enroll.c), quotes at locality
 * 3 (attest/producer/quote.c), bundles written by attest/format/bundle_write.c; the manifest
 * computed from the artifacts alone (attest/producer/reference.c).  The honest bundles
 * must affirm; every tampering must be rejected with its own reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "attest/producer/enroll.h"
#include "attest/producer/reference.h"
#include "attest/vtpm/swtpm.h"
#include "attest/format/tpm.h"
#include "attest/verify/ear.h"
#include "attest/verify/verify.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

#define LABEL_A "system_u:system_r:bulwark_vmm_t:s0:c12,c345"
#define LABEL_C "system_u:system_r:bulwark_vmm_t:s0:c7,c900"
#define LABEL_G "system_u:system_r:bulwark_vmm_t:s0:c12,c345,c1000"   /* + a disk group */
#define LABEL_UNSORTED "system_u:system_r:bulwark_vmm_t:s0:c345,c12"
#define LABEL_ONE "system_u:system_r:bulwark_vmm_t:s0:c12"
#define LABEL_D "system_u:system_r:bulwark_vmm_t:s0:c3,c4"      /* restored again */
#define UUID_A  "0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11"
#define UUID_B  "5b2c9e0d-8f71-4c3a-b1d2-7e6f5a4b3c22"

struct doc {
	char *json;
	size_t len;
	uint8_t nonce[32];   /* each bundle its own */
};

static struct {
	char root[64], state[96], keys[96], ca[96], certs[96], sock[96];
	char ak_ca[128], other_ca[128], ek_ca[128];
	struct swtpm tpm;
	int fd;
	struct quote_tpm t;
	EVP_PKEY *ca_key, *other_key;
	X509 *ca_cert, *other_cert, *ek_cert, *ek_mid;
	X509 *ak_rsa, *ak_ecc, *ak_b, *ak_rsa_other_ca, *ak_rsa_other_ek, *ek_unknown;
	X509 *ak_b_for_a;          /* guest B's certificate naming guest A's AK */
	X509 *ek_clone, *ak_clone; /* a second vTPM, guest A enrolled on it too */
	TPM2B_PUBLIC pub_rsa, pub_ecc, pub_b;
	struct manifest m;
	uint8_t nonce[32], next_nonce;
	struct doc rsa, ecc, permissive, seccomp_off, guest_b, guest_c;
	struct doc group, unsorted, one_cat;
	struct doc sec_unsorted, sec_no_off, off_seccomp_log;
	struct doc rsa_later, unsafe;
	struct doc svirt_static, svirt_off, all_pcrs, clone;
	struct doc restored, restored_twice, restored_permissive, restore_bad, restore_early;
	struct doc migrated, migrate_bad;
} F;

/* Every reason some test produced as the primary one (test_every_reason). */
static int seen[VR_COUNT];
static size_t last_nfail;
static const struct verify_result *last_res;   /* of the last verdict */

static enum verify_reason seen_mark(enum verify_reason r, size_t nfail)
{
	if (r < VR_COUNT)
		seen[r] = 1;
	last_nfail = nfail;
	return r;
}

/* The verifier's one allocation per nonce (verify.c): fails on demand. */
static int fail_realloc;
void *__real_reallocarray(void *p, size_t n, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	if (fail_realloc) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_reallocarray(p, n, size);
}

/* ---- boot inputs ------------------------------------------------------ */

static const uint8_t policy_digest[32] = { 0x5e, 0x11, 0x9a };
static const struct measure_filter filters[] = {
	{ "vcpu", { 0x22, 0x01 } },
	{ "vmm", { 0x11, 0x02 } },
};
static const char vmm_identity[] = "bulwark-vmm-identity v1\n"
	"2f3c000000000000000000000000000000000000000000000000000000000001 bulwark\n";
static const char config[] = "{\"cpus\":1,\"memory_mib\":128,\"disks\":[]}";
static const uint8_t acpi[] = "RSD PTR fake tables for the test";
static const char kernel[] = "a fake bzImage: the verifier only sees its digest";
static const char initrd[] = "a fake initramfs";
static const char cmdline[] = "console=ttyS0 quiet";

static const char *svirt_mode = "dynamic";    /* of the next measured boot */

static void boot_inputs(struct measure_boot *b, struct measure_secstate *s, const char *label)
{
	*s = (struct measure_secstate){ .selinux = MEASURE_SELINUX_ENFORCING,
		.policy_sha256 = policy_digest, .svirt = svirt_mode, .label = label,
		.seccomp = 1, .filters = filters, .nfilters = ARRAY_SIZE(filters) };
	*b = (struct measure_boot){ .vmm_identity = (const uint8_t *)vmm_identity,
		.vmm_identity_len = strlen(vmm_identity), .config = (const uint8_t *)config,
		.config_len = strlen(config), .acpi = acpi, .acpi_len = sizeof(acpi),
		.security = s, .kernel = { kernel, sizeof(kernel), -1 },
		.initrd = { initrd, sizeof(initrd), -1 }, .cmdline = cmdline };
}

/* ---- certificates ----------------------------------------------------- */

/* An "EK certificate" for the real EK key, issued by the wrong CA. */
static X509 *ek_cert_unknown_ca(void)
{
	X509 *x = X509_new();
	int ok = x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
		 X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		 X509_gmtime_adj(X509_getm_notAfter(x), 86400L) &&
		 X509_set_issuer_name(x, X509_get_subject_name(F.other_cert)) &&
		 X509_set_subject_name(x, X509_get_subject_name(F.ek_cert)) &&
		 X509_set_pubkey(x, X509_get0_pubkey(F.ek_cert)) &&
		 X509_sign(x, F.other_key, EVP_sha256());

	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* ---- the vTPM --------------------------------------------------------- */

static int set_locality(void *arg, uint8_t loc)
{
	return swtpm_ctrl(arg, SWTPM_CMD_SET_LOCALITY, &loc, 1, NULL, 0);
}

/* TPM2_Shutdown(CLEAR), as the guest's kernel sends at power-off. */
static void orderly_shutdown(void)
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0 };
	uint8_t rsp[64];
	size_t n = 0;
	uint32_t rc = 0;

	if (F.fd >= 0)
		assert_int_equal(tpm_transact(F.fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &n, &rc) ||
				 rc, 0);
}

static int unorderly;    /* the next boot follows a reset without shutdown */

/* Power-cycles the vTPM (CMD_INIT) and runs the launcher's measured boot. */
static int measured_boot(const char *label, enum measure_selinux se, int seccomp,
			 struct evlog_writer *log)
{
	struct measure_secstate s;
	struct measure_boot b;
	uint32_t init_flags = 0;
	int rc;

	boot_inputs(&b, &s, label);
	s.selinux = se;
	s.seccomp = seccomp;
	if (!unorderly)
		orderly_shutdown();
	if (F.fd >= 0)
		close(F.fd);
	F.fd = -1;
	rc = swtpm_ctrl(&F.tpm, SWTPM_CMD_INIT, &init_flags, sizeof(init_flags), NULL, 0);
	rc = rc ? rc : swtpm_open_data(&F.tpm, &F.fd);
	return rc ? rc : measure_boot_run(F.fd, NULL, &b, log);
}

static int enroll(const char *name, const char *uuid, enum quote_ak_alg alg, X509 **cert,
		  TPM2B_PUBLIC *pub)
{
	X509_STORE *anchors = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	struct enroll_request req = { .name = name, .uuid = uuid, .alg = alg,
		.ek_cert = F.ek_cert, .ek_chain = mid, .ek_anchors = anchors,
		.ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 30 };
	struct enroll_result res;
	int rc = anchors && mid && X509_STORE_load_file(anchors, F.ek_ca) == 1 &&
		 sk_X509_push(mid, F.ek_mid) ? 0 : -1;

	rc = rc ? rc : enroll_guest(&F.t, &req, &res);
	if (!rc) {
		*cert = res.ak_cert;
		if (pub)
			*pub = res.ak_pub;
	}
	if (!rc && alg == QUOTE_AK_RSA2048 && !strcmp(uuid, UUID_A) && !F.ak_rsa_other_ca) {
		req.ca_cert = F.other_cert;    /* the same AK, certified by a stranger */
		req.ca_key = F.other_key;
		rc = enroll_issue(&req, &res.ak_pub.publicArea, &F.ak_rsa_other_ca);
		req.ca_cert = F.ca_cert;       /* the right CA, naming another EK */
		req.ca_key = F.ca_key;
		req.ek_cert = F.other_cert;
		rc = rc ? rc : enroll_issue(&req, &res.ak_pub.publicArea, &F.ak_rsa_other_ek);
	}
	sk_X509_free(mid);
	X509_STORE_free(anchors);
	return rc;
}

/* What a careless CA would issue: guest B's identity on guest A's AK. */
static int issue_b_for_a(void)
{
	struct enroll_request req = { .name = "guest-b", .uuid = UUID_B, .alg = QUOTE_AK_RSA2048,
		.ek_cert = F.ek_cert, .ca_cert = F.ca_cert, .ca_key = F.ca_key, .days = 30 };

	return enroll_issue(&req, &F.pub_rsa.publicArea, &F.ak_b_for_a);
}

static int quote_doc(const char *name, const char *uuid, const char *label, X509 *ak,
		     enum quote_ak_alg alg, const struct evlog_writer *log, struct doc *out)
{
	struct quote_guest g = { .name = name, .uuid = uuid, .label = label, .alg = alg,
		.log = { log->buf, log->len }, .set_locality = set_locality, .arg = &F.tpm };
	struct bundle b;
	int rc = attest_fixture_der(ak, &g.ak.cert) || attest_fixture_der(F.ek_cert, &g.ek.cert) ||
		 attest_fixture_der(F.ek_mid, &g.ek.chain[0]) ? -1 : 0;

	g.ek.nchain = 1;
	memcpy(out->nonce, F.nonce, sizeof(out->nonce));
	out->nonce[31] = F.next_nonce++;
	rc = rc ? rc : quote_collect(&F.t, &g, out->nonce, sizeof(out->nonce), &b);
	if (!rc) {
		rc = bundle_write(&b, &out->json, &out->len);
		bundle_free(&b);
	}
	OPENSSL_free(g.ak.cert.data);
	OPENSSL_free(g.ek.cert.data);
	OPENSSL_free(g.ek.chain[0].data);
	return rc;
}

/* One measured boot of guest (name, uuid, label) and its quote. */
static int evidence(const char *name, const char *uuid, const char *label, X509 *ak,
		    enum quote_ak_alg alg, enum measure_selinux se, int seccomp,
		    struct doc *out)
{
	struct evlog_writer log;
	int rc = measured_boot(label, se, seccomp, &log);

	if (rc)
		return rc;
	rc = quote_doc(name, uuid, label, ak, alg, &log, out);
	evlog_writer_free(&log);
	return rc;
}

/*
 * A measured boot whose PCR 7 event carries TEXT instead of the launcher's
 * security state, extended into the vTPM like any other event: what a
 * launcher that measured something else would leave (quote, log and PCRs
 * all consistent).  The other events are the launcher's own.
 */
/* A clean power cycle of the vTPM (shutdown, CMD_INIT, startup) and the
 * launcher's measured boot of guest A into it; ref gets the boot's log. */
static int reboot_measured(struct measure_boot *b, struct measure_secstate *s,
			   struct evlog_banks *banks, struct evlog_writer *ref)
{
	uint32_t init_flags = 0;
	int rc;

	boot_inputs(b, s, LABEL_A);
	orderly_shutdown();
	if (F.fd >= 0)
		close(F.fd);
	F.fd = -1;
	rc = swtpm_ctrl(&F.tpm, SWTPM_CMD_INIT, &init_flags, sizeof(init_flags), NULL, 0);
	rc = rc ? rc : swtpm_open_data(&F.tpm, &F.fd);
	rc = rc ? rc : tpm_startup_clear(F.fd);
	rc = rc ? rc : tpm_pcr_banks(F.fd, banks);
	return rc ? rc : measure_boot_run(-1, banks, b, ref);
}

static int boot_with_secstate(const char *text, size_t len, struct evlog_writer *out)
{
	struct measure_secstate s;
	struct measure_boot b;
	struct evlog_writer ref;
	struct evlog_banks banks;
	struct evlog_parser p;
	struct evlog_event ev;
	int rc;

	rc = reboot_measured(&b, &s, &banks, &ref);
	if (rc)
		return rc;
	rc = evlog_writer_init(out, banks.alg, banks.count, EVLOG_MAX_SIZE);
	rc = rc ? rc : evlog_parse_begin(&p, ref.buf, ref.len);
	while (!rc && (rc = evlog_parse_next(&p, &ev)) == 1) {
		const void *data = ev.data;
		size_t n = ev.data_size;

		rc = 0;
		if (ev.pcr == MEASURE_PCR_SECURITY && ev.type == EV_PLATFORM_CONFIG_FLAGS) {
			data = text;
			n = len;
			rc = evlog_digest_data(out, data, n, ev.digests);
		}
		rc = rc ? rc : evlog_append(out, ev.pcr, ev.type, ev.digests, banks.count, data, n);
		rc = rc ? rc : tpm_pcr_extend(F.fd, ev.pcr, ev.digests, banks.count);
	}
	evlog_writer_free(&ref);
	return rc < 0 ? rc : 0;
}

static int evidence_secstate(const char *text, size_t len, struct doc *out)
{
	struct evlog_writer log;
	int rc = boot_with_secstate(text, len, &log);

	if (rc)
		return rc;
	rc = quote_doc("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048, &log, out);
	evlog_writer_free(&log);
	return rc;
}

/* The launcher's security state of guest A, then made wrong three ways:
 * two lines swapped (keys no longer sorted), "protections.off" dropped (the
 * first line after the header), and seccomp in log mode (a protection off). */
static int secstate_evidence(void)
{
	static const char *const off[] = { "seccomp-log" };
	char text[MEASURE_MAX_TEXT], bad[MEASURE_MAX_TEXT];
	struct measure_secstate s;
	struct measure_boot b;
	size_t len = 0, h = strlen(MEASURE_SECSTATE_HEADER), l1, l2;
	int rc;

	boot_inputs(&b, &s, LABEL_A);
	rc = measure_secstate_encode(&s, text, sizeof(text), &len);
	if (rc)
		return rc;
	l1 = (size_t)(strchr(text + h, '\n') + 1 - text);       /* end of line 1 */
	l2 = (size_t)(strchr(text + l1, '\n') + 1 - text);      /* end of line 2 */
	memcpy(bad, text, h);
	memcpy(bad + h, text + l1, l2 - l1);
	memcpy(bad + h + (l2 - l1), text + h, l1 - h);
	memcpy(bad + l2, text + l2, len - l2);
	rc = evidence_secstate(bad, len, &F.sec_unsorted);
	memcpy(bad, text, h);
	memcpy(bad + h, text + l1, len - l1);
	rc = rc ? rc : strncmp(text + h, "protections.off=", 16) ? -EINVAL :
	     evidence_secstate(bad, len - (l1 - h), &F.sec_no_off);
	s.off = off;
	s.noff = ARRAY_SIZE(off);
	rc = rc ? rc : measure_secstate_encode(&s, text, sizeof(text), &len);
	return rc ? rc : evidence_secstate(text, len, &F.off_seccomp_log);
}

/* Two quotes of one boot, the second one later by the vTPM's clock. */
static int clock_evidence(void)
{
	struct evlog_writer log;
	int rc = measured_boot(LABEL_A, MEASURE_SELINUX_ENFORCING, 1, &log);

	if (rc)
		return rc;
	rc = quote_doc("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048, &log, &F.rsa);
	sleep(1);              /* "created" has whole seconds */
	usleep(100000);
	rc = rc ? rc : quote_doc("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048, &log,
				 &F.rsa_later);
	evlog_writer_free(&log);
	return rc;
}

/* ---- restores (issue 17) ---------------------------------------------- */

static const uint8_t snap_digest[32] = { 0xd1, 0x9e, 0x57 };
#define RESTORE_TIME 1796201445    /* 2026-12-02T08:50:45Z */

/* Guest A booted at LABEL_A, then restored (measure_restore_run, the
 * launcher's code, into the vTPM and the log) under each label of labels
 * with SELinux se; quoted under the last label. */
static int restored_evidence(const char *const *labels, size_t n, enum measure_selinux se,
			     struct doc *out)
{
	struct evlog_writer log;
	int rc = measured_boot(LABEL_A, MEASURE_SELINUX_ENFORCING, 1, &log);

	for (size_t i = 0; !rc && i < n; i++) {
		struct measure_secstate s;
		struct measure_boot b;

		boot_inputs(&b, &s, labels[i]);
		s.selinux = se;
		rc = measure_restore_run(F.fd, &log, snap_digest, RESTORE_TIME + (int64_t)i, &s);
	}
	rc = rc ? rc : quote_doc("guest-a", UUID_A, labels[n - 1], F.ak_rsa, QUOTE_AK_RSA2048,
				 &log, out);
	if (!rc || log.buf)
		evlog_writer_free(&log);
	return rc;
}

/* A boot of guest A with an event (PCR 7, EV_EVENT_TAG, data) put before
 * event number before of the launcher's boot (or after all of them), into
 * the vTPM and the log alike: a consistent log the launcher never writes. */
static int boot_with_tag_event(size_t before, const uint8_t *data, size_t len,
			       struct doc *out)
{
	struct measure_secstate s;
	struct measure_boot b;
	struct evlog_writer ref, log;
	struct evlog_banks banks;
	struct evlog_parser p;
	struct evlog_event ev;
	struct evlog_digest d[EVLOG_MAX_BANKS];
	size_t i = 0;
	int rc;

	rc = reboot_measured(&b, &s, &banks, &ref);
	if (rc)
		return rc;
	rc = evlog_writer_init(&log, banks.alg, banks.count, EVLOG_MAX_SIZE);
	rc = rc ? rc : evlog_parse_begin(&p, ref.buf, ref.len);
	while (!rc) {
		int more = evlog_parse_next(&p, &ev);

		if (more < 0) {
			rc = more;
			break;
		}
		if (i++ == before || (!more && before == SIZE_MAX)) {
			rc = evlog_digest_data(&log, data, len, d);
			rc = rc ? rc : evlog_append(&log, MEASURE_PCR_SECURITY, EV_EVENT_TAG, d,
						    banks.count, data, len);
			rc = rc ? rc : tpm_pcr_extend(F.fd, MEASURE_PCR_SECURITY, d, banks.count);
		}
		if (!more)
			break;
		rc = rc ? rc : evlog_append(&log, ev.pcr, ev.type, ev.digests, banks.count,
					    ev.data, ev.data_size);
		rc = rc ? rc : tpm_pcr_extend(F.fd, ev.pcr, ev.digests, banks.count);
	}
	evlog_writer_free(&ref);
	rc = rc ? rc : quote_doc("guest-a", UUID_A, LABEL_C, F.ak_rsa, QUOTE_AK_RSA2048, &log,
				 out);
	evlog_writer_free(&log);
	return rc;
}

static int restore_evidence(void)
{
	static const char *const once[] = { LABEL_C }, *const twice[] = { LABEL_C, LABEL_D };
	static const char junk[] = "BWRS not a restore record";
	struct measure_secstate s;
	struct measure_boot b;
	uint8_t data[MEASURE_MAX_TEXT + 8];
	size_t len = 0;
	int rc;

	rc = restored_evidence(once, 1, MEASURE_SELINUX_ENFORCING, &F.restored);
	rc = rc ? rc : restored_evidence(twice, 2, MEASURE_SELINUX_ENFORCING, &F.restored_twice);
	rc = rc ? rc : restored_evidence(once, 1, MEASURE_SELINUX_PERMISSIVE,
					 &F.restored_permissive);
	rc = rc ? rc : boot_with_tag_event(SIZE_MAX, (const uint8_t *)junk, sizeof(junk) - 1,
					   &F.restore_bad);
	/* the launcher's own restore record, but before the kernel's event */
	boot_inputs(&b, &s, LABEL_C);
	rc = rc ? rc : measure_restore_encode(snap_digest, RESTORE_TIME, &s, data, sizeof(data),
					      &len);
	return rc ? rc : boot_with_tag_event(12, data, len, &F.restore_early);
}

/* ---- live migration (issue 18) ----------------------------------------- */

static const uint8_t src_cert_digest[32] = { 0xce, 0x47, [31] = 0x01 };

/* Guest A booted at LABEL_A, restored once at LABEL_C, then arrived by live
 * migration at LABEL_D (measure_migrate_run, the target launcher's code);
 * and a migration tag with data that is not a migration record. */
static int migrate_evidence(void)
{
	static const char junk[] = "GMWB not a migration record";
	const struct measure_migration mg = { .source_host = "host-a",
		.source_cert_sha256 = src_cert_digest, .stream_sha256 = snap_digest };
	struct evlog_writer log;
	struct measure_secstate s;
	struct measure_boot b;
	uint8_t data[sizeof(junk) + 8];
	int rc = measured_boot(LABEL_A, MEASURE_SELINUX_ENFORCING, 1, &log);

	boot_inputs(&b, &s, LABEL_C);
	rc = rc ? rc : measure_restore_run(F.fd, &log, snap_digest, RESTORE_TIME, &s);
	boot_inputs(&b, &s, LABEL_D);
	rc = rc ? rc : measure_migrate_run(F.fd, &log, &mg, RESTORE_TIME + 60, &s);
	rc = rc ? rc : quote_doc("guest-a", UUID_A, LABEL_D, F.ak_rsa, QUOTE_AK_RSA2048, &log,
				 &F.migrated);
	if (!rc || log.buf)
		evlog_writer_free(&log);
	/* the tag is the migration's, the rest is not */
	memcpy(data, "\x47\x4d\x57\x42", 4);
	data[4] = sizeof(junk) - 1;
	data[5] = data[6] = data[7] = 0;
	memcpy(data + 8, junk, sizeof(junk) - 1);
	return rc ? rc : boot_with_tag_event(SIZE_MAX, data, sizeof(data) - 1, &F.migrate_bad);
}

/* Last of all: after it, safe stays NO until the vTPM saves its clock. */
static int unsafe_evidence(void)
{
	int rc;

	unorderly = 1;
	rc = evidence("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048,
		      MEASURE_SELINUX_ENFORCING, 1, &F.unsafe);
	unorderly = 0;
	return rc;
}

/* Guest A booted with svirt static (its label from the configuration) and
 * with svirt off (no label: "none"). */
static int svirt_evidence(void)
{
	int rc;

	svirt_mode = "static";
	rc = evidence("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048,
		      MEASURE_SELINUX_ENFORCING, 1, &F.svirt_static);
	svirt_mode = "off";
	rc = rc ? rc : evidence("guest-a", UUID_A, "none", F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.svirt_off);
	svirt_mode = "dynamic";
	return rc;
}

static int blob_set(struct bundle_blob *b, const uint8_t *data, size_t len)
{
	free(b->data);
	b->data = malloc(len);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

/* A real quote over PCR 0..23 in every bank (17-22 still at their reset
 * value, all ones), in a bundle otherwise as the launcher's. */
static int quote_all_pcrs(struct bundle *b)
{
	uint8_t attest[BUNDLE_MAX_TPM], sig[BUNDLE_MAX_TPM];
	size_t alen = 0, slen = 0;
	TPML_PCR_SELECTION sel;
	struct quote_key ak;
	int rc;

	quote_selection(&b->pcrs.banks, &sel);
	for (uint32_t i = 0; i < sel.count; i++)
		memset(sel.pcrSelections[i].pcrSelect, 0xff, 3);
	rc = set_locality(&F.tpm, QUOTE_LOCALITY);
	rc = rc ? rc : quote_ak_create(&F.t, QUOTE_AK_RSA2048, UUID_A, &ak);
	if (!rc) {
		rc = quote_sign(&F.t, &ak, b->nonce, b->nonce_len, &sel, attest, &alen, sig,
				sizeof(sig), &slen);
		quote_flush(&F.t, ak.handle);
	}
	set_locality(&F.tpm, 0);
	for (uint32_t i = 0; !rc && i < b->pcrs.banks.count; i++, b->pcrs.mask[i - 1] = 0xffffff)
		for (uint32_t pcr = 0; !rc && pcr < EVLOG_NUM_PCRS; pcr++)
			rc = quote_pcr_read(&F.t, b->pcrs.banks.alg[i], pcr, b->pcrs.value[i][pcr],
					    b->pcrs.banks.size[i]);
	rc = rc ? rc : blob_set(&b->attest, attest, alen);
	return rc ? rc : blob_set(&b->signature, sig, slen);
}

static int all_pcrs_evidence(void)
{
	struct bundle b;
	struct bundle_error err;
	struct doc d = { 0 };
	int rc = evidence("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048,
			  MEASURE_SELINUX_ENFORCING, 1, &d);

	rc = rc ? rc : bundle_parse((uint8_t *)d.json, d.len, &b, &err);
	free(d.json);
	if (rc)
		return rc;
	rc = quote_all_pcrs(&b);
	rc = rc ? rc : bundle_write(&b, &F.all_pcrs.json, &F.all_pcrs.len);
	memcpy(F.all_pcrs.nonce, d.nonce, sizeof(d.nonce));
	bundle_free(&b);
	return rc;
}

/*
 * A second vTPM (its own EK, certified by the same swtpm_localca) on which
 * guest A is enrolled and quoted too: what a copied guest would produce.
 * The first vTPM's handles are set aside meanwhile.
 */
static int clone_evidence(void)
{
	char state[128], keys[128], certs[128], sock[128], path[160];
	struct swtpm_config cfg = { .name = "guest-a", .state_dir = state, .key_dir = keys,
		.ca_dir = F.ca, .cert_dir = certs, .sock_path = sock };
	struct swtpm first = F.tpm;
	struct evlog_writer log;
	X509 *ek = F.ek_cert;
	int fd = F.fd, rc;

	snprintf(state, sizeof(state), "%s/clone-state", F.root);
	snprintf(keys, sizeof(keys), "%s/clone-keys", F.root);
	snprintf(certs, sizeof(certs), "%s/clone-certs", F.root);
	snprintf(sock, sizeof(sock), "%s/clone-tpm", F.root);
	snprintf(path, sizeof(path), "%s/ek-rsa2048.crt", certs);
	F.fd = -1;
	rc = mkdir(keys, 0700) ? -errno : swtpm_start(&cfg, &F.tpm);
	if (rc)
		goto out;
	F.ek_clone = F.ek_cert = attest_fixture_load_cert(path, 0);
	rc = F.ek_cert ? 0 : -EIO;
	rc = rc ? rc : measured_boot(LABEL_C, MEASURE_SELINUX_ENFORCING, 1, &log);
	if (!rc)
		evlog_writer_free(&log);
	rc = rc ? rc : enroll("guest-a", UUID_A, QUOTE_AK_RSA2048, &F.ak_clone, NULL);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_C, F.ak_clone, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.clone);
	if (F.fd >= 0)
		close(F.fd);
	swtpm_stop(&F.tpm);
out:
	F.tpm = first;
	F.ek_cert = ek;
	F.fd = fd;
	return rc;
}

static int fixture_paths(void)
{
	snprintf(F.root, sizeof(F.root), "/tmp/bulwark-test-verify.XXXXXX");
	if (!mkdtemp(F.root))
		return -1;
	snprintf(F.state, sizeof(F.state), "%s/state", F.root);
	snprintf(F.keys, sizeof(F.keys), "%s/keys", F.root);
	snprintf(F.ca, sizeof(F.ca), "%s/ca", F.root);
	snprintf(F.certs, sizeof(F.certs), "%s/certs", F.root);
	snprintf(F.sock, sizeof(F.sock), "%s/tpm", F.root);
	snprintf(F.ak_ca, sizeof(F.ak_ca), "%s/ak-ca.pem", F.root);
	snprintf(F.other_ca, sizeof(F.other_ca), "%s/other-ca.pem", F.root);
	snprintf(F.ek_ca, sizeof(F.ek_ca), "%s/swtpm-localca-rootca-cert.pem", F.ca);
	if (mkdir(F.keys, 0700)) {
		perror(F.keys);
		return -1;
	}
	return 0;
}

static int fixture_tpm(void)
{
	struct swtpm_config cfg = { .name = "guest-a", .state_dir = F.state,
		.key_dir = F.keys, .ca_dir = F.ca, .cert_dir = F.certs, .sock_path = F.sock };
	char path[160];
	int rc = swtpm_start(&cfg, &F.tpm);

	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/ek-rsa2048.crt", F.certs);
	F.ek_cert = attest_fixture_load_cert(path, 0);
	snprintf(path, sizeof(path), "%s/issuercert.pem", F.ca);
	F.ek_mid = attest_fixture_load_cert(path, 1);
	return F.ek_cert && F.ek_mid ? 0 : -1;
}

static int fixture_manifest(void)
{
	static const uint16_t algs[] = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 };
	struct evlog_banks banks = { .count = 2, .alg = { algs[0], algs[1] },
				     .size = { 32, 48 } };
	struct measure_secstate s;
	struct measure_boot b;

	boot_inputs(&b, &s, LABEL_A);
	if (reference_build(&b, &banks, "test-reference", 1, &F.m))
		return -1;
	/* The fixtures are version 1 bundles (the guest's evidence alone): this
	 * auditor accepts them explicitly ("host_evidence": "guest-only");
	 * test_host_verify covers the default. */
	F.m.host_required = 0;
	return 0;
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
	struct evlog_writer log;
	int rc;

	(void)state;
	log_set_level(LOG_WARN);
	F.fd = -1;
	quote_tpm_fd(&F.t, &F.fd);
	memset(F.nonce, 0xa5, sizeof(F.nonce));
	rc = fixture_paths() ? 1 : fixture_tpm() ? 2 : fixture_manifest() ? 3 :
	     attest_fixture_make_ca("Bulwark test attestation CA", F.ak_ca, &F.ca_key, &F.ca_cert) ? 4 :
	     attest_fixture_make_ca("Somebody else's CA", F.other_ca, &F.other_key, &F.other_cert) ? 5 : 0;
	rc = rc ? rc : measured_boot(LABEL_A, MEASURE_SELINUX_ENFORCING, 1, &log);
	if (rc) {
		group_teardown(state);
		return -1;
	}
	evlog_writer_free(&log);
	rc = enroll("guest-a", UUID_A, QUOTE_AK_RSA2048, &F.ak_rsa, &F.pub_rsa);
	rc = rc ? rc : enroll("guest-a", UUID_A, QUOTE_AK_P256, &F.ak_ecc, &F.pub_ecc);
	rc = rc ? rc : enroll("guest-b", UUID_B, QUOTE_AK_RSA2048, &F.ak_b, &F.pub_b);
	rc = rc ? rc : issue_b_for_a();
	F.ek_unknown = rc ? NULL : ek_cert_unknown_ca();
	rc = rc || !F.ek_unknown;
	rc = rc ? rc : clock_evidence();
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_A, F.ak_ecc, QUOTE_AK_P256,
				MEASURE_SELINUX_ENFORCING, 1, &F.ecc);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_PERMISSIVE, 1, &F.permissive);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_A, F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 0, &F.seccomp_off);
	rc = rc ? rc : evidence("guest-b", UUID_B, LABEL_A, F.ak_b, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.guest_b);
	rc = rc ? rc : evidence("guest-b", UUID_B, LABEL_C, F.ak_b, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.guest_c);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_G, F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.group);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_UNSORTED, F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.unsorted);
	rc = rc ? rc : evidence("guest-a", UUID_A, LABEL_ONE, F.ak_rsa, QUOTE_AK_RSA2048,
				MEASURE_SELINUX_ENFORCING, 1, &F.one_cat);
	rc = rc ? rc : secstate_evidence();
	rc = rc ? rc : svirt_evidence();
	rc = rc ? rc : all_pcrs_evidence();
	rc = rc ? rc : clone_evidence();
	rc = rc ? rc : restore_evidence();
	rc = rc ? rc : migrate_evidence();
	rc = rc ? rc : unsafe_evidence();     /* a reset without shutdown: safe = NO */
	if (rc)
		group_teardown(state);
	return rc ? -1 : 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	struct doc *docs[] = { &F.rsa, &F.ecc, &F.permissive, &F.seccomp_off, &F.guest_b,
			       &F.guest_c, &F.group, &F.unsorted, &F.one_cat,
			       &F.sec_unsorted, &F.sec_no_off, &F.off_seccomp_log,
			       &F.rsa_later, &F.unsafe, &F.svirt_static, &F.svirt_off,
			       &F.all_pcrs, &F.clone, &F.restored, &F.restored_twice,
			       &F.restored_permissive, &F.restore_bad, &F.restore_early,
			       &F.migrated, &F.migrate_bad };

	(void)state;
	if (F.fd >= 0)
		close(F.fd);
	swtpm_stop(&F.tpm);
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		free(docs[i]->json);
	X509_free(F.ak_rsa);
	X509_free(F.ak_ecc);
	X509_free(F.ak_b);
	X509_free(F.ak_rsa_other_ca);
	X509_free(F.ak_rsa_other_ek);
	X509_free(F.ek_unknown);
	X509_free(F.ak_b_for_a);
	X509_free(F.ek_clone);
	X509_free(F.ak_clone);
	X509_free(F.ek_cert);
	X509_free(F.ek_mid);
	X509_free(F.ca_cert);
	X509_free(F.other_cert);
	EVP_PKEY_free(F.ca_key);
	EVP_PKEY_free(F.other_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.root);
	return system(cmd) ? -1 : 0;
}


/* ---- verifying -------------------------------------------------------- */

static struct verify_ctx *ctx_new(const struct manifest *m, const uint8_t *nonce)
{
	const char *ak[] = { F.ak_ca }, *ek[] = { F.ek_ca };
	struct verify_options o = { .ak_ca = ak, .nak_ca = 1, .ek_ca = ek, .nek_ca = 1,
				    .manifest = m };
	struct verify_ctx *ctx = NULL;

	assert_int_equal(verify_ctx_new(&o, &ctx), 0);
	if (nonce)
		assert_int_equal(verify_ctx_expect_nonce(ctx, nonce, sizeof(F.nonce)), 0);
	if (nonce == F.rsa.nonce) {       /* a batch: every bundle's nonce was issued */
		assert_int_equal(verify_ctx_expect_nonce(ctx, F.guest_b.nonce, 32), 0);
		assert_int_equal(verify_ctx_expect_nonce(ctx, F.guest_c.nonce, 32), 0);
	}
	return ctx;
}

/* The primary reason (VR_OK when affirming); the status must agree. */
static enum verify_reason verdict_with(const char *json, size_t len, const struct manifest *m,
				       const uint8_t *nonce)
{
	static struct verify_result res;
	struct verify_ctx *ctx = ctx_new(m, nonce);
	enum verify_status st = verify_bundle(ctx, (const uint8_t *)json, len, &res);

	verify_ctx_free(ctx);
	last_res = &res;
	if (!res.nfail) {
		assert_int_equal(st, VS_AFFIRMING);
		return seen_mark(VR_OK, 0);
	}
	assert_int_equal(st, VS_CONTRAINDICATED);
	return seen_mark(res.fail[0].reason, res.nfail);
}

static enum verify_reason verdict(const struct doc *d)
{
	return verdict_with(d->json, d->len, &F.m, d->nonce);
}

/* Parse, change, write back, verify. */
static enum verify_reason tampered(const struct doc *d, void (*change)(struct bundle *))
{
	struct bundle b;
	struct bundle_error err;
	struct doc t;
	enum verify_reason r;

	assert_int_equal(bundle_parse((const uint8_t *)d->json, d->len, &b, &err), 0);
	change(&b);
	assert_int_equal(bundle_write(&b, &t.json, &t.len), 0);
	memcpy(t.nonce, d->nonce, sizeof(t.nonce));
	bundle_free(&b);
	r = verdict(&t);
	free(t.json);
	return r;
}

/* Event i of a bundle's log spans [start[i], end[i]). */
static size_t log_spans(const struct bundle_blob *log, size_t *start, size_t *end)
{
	struct evlog_parser p;
	struct evlog_event ev;
	size_t n = 0;

	assert_int_equal(evlog_parse_begin(&p, log->data, log->len), 0);
	while (evlog_parse_next(&p, &ev) == 1) {
		start[n] = ev.offset;
		end[n] = p.pos;
		n++;
	}
	return n;
}

#define EV_KERNEL  12   /* in the launcher's order (measure.h) */
#define EV_CMDLINE 13

/* Rebuilds the log from byte ranges of the old one. */
static void log_splice(struct bundle *b, const size_t (*ranges)[2], size_t n)
{
	uint8_t *nl = malloc(b->event_log.len * 2);
	size_t len = 0;

	assert_non_null(nl);
	for (size_t i = 0; i < n; i++) {
		memcpy(nl + len, b->event_log.data + ranges[i][0], ranges[i][1] - ranges[i][0]);
		len += ranges[i][1] - ranges[i][0];
	}
	free(b->event_log.data);
	b->event_log.data = nl;
	b->event_log.len = len;
}

static void t_nonce_field(struct bundle *b) { b->nonce[0] ^= 1; }
static void t_quote(struct bundle *b) { b->attest.data[b->attest.len - 1] ^= 1; }
static void t_pcr(struct bundle *b) { b->pcrs.value[0][4][0] ^= 1; }
static void t_name(struct bundle *b) { snprintf(b->name, sizeof(b->name), "guest-z"); }
static void t_label(struct bundle *b) { snprintf(b->label, sizeof(b->label), LABEL_C); }

static void t_event_digest(struct bundle *b)
{
	size_t s[64], e[64];

	assert_int_equal(log_spans(&b->event_log, s, e), 15);
	b->event_log.data[s[EV_KERNEL] + 14] ^= 1;    /* pcr, type, count, algId */
}

static void t_event_payload(struct bundle *b)
{
	size_t s[64], e[64];

	assert_int_equal(log_spans(&b->event_log, s, e), 15);
	b->event_log.data[e[EV_CMDLINE] - 2] ^= 1;    /* last char before the NUL */
}

static void t_event_drop(struct bundle *b)
{
	size_t s[64], e[64], n = log_spans(&b->event_log, s, e);
	size_t r[][2] = { { 0, s[EV_CMDLINE] }, { e[EV_CMDLINE], e[n - 1] } };

	log_splice(b, r, ARRAY_SIZE(r));
}

static void t_event_reorder(struct bundle *b)
{
	size_t s[64], e[64], n = log_spans(&b->event_log, s, e);
	size_t r[][2] = { { 0, s[EV_KERNEL] }, { s[EV_CMDLINE], e[EV_CMDLINE] },
			  { s[EV_KERNEL], e[EV_KERNEL] }, { e[EV_CMDLINE], e[n - 1] } };

	log_splice(b, r, ARRAY_SIZE(r));
}

static void t_event_add(struct bundle *b)
{
	size_t s[64], e[64], n = log_spans(&b->event_log, s, e);
	size_t r[][2] = { { 0, e[n - 1] }, { s[EV_CMDLINE], e[EV_CMDLINE] } };

	log_splice(b, r, ARRAY_SIZE(r));
}

static void set_cert(struct bundle_chain *c, X509 *x, int keep_chain)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	assert_true(n > 0);
	free(c->cert.data);
	c->cert.data = malloc((size_t)n);
	assert_non_null(c->cert.data);
	memcpy(c->cert.data, p, (size_t)n);
	c->cert.len = (size_t)n;
	OPENSSL_free(p);
	for (size_t i = 0; !keep_chain && i < c->nchain; i++) {
		free(c->chain[i].data);
		c->chain[i].data = NULL;
	}
	c->nchain = keep_chain ? c->nchain : 0;
}

static void t_ak_public(struct bundle *b)
{
	size_t off = 0;

	b->ak_public.data = realloc(b->ak_public.data, sizeof(TPMT_PUBLIC));
	assert_non_null(b->ak_public.data);
	assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&F.pub_ecc.publicArea, b->ak_public.data,
						     sizeof(TPMT_PUBLIC), &off), 0);
	b->ak_public.len = off;
}

static void t_ak_other_ca(struct bundle *b) { set_cert(&b->ak, F.ak_rsa_other_ca, 1); }
static void t_ak_other_ek(struct bundle *b) { set_cert(&b->ak, F.ak_rsa_other_ek, 1); }
static void t_magic(struct bundle *b) { b->attest.data[0] ^= 1; }
static void t_pcr_dropped(struct bundle *b) { b->pcrs.mask[1] &= ~(1u << 9); }
static void t_ek_unknown(struct bundle *b) { set_cert(&b->ek, F.ek_unknown, 0); }

static void t_attest_short(struct bundle *b) { b->attest.len--; }

static void t_attest_long(struct bundle *b)
{
	b->attest.data = realloc(b->attest.data, b->attest.len + 1);
	assert_non_null(b->attest.data);
	b->attest.data[b->attest.len++] = 0;
}

/* A well-formed TPMS_ATTEST of another type (TPM2_GetTime's), same magic,
 * signer, nonce and clock. */
static void t_attest_time(struct bundle *b)
{
	TPMS_ATTEST a;
	size_t off = 0;

	assert_int_equal(Tss2_MU_TPMS_ATTEST_Unmarshal(b->attest.data, b->attest.len, &off, &a), 0);
	a.type = TPM2_ST_ATTEST_TIME;
	memset(&a.attested, 0, sizeof(a.attested));
	a.attested.time.time.time = a.clockInfo.clock;
	a.attested.time.time.clockInfo = a.clockInfo;
	b->attest.data = realloc(b->attest.data, sizeof(TPMS_ATTEST));
	assert_non_null(b->attest.data);
	off = 0;
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, b->attest.data, sizeof(TPMS_ATTEST),
						     &off), 0);
	b->attest.len = off;
}

static void t_log_cut(struct bundle *b) { b->event_log.len -= 3; }
static void t_log_header(struct bundle *b) { b->event_log.data[32 + 4] ^= 1; }  /* "Spec ID" */

/* The same events with their SHA-256 digests only: a log whose SHA-384
 * bank (quoted) is no longer there to be replayed. */
static void t_log_one_bank(struct bundle *b)
{
	static const uint16_t sha256[] = { EVLOG_ALG_SHA256 };
	struct evlog_writer w;
	struct evlog_parser p;
	struct evlog_event ev;
	int rc;

	assert_int_equal(evlog_writer_init(&w, sha256, 1, EVLOG_MAX_SIZE), 0);
	assert_int_equal(evlog_parse_begin(&p, b->event_log.data, b->event_log.len), 0);
	assert_int_equal(p.banks.alg[0], EVLOG_ALG_SHA256);
	while ((rc = evlog_parse_next(&p, &ev)) == 1)
		assert_int_equal(evlog_append(&w, ev.pcr, ev.type, ev.digests, 1, ev.data,
					      ev.data_size), 0);
	assert_int_equal(rc, 0);
	free(b->event_log.data);
	b->event_log.data = w.buf;
	b->event_log.len = w.len;
}

/* ---- tests ------------------------------------------------------------ */

static void test_honest_bundles_affirm(void **state)
{
	struct verify_result res;
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);

	(void)state;
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res), VS_AFFIRMING);
	assert_int_equal(res.nfail, 0);
	assert_true(res.fresh);
	assert_string_equal(res.label, LABEL_A);
	assert_string_equal(res.uuid, UUID_A);
	assert_int_equal(res.events, 15);
	assert_int_equal(res.vector[TV_INSTANCE_IDENTITY], 2);
	assert_int_equal(res.vector[TV_HARDWARE], 2);
	assert_int_equal(res.vector[TV_EXECUTABLES], 2);
	assert_int_equal(res.vector[TV_CONFIGURATION], 2);
	assert_int_equal(res.vector[TV_RUNTIME_OPAQUE], 2);
	assert_int_equal(res.vector[TV_FILE_SYSTEM], 0);
	verify_ctx_free(ctx);
	assert_int_equal(verdict(&F.ecc), VR_OK);
	assert_int_equal(verdict(&F.guest_c), VR_OK);
}

static void test_without_nonce_only_warning(void **state)
{
	struct verify_result res;
	struct verify_ctx *ctx = ctx_new(&F.m, NULL);

	(void)state;
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res), VS_WARNING);
	assert_false(res.fresh);
	assert_int_equal(res.vector[TV_INSTANCE_IDENTITY], 32);
	verify_ctx_free(ctx);
}

static void test_nonce_tampering(void **state)
{
	uint8_t other[32];
	struct verify_result res;
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);

	(void)state;
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &F.m, other), VR_NONCE_WRONG);
	assert_int_equal(tampered(&F.rsa, t_nonce_field), VR_NONCE_MISMATCH);
	/* The same evidence twice in one run (or against one nonce store). */
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res), VS_AFFIRMING);
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res),
			 VS_CONTRAINDICATED);
	assert_int_equal(seen_mark(res.fail[0].reason, res.nfail), VR_NONCE_REPLAYED);
	verify_ctx_free(ctx);
}

static void test_quote_and_pcr_tampering(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_quote), VR_SIGNATURE);
	assert_int_equal(tampered(&F.ecc, t_quote), VR_SIGNATURE);
	assert_int_equal(tampered(&F.rsa, t_pcr), VR_PCR_DIGEST);
	assert_int_equal(tampered(&F.rsa, t_pcr_dropped), VR_PCR_SELECTION);
	assert_int_equal(tampered(&F.rsa, t_magic), VR_ATTEST_MAGIC);
}

static void test_event_log_tampering(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_event_digest), VR_LOG_REPLAY);
	assert_int_equal(tampered(&F.rsa, t_event_payload), VR_EVENT_PAYLOAD);
	assert_int_equal(tampered(&F.rsa, t_event_drop), VR_EVENT_MISSING);
	assert_int_equal(tampered(&F.rsa, t_event_reorder), VR_EVENT_ORDER);
	assert_int_equal(tampered(&F.rsa, t_event_add), VR_EVENT_UNEXPECTED);
}

static void test_key_and_certificate_tampering(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_ak_public), VR_AK_PUBLIC);
	assert_int_equal(tampered(&F.rsa, t_ak_other_ca), VR_AK_CHAIN);
	assert_int_equal(tampered(&F.rsa, t_ak_other_ek), VR_AK_EK_BINDING);
	assert_int_equal(tampered(&F.rsa, t_ek_unknown), VR_EK_CHAIN);
	assert_int_equal(tampered(&F.rsa, t_name), VR_GUEST_IDENTITY);
}

static void test_reference_values(void **state)
{
	static struct manifest m;

	(void)state;
	m = F.m;
	m.item[MANIFEST_KERNEL].v[0].digest[0][0] ^= 1;
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_REF_KERNEL);
	m = F.m;
	m.item[MANIFEST_CMDLINE].v[0].digest[1][5] ^= 1;
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_REF_CMDLINE);
	static const struct { enum manifest_item it; enum verify_reason r; } items[] = {
		{ MANIFEST_VMM, VR_REF_VMM }, { MANIFEST_CONFIG, VR_REF_CONFIG },
		{ MANIFEST_ACPI, VR_REF_ACPI }, { MANIFEST_INITRD, VR_REF_INITRD },
	};

	for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
		m = F.m;
		m.item[items[i].it].v[0].digest[0][31] ^= 1;
		assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), items[i].r);
	}
	m = F.m;
	m.item[MANIFEST_INITRD].count = 0;    /* "no initrd allowed" */
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_REF_INITRD);
	m = F.m;
	m.banks.count = 1;                    /* the manifest does not pin sha384 */
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce),
			 VR_MANIFEST_BANKS);
	m = F.m;
	m.policy_sha256[0][0] ^= 1;
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_SELINUX_POLICY);
	m = F.m;
	m.roles[0].sha256[0][0] ^= 1;
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_SECCOMP_FILTER);
	m = F.m;
	snprintf(m.label_type, sizeof(m.label_type), "other_t");
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_LABEL_MALFORMED);
	assert_int_equal(tampered(&F.rsa, t_label), VR_LABEL_MISMATCH);
	assert_int_equal(verdict(&F.group), VR_OK);          /* pair + a disk group */
	assert_int_equal(verdict(&F.unsorted), VR_LABEL_MALFORMED);
	assert_int_equal(verdict(&F.one_cat), VR_LABEL_MALFORMED);
	assert_int_equal(verdict(&F.permissive), VR_SELINUX_NOT_ENFORCING);
	assert_int_equal(verdict(&F.seccomp_off), VR_SECCOMP_OFF);
}

/* Each of these is the only failure, and so the primary reason. */
static void test_quote_form(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_attest_short), VR_ATTEST_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(tampered(&F.rsa, t_attest_long), VR_ATTEST_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(tampered(&F.ecc, t_attest_time), VR_ATTEST_TYPE);
	assert_int_equal(last_nfail, 1);
}

static void test_event_log_form(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_log_cut), VR_LOG_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(tampered(&F.rsa, t_log_header), VR_LOG_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(tampered(&F.rsa, t_log_one_bank), VR_LOG_BANKS);
	assert_int_equal(last_nfail, 1);
}

/* Quoted, consistent evidence of a launcher that measured a wrong state. */
static void test_security_state(void **state)
{
	static struct manifest m;

	(void)state;
	assert_int_equal(verdict(&F.sec_unsorted), VR_SECSTATE_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(verdict(&F.sec_no_off), VR_SECSTATE_MALFORMED);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(verdict(&F.off_seccomp_log), VR_PROTECTION_OFF);
	assert_int_equal(last_nfail, 1);
	m = F.m;                               /* an auditor who allows it */
	snprintf(m.off_allowed[0], sizeof(m.off_allowed[0]), "seccomp-log");
	m.noff = 1;
	assert_int_equal(verdict_with(F.off_seccomp_log.json, F.off_seccomp_log.len, &m,
				      F.off_seccomp_log.nonce), VR_OK);
}

/* The verifier cannot keep the nonce it just saw: a malfunction, never a
 * pass (instance-identity 1, contraindicated). */
static void test_verifier_error(void **state)
{
	struct verify_result res;
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);

	(void)state;
	fail_realloc = 1;
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res),
			 VS_CONTRAINDICATED);
	fail_realloc = 0;
	assert_int_equal(seen_mark(res.fail[0].reason, res.nfail), VR_INTERNAL);
	assert_int_equal(res.nfail, 1);
	assert_int_equal(res.vector[TV_INSTANCE_IDENTITY], 1);
	verify_ctx_free(ctx);
}

static void test_label_shared_in_batch(void **state)
{
	struct verify_result res[2];
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);

	(void)state;
	/* Two guests, two identities, one label: both contraindicated. */
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res[0]),
			 VS_AFFIRMING);
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.guest_b.json, F.guest_b.len, &res[1]),
			 VS_AFFIRMING);
	assert_int_equal(verify_batch_labels(res, 2), 2);
	assert_int_equal(res[0].status, VS_CONTRAINDICATED);
	assert_int_equal(seen_mark(res[0].fail[0].reason, res[0].nfail), VR_LABEL_SHARED);
	assert_int_equal(res[1].fail[0].reason, VR_LABEL_SHARED);
	verify_ctx_forget_used(ctx);
	/* Different labels: nothing to say. */
	verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res[0]);
	verify_bundle(ctx, (uint8_t *)F.guest_c.json, F.guest_c.len, &res[1]);
	assert_int_equal(verify_batch_labels(res, 2), 0);
	assert_int_equal(res[0].status, VS_AFFIRMING);
	assert_int_equal(res[1].status, VS_AFFIRMING);
	verify_ctx_free(ctx);
}

static void test_json_tampering(void **state)
{
	char *big = malloc(BUNDLE_MAX_SIZE + 2), *p;
	struct doc d = { strdup(F.rsa.json), F.rsa.len, { 0 } };

	(void)state;
	assert_non_null(big);
	assert_non_null(d.json);
	memcpy(d.nonce, F.rsa.nonce, sizeof(d.nonce));
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len / 2, &F.m, F.rsa.nonce), VR_BUNDLE_JSON);
	memset(big, ' ', BUNDLE_MAX_SIZE + 1);
	memcpy(big, F.rsa.json, F.rsa.len);
	assert_int_equal(verdict_with(big, BUNDLE_MAX_SIZE + 1, &F.m, F.rsa.nonce), VR_BUNDLE_TOO_LARGE);
	/* Trailing spaces are still one JSON object, but not the canonical one. */
	assert_int_equal(verdict_with(big, F.rsa.len + 100, &F.m, F.rsa.nonce),
			 VR_BUNDLE_NOT_CANONICAL);
	p = strstr(d.json, "\"version\":1");
	assert_non_null(p);
	p[10] = '3';
	assert_int_equal(verdict(&d), VR_BUNDLE_FORMAT);
	p[10] = '2';                      /* version 2 requires "host" */
	assert_int_equal(verdict(&d), VR_BUNDLE_FIELD);
	p[10] = '1';
	p = strstr(d.json, "\"nonce\":\"");
	assert_non_null(p);
	p[9] = 'X';
	assert_int_equal(verdict(&d), VR_BUNDLE_FIELD);
	free(d.json);
	free(big);
}

static void write_file(const char *dir, const char *name, const void *b, size_t len)
{
	char path[200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* tpm2_checkquote (a verifier we did not write) on one of our bundles. */
static int checkquote(const struct doc *doc, int corrupt)
{
	struct bundle b;
	struct bundle_error err;
	TPMS_ATTEST a;
	size_t off = 0;
	char cmd[1024], nonce[65];
	const unsigned char *p;
	X509 *x;
	FILE *f;
	int rc;

	assert_int_equal(bundle_parse((uint8_t *)doc->json, doc->len, &b, &err), 0);
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Unmarshal(b.attest.data, b.attest.len, &off, &a), 0);
	snprintf(cmd, sizeof(cmd), "%s/pcrs", F.root);
	assert_int_equal(attest_fixture_pcrs_file(cmd, &b, &a.attested.quote.pcrSelect), 0);
	b.attest.data[b.attest.len - 1] ^= (uint8_t)corrupt;
	write_file(F.root, "msg", b.attest.data, b.attest.len);
	write_file(F.root, "sig", b.signature.data, b.signature.len);
	p = b.ak.cert.data;
	x = d2i_X509(NULL, &p, (long)b.ak.cert.len);
	snprintf(cmd, sizeof(cmd), "%s/ak.pem", F.root);
	f = fopen(cmd, "w");
	assert_true(x && f && PEM_write_PUBKEY(f, X509_get0_pubkey(x)));
	fclose(f);
	X509_free(x);
	hex_encode(b.nonce, b.nonce_len, nonce);
	snprintf(cmd, sizeof(cmd), "cd '%s' && tpm2_checkquote -u ak.pem -m msg -s sig -f pcrs "
		 "-g sha256 -q %s >checkquote.out 2>&1", F.root, nonce);
	rc = system(cmd);
	bundle_free(&b);
	return rc;
}

static void test_interop_tpm2_checkquote(void **state)
{
	(void)state;
	assert_int_equal(checkquote(&F.rsa, 0), 0);
	assert_int_equal(checkquote(&F.ecc, 0), 0);
	assert_int_not_equal(checkquote(&F.rsa, 1), 0);   /* and it does check */
}

static void test_manifest_roundtrip(void **state)
{
	static struct manifest again;
	struct bundle_error err;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(manifest_write(&F.m, &text, &len), 0);
	assert_int_equal(manifest_parse((uint8_t *)text, len, &again, &err), 0);
	assert_memory_equal(&F.m, &again, sizeof(again));
	text[len / 3] = '}';
	assert_int_not_equal(manifest_parse((uint8_t *)text, len, &again, &err), 0);
	free(text);
}

/* d with "created" moved to `later`'s plus 5 s: as if d's vTPM state had been
 * restored from a copy and quoted afterwards (created is the host's clock). */
static struct doc created_after(const struct doc *d, const struct doc *later)
{
	struct bundle b, l;
	struct bundle_error err;
	struct tm tm = { 0 };
	struct doc t;
	time_t when;

	assert_int_equal(bundle_parse((const uint8_t *)later->json, later->len, &l, &err), 0);
	assert_non_null(strptime(l.created, "%Y-%m-%dT%H:%M:%SZ", &tm));
	when = timegm(&tm) + 5;
	bundle_free(&l);
	assert_int_equal(bundle_parse((const uint8_t *)d->json, d->len, &b, &err), 0);
	strftime(b.created, sizeof(b.created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
	assert_int_equal(bundle_write(&b, &t.json, &t.len), 0);
	memcpy(t.nonce, d->nonce, sizeof(t.nonce));
	bundle_free(&b);
	return t;
}

/* One vTPM's clock never runs back as the host's clock runs on. */
static void test_clock_order_in_batch(void **state)
{
	struct verify_result res[3];
	struct verify_ctx *ctx = ctx_new(&F.m, NULL);
	struct doc old = created_after(&F.rsa, &F.rsa_later);
	struct doc old_boot = created_after(&F.rsa, &F.ecc);

	(void)state;
	verify_bundle(ctx, (uint8_t *)F.rsa_later.json, F.rsa_later.len, &res[0]);
	verify_bundle(ctx, (uint8_t *)F.ecc.json, F.ecc.len, &res[1]);   /* a later boot */
	verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res[2]);
	assert_true(res[2].clock_safe && res[2].ek_spki[0] && res[2].created);
	assert_int_equal(res[2].reset_count, res[0].reset_count);
	assert_int_equal(res[2].restart_count, res[0].restart_count);
	assert_true(res[2].clock < res[0].clock);
	assert_true(res[2].created < res[0].created);
	assert_true(res[1].reset_count > res[2].reset_count);
	assert_int_equal(verify_batch_clock(res, 3), 0);     /* any order given */
	verify_ctx_forget_used(ctx);
	/* The earlier quote of the same boot, created after the later one. */
	verify_bundle(ctx, (uint8_t *)F.rsa_later.json, F.rsa_later.len, &res[0]);
	verify_bundle(ctx, (uint8_t *)old.json, old.len, &res[1]);
	assert_int_equal(res[1].status, VS_WARNING);          /* no nonce issued */
	assert_int_equal(verify_batch_clock(res, 2), 1);
	assert_int_equal(res[0].status, VS_WARNING);
	assert_int_equal(res[1].status, VS_CONTRAINDICATED);
	assert_int_equal(seen_mark(res[1].fail[0].reason, res[1].nfail), VR_CLOCK_BACKWARDS);
	assert_int_equal(res[1].nfail, 1);
	verify_ctx_forget_used(ctx);
	/* An earlier boot's quote created after a later boot's (resetCount back). */
	verify_bundle(ctx, (uint8_t *)old_boot.json, old_boot.len, &res[0]);
	verify_bundle(ctx, (uint8_t *)F.ecc.json, F.ecc.len, &res[1]);
	assert_int_equal(verify_batch_clock(res, 2), 1);
	assert_int_equal(res[0].fail[0].reason, VR_CLOCK_BACKWARDS);
	/* Another vTPM's clock is its own. */
	res[0].nfail = 0;
	res[0].ek_spki[0] ^= 1;
	assert_int_equal(verify_batch_clock(res, 2), 0);
	verify_ctx_free(ctx);
	free(old.json);
	free(old_boot.json);
}

/* A quote after a TPM reset without an orderly shutdown: a warning only. */
static void test_clock_not_safe(void **state)
{
	struct verify_result res;
	struct verify_ctx *ctx = ctx_new(&F.m, F.unsafe.nonce);

	(void)state;
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.unsafe.json, F.unsafe.len, &res),
			 VS_WARNING);
	assert_false(res.clock_safe);
	assert_int_equal(seen_mark(res.fail[0].reason, res.nfail), VR_CLOCK_UNSAFE);
	assert_int_equal(res.nfail, 1);
	assert_int_equal(res.vector[TV_INSTANCE_IDENTITY], 32);
	assert_true(res.fresh);
	verify_ctx_free(ctx);
	/* With a contradiction too, the contradiction is the primary reason. */
	assert_int_equal(verdict_with(F.unsafe.json, F.unsafe.len, &F.m, F.rsa.nonce),
			 VR_NONCE_WRONG);
}

/* d's JSON with the first `from` replaced by `to` (which may be longer). */
static struct doc edited(const struct doc *d, const char *from, const char *to)
{
	const char *p = strstr(d->json, from);
	struct doc t;

	assert_non_null(p);
	t.len = d->len - strlen(from) + strlen(to);
	t.json = malloc(t.len + 1);
	assert_non_null(t.json);
	memcpy(t.json, d->json, (size_t)(p - d->json));
	memcpy(t.json + (p - d->json), to, strlen(to));
	memcpy(t.json + (p - d->json) + strlen(to), p + strlen(from),
	       d->len - (size_t)(p - d->json) - strlen(from) + 1);
	memcpy(t.nonce, d->nonce, sizeof(t.nonce));
	return t;
}

static enum verify_reason verdict_edited(const char *from, const char *to)
{
	struct doc t = edited(&F.rsa, from, to);
	enum verify_reason r = verdict(&t);

	free(t.json);
	return r;
}

/* The banks in the other order: same JSON object, another encoding. */
static enum verify_reason verdict_banks_swapped(void)
{
	const char *a = strstr(F.rsa.json, "    \"sha256\":{"), *b = strstr(F.rsa.json, "    \"sha384\":{");
	const char *end = b ? strstr(b, "\n    }\n") : NULL;
	struct doc t = { malloc(F.rsa.len + 2), 0, { 0 } };
	size_t n = 0;
	enum verify_reason r;

	assert_true(a && b && end && a < b && t.json);
	end += strlen("\n    }");
#define PUT(p, len) (memcpy(t.json + n, (p), (len)), n += (len))
	PUT(F.rsa.json, (size_t)(a - F.rsa.json));
	PUT(b, (size_t)(end - b));
	PUT(",\n", 2);
	PUT(a, (size_t)(b - a) - 2);          /* without its ",\n" */
	PUT(end, F.rsa.len - (size_t)(end - F.rsa.json) + 1);
#undef PUT
	t.len = n - 1;
	memcpy(t.nonce, F.rsa.nonce, sizeof(t.nonce));
	r = verdict(&t);
	free(t.json);
	return r;
}

/* One piece of evidence has one encoding: the producer's. */
static void test_canonical_encoding(void **state)
{
	char created[40], other[48];
	const char *c = strstr(F.rsa.json, "\"created\":\"");
	enum verify_reason r;

	(void)state;
	assert_non_null(c);
	assert_int_equal(verdict_edited("{\n  \"format\":\"bulwark-evidence\",\n  \"version\":1,",
					"{\n  \"version\":1,\n  \"format\":\"bulwark-evidence\","),
			 VR_BUNDLE_NOT_CANONICAL);                 /* key order */
	assert_int_equal(verdict_edited("\"name\":\"guest-a\"", "\"name\":\"\\u0067uest-a\""),
			 VR_BUNDLE_NOT_CANONICAL);                 /* an escape */
	assert_int_equal(verdict_edited("\"version\":1", "\"version\": 1"),
			 VR_BUNDLE_NOT_CANONICAL);                 /* whitespace */
	c = strstr(F.rsa.json, "\"attest\":\"");              /* an escape in base64 */
	assert_non_null(c);
	snprintf(created, sizeof(created), "%.11s", c);
	snprintf(other, sizeof(other), "\"attest\":\"\\u%04x", (unsigned)c[10]);
	assert_int_equal(verdict_edited(created, other), VR_BUNDLE_NOT_CANONICAL);
	c = strstr(F.rsa.json, "\"created\":\"");
	/* A repeated key: the canonical check refuses it whatever the JSON
	 * reader makes of it (a strict reader refuses it first). */
	r = verdict_edited("  \"version\":1,\n", "  \"version\":1,\n  \"version\":1,\n");
	assert_true(r == VR_BUNDLE_NOT_CANONICAL || r == VR_BUNDLE_JSON);
	assert_int_equal(verdict_edited("\n}\n", "}\n"), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(verdict_banks_swapped(), VR_BUNDLE_NOT_CANONICAL);
	snprintf(created, sizeof(created), "%.32s", c);          /* "created":"...Z" */
	/* created: RFC 3339 UTC "Z" with whole seconds, nothing else. */
	snprintf(other, sizeof(other), "%.30s+00:00\"", created);
	assert_int_equal(verdict_edited(created, other), VR_BUNDLE_FIELD);
	snprintf(other, sizeof(other), "%.30s.5Z\"", created);
	assert_int_equal(verdict_edited(created, other), VR_BUNDLE_FIELD);
	snprintf(other, sizeof(other), "%.30sz\"", created);
	assert_int_equal(verdict_edited(created, other), VR_BUNDLE_FIELD);
	assert_int_equal(verdict_edited(created, "\"created\":\"2026-02-30T10:00:00Z\""),
			 VR_BUNDLE_FIELD);
	assert_int_equal(verdict_edited(created, "\"created\":\"2026-02-28T10:00:00Z\""), VR_OK);
}

static void t_ek_chain_twice(struct bundle *b)
{
	assert_int_equal(b->ek.nchain, 1);
	assert_int_equal(blob_set(&b->ek.chain[1], b->ek.chain[0].data, b->ek.chain[0].len), 0);
	b->ek.nchain = 2;
}

static void t_ek_chain_root(struct bundle *b)
{
	X509 *root = attest_fixture_load_cert(F.ek_ca, 1);

	assert_non_null(root);
	assert_int_equal(attest_fixture_der(root, &b->ek.chain[1]), 0);
	b->ek.nchain = 2;
	X509_free(root);
}

static void t_ak_chain_anchor(struct bundle *b)
{
	assert_int_equal(attest_fixture_der(F.ca_cert, &b->ak.chain[0]), 0);
	b->ak.nchain = 1;
}

/* Spec ID errata: not extended anywhere, so only the producer's value. */
static void t_log_errata(struct bundle *b) { b->event_log.data[32 + 22] ^= 1; }

/* The ECDSA r with a leading zero byte: the same number, so it verifies. */
static void t_ecdsa_r_padded(struct bundle *b)
{
	TPMT_SIGNATURE sig;
	TPMS_SIGNATURE_ECC *e = &sig.signature.ecdsa;
	size_t off = 0;

	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Unmarshal(b->signature.data, b->signature.len,
							  &off, &sig), 0);
	assert_int_equal(e->signatureR.size, 32);
	memmove(e->signatureR.buffer + 1, e->signatureR.buffer, 32);
	e->signatureR.buffer[0] = 0;
	e->signatureR.size = 33;
	b->signature.data = realloc(b->signature.data, sizeof(sig));
	assert_non_null(b->signature.data);
	off = 0;
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, b->signature.data, sizeof(sig), &off), 0);
	b->signature.len = off;
}

static void test_canonical_certificates_and_log(void **state)
{
	(void)state;
	assert_int_equal(tampered(&F.rsa, t_ek_chain_twice), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(tampered(&F.rsa, t_ek_chain_root), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(tampered(&F.rsa, t_ak_chain_anchor), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(tampered(&F.rsa, t_log_errata), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(tampered(&F.ecc, t_ecdsa_r_padded), VR_BUNDLE_NOT_CANONICAL);
	assert_int_equal(last_nfail, 1);          /* the signature itself verifies */
}

/* ---- the AK certificate profile ----------------------------------------- */

enum ak_variant { AK_GOOD, AK_CA, AK_KEYCERTSIGN, AK_SERVERAUTH, AK_NO_EXT, AK_TWO_CN,
		  AK_NUL_CN, AK_SHA1 };

static void ext_add(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, F.ca_cert, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* guest A's AK certificate made again by OpenSSL here, the CA's own key,
 * with one thing changed (AK_GOOD: nothing). */
static X509 *ak_cert_variant(enum ak_variant v)
{
	static const char cn_nul[] = "guest-a\0evil";
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	int san = X509_get_ext_by_NID(F.ak_rsa, NID_subject_alt_name, -1);

	assert_true(x && n && san >= 0);
	assert_true(X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 99 + v) &&
		    X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		    X509_gmtime_adj(X509_getm_notAfter(x), 86400L) &&
		    X509_set_issuer_name(x, X509_get_subject_name(F.ca_cert)) &&
		    X509_set_pubkey(x, X509_get0_pubkey(F.ak_rsa)));
	if (v == AK_NUL_CN)
		assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
						       (const unsigned char *)cn_nul,
						       sizeof(cn_nul) - 1, -1, 0));
	else
		assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						       (const unsigned char *)"guest-a", -1, -1, 0));
	if (v == AK_TWO_CN)
		assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						       (const unsigned char *)"guest-b", -1, -1, 0));
	assert_true(X509_set_subject_name(x, n));
	X509_NAME_free(n);
	assert_true(X509_add_ext(x, X509_get_ext(F.ak_rsa, san), -1));
	if (v != AK_NO_EXT) {
		ext_add(x, NID_basic_constraints, v == AK_CA ? "critical,CA:TRUE" : "critical,CA:FALSE");
		ext_add(x, NID_key_usage, v == AK_KEYCERTSIGN ? "critical,keyCertSign" :
			"critical,digitalSignature");
	}
	if (v == AK_SERVERAUTH)
		ext_add(x, NID_ext_key_usage, "serverAuth");
	assert_true(X509_sign(x, F.ca_key, v == AK_SHA1 ? EVP_sha1() : EVP_sha256()) > 0);
	return x;
}

static X509 *variant_cert;
static void t_ak_variant(struct bundle *b) { set_cert(&b->ak, variant_cert, 0); }

static enum verify_reason ak_variant_verdict(enum ak_variant v)
{
	enum verify_reason r;

	variant_cert = ak_cert_variant(v);
	r = tampered(&F.rsa, t_ak_variant);
	X509_free(variant_cert);
	return r;
}

static void test_ak_certificate_profile(void **state)
{
	(void)state;
	assert_int_equal(ak_variant_verdict(AK_GOOD), VR_OK);     /* the maker is right */
	assert_int_equal(ak_variant_verdict(AK_CA), VR_AK_CERT_PROFILE);
	assert_int_equal(ak_variant_verdict(AK_KEYCERTSIGN), VR_AK_CERT_PROFILE);
	assert_int_equal(ak_variant_verdict(AK_SERVERAUTH), VR_AK_CERT_PROFILE);
	assert_int_equal(ak_variant_verdict(AK_NO_EXT), VR_AK_CERT_PROFILE);
	assert_int_equal(ak_variant_verdict(AK_TWO_CN), VR_AK_CERT_PROFILE);
	assert_int_equal(ak_variant_verdict(AK_NUL_CN), VR_CERT_NAME);
	assert_int_equal(ak_variant_verdict(AK_SHA1), VR_CERT_WEAK_SIGNATURE);
}

/* ---- one AK per guest ------------------------------------------------- */

static void t_as_guest_b(struct bundle *b)
{
	snprintf(b->name, sizeof(b->name), "guest-b");
	snprintf(b->uuid, sizeof(b->uuid), UUID_B);
	set_cert(&b->ak, F.ak_b, 0);
}

static void t_as_guest_b_with_its_ak(struct bundle *b)
{
	size_t off = 0;

	t_as_guest_b(b);
	b->ak_public.data = realloc(b->ak_public.data, sizeof(TPMT_PUBLIC));
	assert_non_null(b->ak_public.data);
	assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&F.pub_b.publicArea, b->ak_public.data,
						     sizeof(TPMT_PUBLIC), &off), 0);
	b->ak_public.len = off;
}

static void t_as_guest_b_careless_ca(struct bundle *b)
{
	t_as_guest_b(b);
	set_cert(&b->ak, F.ak_b_for_a, 0);
}

/* Two identities enrolled on one vTPM: two AKs, and neither's quote passes
 * for the other's certificate. */
static void test_ak_belongs_to_one_guest(void **state)
{
	uint8_t want[32];

	(void)state;
	assert_int_not_equal(F.pub_b.publicArea.unique.rsa.size, 0);
	assert_memory_not_equal(F.pub_b.publicArea.unique.rsa.buffer,
				F.pub_rsa.publicArea.unique.rsa.buffer,
				F.pub_rsa.publicArea.unique.rsa.size);
	assert_int_equal(verify_ak_policy(UUID_B, want), 0);
	assert_memory_equal(F.pub_b.publicArea.authPolicy.buffer, want, sizeof(want));
	assert_int_equal(tampered(&F.rsa, t_as_guest_b), VR_AK_PUBLIC);
	assert_int_equal(tampered(&F.rsa, t_as_guest_b_with_its_ak), VR_SIGNATURE);
	/* Even a certificate for B naming A's AK: A's policy is not B's. */
	assert_int_equal(tampered(&F.rsa, t_as_guest_b_careless_ca), VR_AK_GUEST_BINDING);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(verdict(&F.guest_c), VR_OK);     /* B's own quote */
}

/* ---- clones, svirt, PCRs 17-22 ------------------------------------------ */

static void test_clone_in_batch(void **state)
{
	struct verify_result res[3];
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);

	(void)state;
	assert_int_equal(verify_ctx_expect_nonce(ctx, F.clone.nonce, 32), 0);
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res[0]),
			 VS_AFFIRMING);
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.clone.json, F.clone.len, &res[1]),
			 VS_AFFIRMING);                  /* alone, each is good evidence */
	assert_int_equal(verify_bundle(ctx, (uint8_t *)F.guest_c.json, F.guest_c.len, &res[2]),
			 VS_AFFIRMING);
	assert_string_not_equal(res[0].ek_spki, res[1].ek_spki);
	assert_int_equal(verify_batch_clones(res, 3), 2);
	assert_int_equal(res[0].status, VS_CONTRAINDICATED);
	assert_int_equal(res[1].status, VS_CONTRAINDICATED);
	assert_int_equal(seen_mark(res[0].fail[0].reason, res[0].nfail), VR_GUEST_CLONED);
	assert_int_equal(res[1].fail[0].reason, VR_GUEST_CLONED);
	assert_int_equal(res[2].status, VS_AFFIRMING);    /* another guest, same vTPM */
	verify_ctx_free(ctx);
}

static void test_svirt_mode(void **state)
{
	static struct manifest m, again;
	struct bundle_error err;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(F.m.svirt_allowed, MANIFEST_SVIRT_DYNAMIC);
	assert_int_equal(verdict(&F.svirt_static), VR_SVIRT_MODE);
	assert_int_equal(last_nfail, 1);
	assert_int_equal(verdict(&F.svirt_off), VR_SVIRT_MODE);
	m = F.m;
	m.svirt_allowed |= MANIFEST_SVIRT_STATIC;
	assert_int_equal(verdict_with(F.svirt_static.json, F.svirt_static.len, &m,
				      F.svirt_static.nonce), VR_OK);
	assert_int_equal(verdict_with(F.svirt_off.json, F.svirt_off.len, &m, F.svirt_off.nonce),
			 VR_SVIRT_MODE);
	m.svirt_allowed = MANIFEST_SVIRT_OFF;    /* off only: dynamic is now refused */
	assert_int_equal(verdict_with(F.svirt_off.json, F.svirt_off.len, &m, F.svirt_off.nonce),
			 VR_OK);
	assert_int_equal(verdict_with(F.rsa.json, F.rsa.len, &m, F.rsa.nonce), VR_SVIRT_MODE);
	/* The manifest says it, and reads back what it said. */
	m.svirt_allowed = MANIFEST_SVIRT_DYNAMIC | MANIFEST_SVIRT_STATIC;
	assert_int_equal(manifest_write(&m, &text, &len), 0);
	assert_non_null(strstr(text, "\"svirt\":[\n    \"dynamic\",\n    \"static\"\n  ]"));
	assert_int_equal(manifest_parse((uint8_t *)text, len, &again, &err), 0);
	assert_int_equal(again.svirt_allowed, m.svirt_allowed);
	free(text);
}

/* A quote of every PCR: 17-22 replay from all ones (no event extends them). */
static void test_quote_of_all_pcrs(void **state)
{
	struct bundle b;
	struct bundle_error err;

	(void)state;
	assert_int_equal(bundle_parse((uint8_t *)F.all_pcrs.json, F.all_pcrs.len, &b, &err), 0);
	assert_int_equal(b.pcrs.mask[0], 0xffffff);
	assert_int_equal(b.pcrs.value[0][17][0], 0xff);
	assert_int_equal(b.pcrs.value[0][16][0], 0);
	bundle_free(&b);
	assert_int_equal(verdict(&F.all_pcrs), VR_OK);
}

/* ---- the used-nonce store ------------------------------------------------ */

/* One run of bulwark-verify's flow against the store: 0 if it affirmed. */
static int store_run(const char *path, int go)
{
	struct verify_result res;
	struct verify_store *st = NULL;
	struct verify_ctx *ctx = ctx_new(&F.m, F.rsa.nonce);
	char c;
	int rc = read(go, &c, 1) == 1 ? verify_store_open(path, ctx, &st) : -EIO;

	rc = rc ? rc : verify_bundle(ctx, (uint8_t *)F.rsa.json, F.rsa.len, &res) == VS_AFFIRMING ?
		0 : 1;
	if (st && verify_store_commit(st, &res, 1))
		rc = -EIO;
	verify_store_close(st);
	verify_ctx_free(ctx);
	return rc;
}

static void test_nonce_store_concurrent(void **state)
{
	char path[160], line[200];
	int go[2], affirmed = 0, lines = 0, status;
	pid_t pid[4];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/used-nonces", F.root);
	assert_int_equal(pipe(go), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pid); i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (!pid[i])
			_exit(store_run(path, go[0]) ? 1 : 0);
	}
	assert_int_equal(write(go[1], "GGGG", 4), 4);    /* all four at once */
	for (size_t i = 0; i < ARRAY_SIZE(pid); i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		affirmed += WEXITSTATUS(status) == 0;
	}
	close(go[0]);
	close(go[1]);
	assert_int_equal(affirmed, 1);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	assert_int_equal(lines, 1);
}

/* 100,000 used nonces load in linear time (a quadratic set took seconds). */
static void test_nonce_store_large(void **state)
{
	struct verify_store *st = NULL;
	struct verify_ctx *ctx = ctx_new(&F.m, NULL);
	struct timespec t0, t1;
	char path[160];
	double secs;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/big-store", F.root);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < 100000; i++)
		fprintf(f, "%056x%08x\n", 0u, i);
	assert_int_equal(fclose(f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(verify_store_open(path, ctx, &st), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("100000 used nonces loaded in %.3f s\n", secs);
	assert_true(secs < 3.0);
	verify_store_close(st);
	/* A line that is not a nonce: the store is refused, not half read. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("not-a-nonce\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(verify_store_open(path, ctx, &st), -EINVAL);
	verify_ctx_free(ctx);
}

/* Last: every guest reason of verify_reasons.c was the primary one somewhere
 * (the host's, VR_HOST_MISSING on, are test_host_verify's). */
/* With BULWARK_SEEDS=DIR: the restored bundles and the manifest as fuzz
 * seeds (tests/fuzz/corpus/fuzz_verify, fuzz_bundle, fuzz_manifest). */
static void seeds_write(const char *manifest, size_t mlen)
{
	const char *dir = getenv("BULWARK_SEEDS");
	const struct { const char *name; const char *data; size_t len; } f[] = {
		{ "restored.json", F.restored.json, F.restored.len },
		{ "restored-twice.json", F.restored_twice.json, F.restored_twice.len },
		{ "restore-early.json", F.restore_early.json, F.restore_early.len },
		{ "manifest-allow-restore.json", manifest, mlen },
	};
	char path[256];

	for (size_t i = 0; dir && i < ARRAY_SIZE(f); i++) {
		FILE *o;

		snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
		o = fopen(path, "w");
		assert_non_null(o);
		assert_int_equal(fwrite(f[i].data, 1, f[i].len, o), f[i].len);
		fclose(o);
	}
}

/* The printed report and the EAR show the chain. */
static void report_has_chain(const struct verify_result *r, const char *hex)
{
	const char *const src[] = { "restored.json" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	ear_report(f, r, "restored.json");
	fclose(f);
	assert_non_null(strstr(text, "  chain      booted under " LABEL_A ", svirt dynamic, "
				     "selinux enforcing, policy 5e119a0000000000, filters "
				     "vcpu=2201000000000000,vmm=1102000000000000\n"));
	assert_non_null(strstr(text, "2026-12-02T08:50:45Z from snapshot "));
	assert_non_null(strstr(text, hex));
	assert_non_null(strstr(text, "restored under " LABEL_C ", svirt dynamic"));
	free(text);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(ear_write(f, r, src, 1, "test-policy", 0), 0);
	fclose(f);
	assert_non_null(strstr(text, "\"bulwark.chain\""));
	assert_non_null(strstr(text, "\"event\":\"restored\""));
	assert_non_null(strstr(text, hex));
	free(text);
}

/* A restored guest: affirming only where the manifest allows restores, every
 * security state appraised, the chain in the result. */
static void test_restore(void **state)
{
	static struct manifest m, again;
	const struct verify_result *r;
	struct bundle_error err;
	char *text = NULL, hex[65];
	size_t len = 0;

	(void)state;
	assert_int_equal(F.m.allow_restore, 0);
	assert_int_equal(verdict(&F.restored), VR_RESTORE_NOT_ALLOWED);
	assert_int_equal(last_nfail, 1);
	assert_non_null(strstr(last_res->fail[0].detail, "2026-12-02T08:50:45Z"));
	m = F.m;
	m.allow_restore = 1;
	assert_int_equal(verdict_with(F.restored.json, F.restored.len, &m, F.restored.nonce),
			 VR_OK);
	r = last_res;
	hex_encode(snap_digest, 32, hex);
	assert_int_equal(r->nchain, 2);
	assert_int_equal(r->chain[0].restored, 0);
	assert_string_equal(r->chain[0].label, LABEL_A);
	assert_int_equal(r->chain[1].restored, 1);
	assert_string_equal(r->chain[1].label, LABEL_C);
	assert_string_equal(r->chain[1].snapshot, hex);
	assert_string_equal(r->chain[1].time, "2026-12-02T08:50:45Z");
	assert_string_equal(r->chain[1].selinux, "enforcing");
	assert_string_equal(r->chain[1].svirt, "dynamic");
	assert_non_null(strstr(r->chain[1].filters, "vmm=1102"));
	assert_string_equal(r->label, LABEL_C);
	report_has_chain(r, hex);
	/* twice: three states, the last label is the bundle's */
	assert_int_equal(verdict_with(F.restored_twice.json, F.restored_twice.len, &m,
				      F.restored_twice.nonce), VR_OK);
	assert_int_equal(last_res->nchain, 3);
	assert_string_equal(last_res->chain[2].label, LABEL_D);
	assert_string_equal(last_res->chain[2].time, "2026-12-02T08:50:46Z");
	/* the restore's own state is appraised (and says which it is) */
	assert_int_equal(verdict_with(F.restored_permissive.json, F.restored_permissive.len, &m,
				      F.restored_permissive.nonce), VR_SELINUX_NOT_ENFORCING);
	assert_int_equal(last_nfail, 1);
	assert_non_null(strstr(last_res->fail[0].detail, "after restore 1: "));
	/* a restore record before the boot is over; one not in measure.h's form */
	assert_int_equal(verdict_with(F.restore_early.json, F.restore_early.len, &m,
				      F.restore_early.nonce), VR_EVENT_ORDER);
	assert_int_equal(verdict_with(F.restore_bad.json, F.restore_bad.len, &m,
				      F.restore_bad.nonce), VR_RESTORE_MALFORMED);
	/* the manifest says it, and reads back what it said */
	assert_int_equal(manifest_write(&m, &text, &len), 0);
	assert_non_null(strstr(text, "\"allow_restore\":true"));
	assert_int_equal(manifest_parse((uint8_t *)text, len, &again, &err), 0);
	assert_int_equal(again.allow_restore, 1);
	seeds_write(text, len);
	free(text);
}

/* A migrated guest (after a restore): affirming only where the manifest
 * allows both, the chain across hosts in the result and the report. */
static void test_migrate(void **state)
{
	static struct manifest m, again;
	const struct verify_result *r;
	struct bundle_error err;
	char *text = NULL, hex[65], cert[65];
	size_t len = 0;
	FILE *f;

	(void)state;
	m = F.m;
	m.allow_restore = 1;
	assert_int_equal(verdict_with(F.migrated.json, F.migrated.len, &m, F.migrated.nonce),
			 VR_MIGRATE_NOT_ALLOWED);
	assert_int_equal(last_nfail, 1);
	assert_non_null(strstr(last_res->fail[0].detail, "2026-12-02T08:51:45Z"));
	m.allow_migrate = 1;
	assert_int_equal(verdict_with(F.migrated.json, F.migrated.len, &m, F.migrated.nonce),
			 VR_OK);
	r = last_res;
	hex_encode(snap_digest, 32, hex);
	hex_encode(src_cert_digest, 32, cert);
	assert_int_equal(r->nchain, 3);
	assert_int_equal(r->chain[1].restored, 1);
	assert_int_equal(r->chain[2].restored, 0);
	assert_int_equal(r->chain[2].migrated, 1);
	assert_string_equal(r->chain[2].label, LABEL_D);
	assert_string_equal(r->chain[2].source, "host-a");
	assert_string_equal(r->chain[2].source_cert, cert);
	assert_string_equal(r->chain[2].snapshot, hex);
	assert_string_equal(r->chain[2].time, "2026-12-02T08:51:45Z");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ear_report(f, r, "migrated.json");
	fclose(f);
	assert_non_null(strstr(text, "2026-12-02T08:51:45Z from host host-a (cert ce47000000000000)"));
	assert_non_null(strstr(text, "migrated under " LABEL_D ", svirt dynamic"));
	free(text);
	/* only restores allowed: the migration is named */
	m.allow_restore = 0;
	assert_int_equal(verdict_with(F.migrated.json, F.migrated.len, &m, F.migrated.nonce),
			 VR_RESTORE_NOT_ALLOWED);
	assert_int_equal(verdict_with(F.migrate_bad.json, F.migrate_bad.len, &m,
				      F.migrate_bad.nonce), VR_MIGRATE_MALFORMED);
	m.allow_restore = 1;
	assert_int_equal(manifest_write(&m, &text, &len), 0);
	assert_non_null(strstr(text, "\"allow_migrate\":true"));
	assert_int_equal(manifest_parse((uint8_t *)text, len, &again, &err), 0);
	assert_int_equal(again.allow_migrate, 1);
	free(text);
}

static void test_every_reason(void **state)
{
	(void)state;
	for (int r = 0; r < VR_COUNT; r++) {
		if ((r >= VR_HOST_MISSING && r <= VR_HOST_ENROLL_FILE) ||
		    r == VR_HOP_BINDING || r == VR_HOP_NOT_IN_LOG)
			continue;      /* the host's: test_host_verify */
		if (!seen[r])
			print_error("no test produced %s\n", verify_reason_name((enum verify_reason)r));
		assert_true(seen[r]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest_bundles_affirm),
		cmocka_unit_test(test_without_nonce_only_warning),
		cmocka_unit_test(test_nonce_tampering),
		cmocka_unit_test(test_quote_and_pcr_tampering),
		cmocka_unit_test(test_event_log_tampering),
		cmocka_unit_test(test_key_and_certificate_tampering),
		cmocka_unit_test(test_reference_values),
		cmocka_unit_test(test_label_shared_in_batch),
		cmocka_unit_test(test_json_tampering),
		cmocka_unit_test(test_interop_tpm2_checkquote),
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_quote_form),
		cmocka_unit_test(test_event_log_form),
		cmocka_unit_test(test_security_state),
		cmocka_unit_test(test_verifier_error),
		cmocka_unit_test(test_clock_order_in_batch),
		cmocka_unit_test(test_clock_not_safe),
		cmocka_unit_test(test_canonical_encoding),
		cmocka_unit_test(test_canonical_certificates_and_log),
		cmocka_unit_test(test_ak_certificate_profile),
		cmocka_unit_test(test_ak_belongs_to_one_guest),
		cmocka_unit_test(test_clone_in_batch),
		cmocka_unit_test(test_svirt_mode),
		cmocka_unit_test(test_quote_of_all_pcrs),
		cmocka_unit_test(test_nonce_store_concurrent),
		cmocka_unit_test(test_nonce_store_large),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_every_reason),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
