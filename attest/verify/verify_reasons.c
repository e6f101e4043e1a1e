/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reasons, the claims they contradict, and the status they imply.  Values
 * follow AR4SI (facts.md): 0 no claim, 1 verifier malfunction, 2..31
 * affirming, 32..95 warning, 96..127 contraindicated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attest/verify/verify.h"
#include "core/util.h"

#define TV_AFFIRM        2
#define TV_NOT_FRESH     32   /* instance-identity: freshness unknown */
#define TV_CONTRA        96
#define TV_MALFUNCTION   1
#define TV_WARN          32   /* a warning reason (VR_CLOCK_UNSAFE) */

static const struct {
	const char *name;
	enum verify_claim claim;
	int warn;          /* a warning (value 32), never a contradiction */
} reasons[VR_COUNT] = {
	[VR_OK] = { "ok", TV_INSTANCE_IDENTITY },
	[VR_BUNDLE_TOO_LARGE] = { "bundle-too-large", TV_INSTANCE_IDENTITY },
	[VR_BUNDLE_JSON] = { "bundle-malformed-json", TV_INSTANCE_IDENTITY },
	[VR_BUNDLE_FORMAT] = { "bundle-unknown-format", TV_INSTANCE_IDENTITY },
	[VR_BUNDLE_FIELD] = { "bundle-bad-field", TV_INSTANCE_IDENTITY },
	[VR_EK_CHAIN] = { "ek-cert-untrusted", TV_HARDWARE },
	[VR_AK_CHAIN] = { "ak-cert-untrusted", TV_INSTANCE_IDENTITY },
	[VR_AK_EK_BINDING] = { "ak-not-bound-to-ek", TV_INSTANCE_IDENTITY },
	[VR_AK_PUBLIC] = { "ak-public-mismatch", TV_INSTANCE_IDENTITY },
	[VR_GUEST_IDENTITY] = { "guest-identity-mismatch", TV_INSTANCE_IDENTITY },
	[VR_ATTEST_MALFORMED] = { "quote-malformed", TV_INSTANCE_IDENTITY },
	[VR_ATTEST_MAGIC] = { "quote-not-tpm-generated", TV_INSTANCE_IDENTITY },
	[VR_ATTEST_TYPE] = { "quote-wrong-type", TV_INSTANCE_IDENTITY },
	[VR_SIGNATURE] = { "quote-signature-invalid", TV_INSTANCE_IDENTITY },
	[VR_NONCE_MISMATCH] = { "nonce-not-in-quote", TV_INSTANCE_IDENTITY },
	[VR_NONCE_WRONG] = { "nonce-not-expected", TV_INSTANCE_IDENTITY },
	[VR_NONCE_REPLAYED] = { "nonce-replayed", TV_INSTANCE_IDENTITY },
	[VR_PCR_SELECTION] = { "pcr-selection-mismatch", TV_EXECUTABLES },
	[VR_PCR_DIGEST] = { "pcr-digest-mismatch", TV_EXECUTABLES },
	[VR_LOG_MALFORMED] = { "event-log-malformed", TV_EXECUTABLES },
	[VR_LOG_BANKS] = { "event-log-banks-mismatch", TV_EXECUTABLES },
	[VR_EVENT_UNEXPECTED] = { "event-unexpected", TV_EXECUTABLES },
	[VR_EVENT_MISSING] = { "event-missing", TV_EXECUTABLES },
	[VR_EVENT_ORDER] = { "event-out-of-order", TV_EXECUTABLES },
	[VR_LOG_REPLAY] = { "event-log-replay-mismatch", TV_EXECUTABLES },
	[VR_EVENT_PAYLOAD] = { "event-payload-mismatch", TV_EXECUTABLES },
	[VR_MANIFEST_BANKS] = { "manifest-missing-bank", TV_EXECUTABLES },
	[VR_REF_VMM] = { "vmm-identity-not-allowed", TV_EXECUTABLES },
	[VR_REF_CONFIG] = { "config-not-allowed", TV_CONFIGURATION },
	[VR_REF_ACPI] = { "acpi-not-allowed", TV_CONFIGURATION },
	[VR_REF_KERNEL] = { "kernel-not-allowed", TV_EXECUTABLES },
	[VR_REF_CMDLINE] = { "cmdline-not-allowed", TV_CONFIGURATION },
	[VR_REF_INITRD] = { "initrd-not-allowed", TV_EXECUTABLES },
	[VR_SECSTATE_MALFORMED] = { "security-state-malformed", TV_CONFIGURATION },
	[VR_SELINUX_NOT_ENFORCING] = { "selinux-not-enforcing", TV_RUNTIME_OPAQUE },
	[VR_SELINUX_POLICY] = { "selinux-policy-not-allowed", TV_CONFIGURATION },
	[VR_LABEL_MALFORMED] = { "label-malformed", TV_RUNTIME_OPAQUE },
	[VR_LABEL_MISMATCH] = { "label-not-measured", TV_RUNTIME_OPAQUE },
	[VR_LABEL_SHARED] = { "label-shared", TV_RUNTIME_OPAQUE },
	[VR_SECCOMP_OFF] = { "seccomp-off", TV_RUNTIME_OPAQUE },
	[VR_SECCOMP_FILTER] = { "seccomp-filter-not-allowed", TV_CONFIGURATION },
	[VR_PROTECTION_OFF] = { "protection-off", TV_CONFIGURATION },
	[VR_INTERNAL] = { "verifier-error", TV_INSTANCE_IDENTITY },
	[VR_CLOCK_BACKWARDS] = { "clock-backwards", TV_INSTANCE_IDENTITY },
	[VR_CLOCK_UNSAFE] = { "clock-not-safe", TV_INSTANCE_IDENTITY, 1 },
	[VR_AK_CERT_PROFILE] = { "ak-cert-profile", TV_INSTANCE_IDENTITY },
	[VR_CERT_NAME] = { "certificate-name-malformed", TV_INSTANCE_IDENTITY },
	[VR_CERT_WEAK_SIGNATURE] = { "certificate-weak-signature", TV_INSTANCE_IDENTITY },
	[VR_AK_GUEST_BINDING] = { "ak-not-bound-to-guest", TV_INSTANCE_IDENTITY },
	[VR_GUEST_CLONED] = { "guest-cloned", TV_INSTANCE_IDENTITY },
	[VR_SVIRT_MODE] = { "svirt-mode-not-allowed", TV_RUNTIME_OPAQUE },
	[VR_BUNDLE_NOT_CANONICAL] = { "bundle-not-canonical", TV_INSTANCE_IDENTITY },
	[VR_HOST_MISSING] = { "host-evidence-missing", TV_HARDWARE, 1 },
	[VR_HOST_EK_CHAIN] = { "host-ek-cert-untrusted", TV_HARDWARE },
	[VR_HOST_AK_CHAIN] = { "host-ak-cert-untrusted", TV_INSTANCE_IDENTITY },
	[VR_HOST_AK_EK_BINDING] = { "host-ak-not-bound-to-ek", TV_INSTANCE_IDENTITY },
	[VR_HOST_AK_PUBLIC] = { "host-ak-public-mismatch", TV_INSTANCE_IDENTITY },
	[VR_HOST_QUOTE_MALFORMED] = { "host-quote-malformed", TV_INSTANCE_IDENTITY },
	[VR_HOST_SIGNATURE] = { "host-quote-signature-invalid", TV_INSTANCE_IDENTITY },
	[VR_HOST_BINDING] = { "host-binding-mismatch", TV_INSTANCE_IDENTITY },
	[VR_HOST_PCR] = { "host-pcr-mismatch", TV_EXECUTABLES },
	[VR_HOST_IMA_MALFORMED] = { "host-ima-log-malformed", TV_EXECUTABLES },
	[VR_HOST_IMA_REPLAY] = { "host-ima-replay-mismatch", TV_EXECUTABLES },
	[VR_HOST_FILE] = { "host-file-not-allowed", TV_EXECUTABLES },
	[VR_HOST_IMA_VIOLATION] = { "host-ima-violation", TV_RUNTIME_OPAQUE, 1 },
	[VR_HOST_ENROLL_MALFORMED] = { "host-enrollment-quote-malformed", TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_SIGNATURE] = { "host-enrollment-signature-invalid", TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_BINDING] = { "host-enrollment-binding-mismatch", TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_PCR] = { "host-enrollment-pcr-mismatch", TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_IMA_MALFORMED] = { "host-enrollment-ima-log-malformed",
					   TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_IMA_REPLAY] = { "host-enrollment-ima-replay-mismatch",
					TV_INSTANCE_IDENTITY },
	[VR_HOST_ENROLL_FILE] = { "host-enrollment-file-not-allowed", TV_INSTANCE_IDENTITY },
	[VR_RESTORE_NOT_ALLOWED] = { "restore-not-allowed", TV_RUNTIME_OPAQUE },
	[VR_RESTORE_MALFORMED] = { "restore-event-malformed", TV_CONFIGURATION },
	[VR_MIGRATE_NOT_ALLOWED] = { "migration-not-allowed", TV_RUNTIME_OPAQUE },
	[VR_MIGRATE_MALFORMED] = { "migration-event-malformed", TV_CONFIGURATION },
	[VR_HOP_BINDING] = { "host-migration-binding-mismatch", TV_INSTANCE_IDENTITY },
	[VR_HOP_NOT_IN_LOG] = { "host-migration-not-in-log", TV_INSTANCE_IDENTITY },
};

static const char *const claims[TV_COUNT] = {
	"instance-identity", "configuration", "executables", "file-system",
	"hardware", "runtime-opaque", "storage-opaque", "sourced-data",
};

const char *verify_reason_name(enum verify_reason r)
{
	return r < VR_COUNT && reasons[r].name ? reasons[r].name : "unknown";
}

const char *verify_claim_name(enum verify_claim c)
{
	return c < TV_COUNT ? claims[c] : "unknown";
}

const char *verify_status_name(enum verify_status s)
{
	static const char *const names[] = { "none", "affirming", "warning",
					      "contraindicated" };

	return s < ARRAY_SIZE(names) ? names[s] : "none";
}

/* The worst claim decides; nothing affirmed at all is "none". */
static void status_update(struct verify_result *res)
{
	enum verify_status s = VS_NONE;

	for (size_t i = 0; i < TV_COUNT; i++) {
		int v = res->vector[i];

		if (v >= 96 || v == TV_MALFUNCTION)
			s = VS_CONTRAINDICATED;
		else if (v >= 32 && s < VS_WARNING)
			s = VS_WARNING;
		else if (v >= 2 && s < VS_AFFIRMING)
			s = VS_AFFIRMING;
	}
	res->status = s;
}

void verify_fail(struct verify_result *res, enum verify_reason reason, const char *fmt, ...)
{
	struct verify_failure *f;
	va_list ap;

	if (reason <= VR_OK || reason >= VR_COUNT)
		reason = VR_INTERNAL;
	if (reasons[reason].warn) {
		int8_t *v = &res->vector[reasons[reason].claim];

		if (*v < TV_WARN && *v != TV_MALFUNCTION)
			*v = TV_WARN;      /* never lowers a worse value */
	} else {
		res->vector[reasons[reason].claim] =
			reason == VR_INTERNAL ? TV_MALFUNCTION : TV_CONTRA;
	}
	status_update(res);
	if (res->nfail >= ARRAY_SIZE(res->fail))
		return;
	f = &res->fail[res->nfail++];
	f->reason = reason;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/* Called by verify.c when every check has run: affirm what was not contradicted. */
void verify_result_finish(struct verify_result *res);
void verify_result_finish(struct verify_result *res)
{
	static const enum verify_claim checked[] = { TV_INSTANCE_IDENTITY, TV_CONFIGURATION,
		TV_EXECUTABLES, TV_HARDWARE, TV_RUNTIME_OPAQUE };

	for (size_t i = 0; i < ARRAY_SIZE(checked); i++)
		if (!res->vector[checked[i]])
			res->vector[checked[i]] = TV_AFFIRM;
	if (!res->fresh && res->vector[TV_INSTANCE_IDENTITY] == TV_AFFIRM)
		res->vector[TV_INSTANCE_IDENTITY] = TV_NOT_FRESH;
	status_update(res);
}

size_t verify_batch_labels(struct verify_result *res, size_t n)
{
	size_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			if (i == j || !res[i].label[0] || strcmp(res[i].label, res[j].label) ||
			    !strcmp(res[i].uuid, res[j].uuid))
				continue;
			verify_fail(&res[i], VR_LABEL_SHARED, "label %s also used by guest %s (%s)",
				    res[i].label, res[j].name, res[j].uuid);
			changed++;
			break;
		}
	}
	return changed;
}

size_t verify_batch_clones(struct verify_result *res, size_t n)
{
	size_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && res[i].ek_spki[0]; j++) {
			if (i == j || !res[j].ek_spki[0] || strcmp(res[i].uuid, res[j].uuid) ||
			    !strcmp(res[i].ek_spki, res[j].ek_spki))
				continue;
			verify_fail(&res[i], VR_GUEST_CLONED, "guest %s also quoted by another vTPM "
				    "(bundle %zu, EK %.16s...)", res[i].uuid, j + 1, res[j].ek_spki);
			changed++;
			break;
		}
	}
	return changed;
}

/* (resetCount, restartCount, clock) of a before b, as the TPM counts. */
static int clock_before(const struct verify_result *a, const struct verify_result *b)
{
	if (a->reset_count != b->reset_count)
		return a->reset_count < b->reset_count;
	if (a->restart_count != b->restart_count)
		return a->restart_count < b->restart_count;
	return a->clock < b->clock;
}

size_t verify_batch_clock(struct verify_result *res, size_t n)
{
	size_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && res[i].ek_spki[0] && res[i].created; j++) {
			if (strcmp(res[i].ek_spki, res[j].ek_spki) || !res[j].created ||
			    res[j].created >= res[i].created || !clock_before(&res[i], &res[j]))
				continue;
			verify_fail(&res[i], VR_CLOCK_BACKWARDS,
				    "vTPM clock %llu (resets %u, restarts %u) is before that of bundle "
				    "%zu, created earlier: %llu (resets %u, restarts %u)",
				    (unsigned long long)res[i].clock, res[i].reset_count,
				    res[i].restart_count, j + 1, (unsigned long long)res[j].clock,
				    res[j].reset_count, res[j].restart_count);
			changed++;
			break;
		}
	}
	return changed;
}
