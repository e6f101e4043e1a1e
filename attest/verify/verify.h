/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier: checks an evidence bundle offline against a reference
 * manifest and trust anchors, and says why, for every failure, with a reason
 * of its own (the table in verify_reasons.c, listed in BUNDLE.md).
 *
 * Pure computation on bytes: libcrypto, tss2-mu and json-c only, no TPM, no
 * network.  Used by bulwark-verify, the tests and the benchmark.
 */
#ifndef BULWARK_ATTEST_VERIFY_H
#define BULWARK_ATTEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/format/bundle.h"
#include "attest/format/host_allow.h"
#include "attest/format/manifest.h"

enum verify_reason {
	VR_OK = 0,
	VR_BUNDLE_TOO_LARGE,
	VR_BUNDLE_JSON,
	VR_BUNDLE_FORMAT,
	VR_BUNDLE_FIELD,
	VR_EK_CHAIN,
	VR_AK_CHAIN,
	VR_AK_EK_BINDING,
	VR_AK_PUBLIC,
	VR_GUEST_IDENTITY,
	VR_ATTEST_MALFORMED,
	VR_ATTEST_MAGIC,
	VR_ATTEST_TYPE,
	VR_SIGNATURE,
	VR_NONCE_MISMATCH,
	VR_NONCE_WRONG,
	VR_NONCE_REPLAYED,
	VR_PCR_SELECTION,
	VR_PCR_DIGEST,
	VR_LOG_MALFORMED,
	VR_LOG_BANKS,
	VR_EVENT_UNEXPECTED,
	VR_EVENT_MISSING,
	VR_EVENT_ORDER,
	VR_LOG_REPLAY,
	VR_EVENT_PAYLOAD,
	VR_MANIFEST_BANKS,
	VR_REF_VMM,
	VR_REF_CONFIG,
	VR_REF_ACPI,
	VR_REF_KERNEL,
	VR_REF_CMDLINE,
	VR_REF_INITRD,
	VR_SECSTATE_MALFORMED,
	VR_SELINUX_NOT_ENFORCING,
	VR_SELINUX_POLICY,
	VR_LABEL_MALFORMED,
	VR_LABEL_MISMATCH,
	VR_LABEL_SHARED,
	VR_SECCOMP_OFF,
	VR_SECCOMP_FILTER,
	VR_PROTECTION_OFF,
	VR_INTERNAL,
	/* Added after the first release: codes 1..42 keep their numbers. */
	VR_CLOCK_BACKWARDS,       /* batch: one vTPM's clock ran backwards */
	VR_CLOCK_UNSAFE,          /* clockInfo.safe == NO: a warning */
	/* Issue 12: codes 1..44 keep their numbers. */
	VR_AK_CERT_PROFILE,       /* the AK certificate is not BUNDLE.md's profile */
	VR_CERT_NAME,             /* a NUL or control byte in a certificate's name */
	VR_CERT_WEAK_SIGNATURE,   /* SHA-1 (or weaker) signature in a chain */
	VR_AK_GUEST_BINDING,      /* the AK's policy is not the certified guest's */
	VR_GUEST_CLONED,          /* batch: one UUID on two vTPMs (EKs) */
	VR_SVIRT_MODE,            /* svirt static/off where the manifest wants dynamic */
	VR_BUNDLE_NOT_CANONICAL,  /* the evidence in another encoding than the producer's */
	/* Issue 15, the host's evidence: codes 1..51 keep their numbers. */
	VR_HOST_MISSING,          /* no host evidence: a warning (guest-only) */
	VR_HOST_EK_CHAIN,         /* host EK certificate not from a trusted vendor CA */
	VR_HOST_AK_CHAIN,         /* host AK certificate not from a trusted CA */
	VR_HOST_AK_EK_BINDING,    /* host AK certificate names another EK */
	VR_HOST_AK_PUBLIC,        /* host AK public area not the certified key */
	VR_HOST_QUOTE_MALFORMED,  /* host TPMS_ATTEST unreadable, not generated, not a quote */
	VR_HOST_SIGNATURE,        /* host quote not signed by the host AK */
	VR_HOST_BINDING,          /* host quote's qualifying data not this guest quote */
	VR_HOST_PCR,              /* host PCR 10 not the quoted selection or digest */
	VR_HOST_IMA_MALFORMED,    /* host IMA list unreadable */
	VR_HOST_IMA_REPLAY,       /* host IMA list does not replay to the quoted PCR 10 */
	VR_HOST_FILE,             /* a file the host measured is not on the allowlist */
	VR_HOST_IMA_VIOLATION,    /* IMA recorded a violation: a warning */
	/* The host quote made at enrollment ("host"."enrollment"). */
	VR_HOST_ENROLL_MALFORMED, /* its TPMS_ATTEST unreadable, not generated, not a quote */
	VR_HOST_ENROLL_SIGNATURE, /* not signed by the host AK */
	VR_HOST_ENROLL_BINDING,   /* its qualifying data is not the guest AK's Name */
	VR_HOST_ENROLL_PCR,       /* its PCR 10 not the quoted selection or digest */
	VR_HOST_ENROLL_IMA_MALFORMED, /* its IMA list unreadable */
	VR_HOST_ENROLL_IMA_REPLAY,    /* its IMA list does not replay to its PCR 10 */
	VR_HOST_ENROLL_FILE,      /* a file the host had measured at enrollment is not allowed */
	/* Issue 17, restores from snapshots: codes 1..71 keep their numbers. */
	VR_RESTORE_NOT_ALLOWED,   /* restored from a snapshot; the manifest allows none */
	VR_RESTORE_MALFORMED,     /* a restore event that is not measure.h's */
	/* Issue 18, live migration: codes 1..73 keep their numbers. */
	VR_MIGRATE_NOT_ALLOWED,   /* arrived by live migration; the manifest allows none */
	VR_MIGRATE_MALFORMED,     /* a migration event that is not measure.h's */
	/* Issue 18 item 4, each host's evidence across moves: 1..75 keep theirs. */
	VR_HOP_BINDING,           /* a source host's quote does not bind its stream */
	VR_HOP_NOT_IN_LOG,        /* a hop record names a stream no migration event has */
	VR_COUNT
};

/* AR4SI trust vector claims (facts.md), in EAR order. */
enum verify_claim {
	TV_INSTANCE_IDENTITY,
	TV_CONFIGURATION,
	TV_EXECUTABLES,
	TV_FILE_SYSTEM,
	TV_HARDWARE,
	TV_RUNTIME_OPAQUE,
	TV_STORAGE_OPAQUE,
	TV_SOURCED_DATA,
	TV_COUNT
};

enum verify_status { VS_NONE, VS_AFFIRMING, VS_WARNING, VS_CONTRAINDICATED };

#define VERIFY_MAX_FAILURES 16

struct verify_failure {
	enum verify_reason reason;
	char detail[160];
};

/* The host's appraisal beside the guest's (version 2 bundles; verify_host.h). */
struct verify_host_result {
	int present;                        /* the bundle carried host evidence */
	enum verify_status status;
	int8_t vector[TV_COUNT];
	size_t nfail;
	struct verify_failure fail[VERIFY_MAX_FAILURES];
	uint32_t entries;                   /* IMA list entries */
};

/* One security state the guest ran under, in the log's order: its boot,
 * then each restore from a snapshot (the report's chain). */
#define VERIFY_MAX_RESTORES 8
struct verify_link {
	int restored;                       /* 0: the boot */
	int migrated;                       /* 1: a live migration (restored 0) */
	char snapshot[65];                  /* restores: the sealed file's SHA-256;
					     * migrations: the stream's */
	char source[65];                    /* migrations: the source host
					     * (MEASURE_MIGRATE_HOST_MAX + 1) */
	char source_cert[65];               /* migrations: its certificate's SHA-256 */
	char time[21];                      /* restores: UTC, the launcher's clock */
	char label[BUNDLE_LABEL_MAX + 1];   /* svirt.label as measured */
	char svirt[16], selinux[16];
	char policy[65];                    /* selinux.policy.sha256 */
	char filters[200];                  /* ROLE=first 16 hex digits, ... */
};

/* A migration's source host, appraised like the host (verify_host_hop). */
struct verify_hop_result {
	struct verify_host_result r;
	uint32_t link;                      /* its migration's index in chain[], 0: none */
	char stream[65];                    /* the stream's SHA-256 the record names */
};

struct verify_result {
	enum verify_status status;          /* the guest's (see verify_result_worst) */
	int8_t vector[TV_COUNT];
	size_t nfail;                       /* failures[0] is the primary reason */
	struct verify_failure fail[VERIFY_MAX_FAILURES];
	int fresh;                          /* nonce checked against the verifier's */
	/* What the evidence says (for the report), from the bundle. */
	char name[BUNDLE_NAME_MAX + 1];
	char uuid[37];
	char label[BUNDLE_LABEL_MAX + 1];
	char nonce_hex[2 * BUNDLE_MAX_NONCE + 1];
	char ak_subject[128];
	uint32_t events;
	uint64_t clock;                     /* TPMS_CLOCK_INFO of the quote */
	uint32_t reset_count, restart_count;
	int clock_known, clock_safe;        /* clockInfo.safe == YES */
	char ek_spki[65];                   /* the vTPM: SHA-256 of its EK key (hex) */
	int64_t created;                    /* bundle's "created" (host clock), 0: unknown */
	struct verify_host_result host;
	size_t nchain;                      /* 1 + restores, once the log is read */
	struct verify_link chain[1 + VERIFY_MAX_RESTORES];
	size_t nhops;                       /* the bundle's "migrations" */
	struct verify_hop_result hops[BUNDLE_MAX_HOPS];
};

/* The worst of the guest's status, (if present) the host's and each hop's. */
enum verify_status verify_result_worst(const struct verify_result *res);

struct verify_ctx;

struct verify_options {
	const char *const *ak_ca;  /* PEM files of trusted attestation CAs */
	size_t nak_ca;
	const char *const *ek_ca;  /* PEM files of trusted EK CAs */
	size_t nek_ca;
	const struct manifest *manifest;
	time_t at;                 /* certificate validity time, 0: now */
	/* Host evidence (version 2 bundles): anchors and allowlist, all optional;
	 * without them host evidence cannot affirm. */
	const char *const *host_ek_ca;   /* PEM files of the host TPM vendor's CAs */
	size_t nhost_ek_ca;
	const char *const *host_ak_ca;   /* PEM files of the CAs that certify host AKs */
	size_t nhost_ak_ca;
	const struct host_allowlist *host_allow;
};

/* Loads the anchors; 0 or -errno (logged). */
int verify_ctx_new(const struct verify_options *opt, struct verify_ctx **out);
void verify_ctx_free(struct verify_ctx *ctx);

/*
 * Adds a nonce this verifier issued (or the auditor recorded) to the set a
 * bundle's nonce must belong to; NULL empties the set.  With an empty set,
 * freshness is not established and the best status is "warning".
 */
int verify_ctx_expect_nonce(struct verify_ctx *ctx, const uint8_t *nonce, size_t len);
/*
 * Marks a nonce as already used (a nonce store).  Every bundle whose quote
 * carries its own nonce marks it used, so a second bundle with the same
 * nonce, in the same run or a later one sharing the store, is a replay.
 */
int verify_ctx_seen_nonce(struct verify_ctx *ctx, const uint8_t *nonce, size_t len);
/*
 * The used-nonce store shared across runs (verify_store.c): open takes an
 * exclusive lock on PATH.lock (waiting for other runs) and marks every
 * nonce in PATH used in ctx; commit atomically replaces PATH with the old
 * nonces plus those of res[0..n) (each bundle whose quote carried its nonce,
 * replays excepted); close releases the lock.  Verify between open and
 * commit.  0 or -errno (logged); a malformed store is -EINVAL.
 */
struct verify_store;
int verify_store_open(const char *path, struct verify_ctx *ctx, struct verify_store **out);
int verify_store_commit(struct verify_store *st, const struct verify_result *res, size_t n);
void verify_store_close(struct verify_store *st);

/* Forgets every used nonce (benchmark rounds re-verify the same bundles). */
void verify_ctx_forget_used(struct verify_ctx *ctx);

/* Verifies one bundle file's bytes; res always filled.  Returns
 * verify_result_worst(res): the guest's status, or the host's if worse. */
enum verify_status verify_bundle(struct verify_ctx *ctx, const uint8_t *buf, size_t len,
				 struct verify_result *res);

/*
 * After a batch: guests with different identities (UUID) but one label are
 * all contraindicated (VR_LABEL_SHARED).  Returns how many were changed.
 */
size_t verify_batch_labels(struct verify_result *res, size_t n);

/*
 * After a batch: for each vTPM (EK key), a bundle created later by the host's
 * clock (whole seconds; "created", unsigned) whose quote's (resetCount,
 * restartCount, clock) is below an earlier-created one's is contraindicated
 * (VR_CLOCK_BACKWARDS): the vTPM's state was rolled back (a restored copy or
 * snapshot).  Bundles of one second, or without a parseable "created", are
 * not compared; only bundles whose AK is bound to its EK count.  The order
 * of the batch does not matter.  Returns how many were changed.
 */
size_t verify_batch_clock(struct verify_result *res, size_t n);

/*
 * After a batch: bundles that name one guest (UUID) but come from different
 * vTPMs (EK keys, of AKs bound to their EK) are all contraindicated
 * (VR_GUEST_CLONED): a guest has one vTPM, so one of them is a copy.
 * Returns how many were changed.
 */
size_t verify_batch_clones(struct verify_result *res, size_t n);

/*
 * The AK's authPolicy for the guest with this UUID (canonical lower-case):
 * TPM2_PolicyLocality(3), then TPM2_PolicySecret(TPM_RH_ENDORSEMENT) with
 * policyRef = the UUID's 16 bytes.  The guest's identity is in the AK's
 * template, so two guests on one vTPM derive two AKs, and a verifier
 * recomputes the policy from the certified UUID.  0 or -EINVAL.
 */
#define VERIFY_AK_POLICY_REF_LEN 16
int verify_ak_policy_ref(const char *uuid, uint8_t ref[VERIFY_AK_POLICY_REF_LEN]);
int verify_ak_policy(const char *uuid, uint8_t digest[32]);
/*
 * A host AK on a hardware TPM (issue 15): user space cannot choose a
 * locality through /dev/tpmrm0, so its policy is PolicySecret(endorsement)
 * with the host's UUID alone.  (On the host, root may use the host AK in
 * any case: what it signs, PCR 10, is the kernel's to extend.)  0 or -EINVAL.
 */
int verify_host_ak_policy(const char *uuid, uint8_t digest[32]);

/* Records a failure, sets its claim, recomputes the status. */
void verify_fail(struct verify_result *res, enum verify_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *verify_reason_name(enum verify_reason reason);
const char *verify_claim_name(enum verify_claim claim);
const char *verify_status_name(enum verify_status status);

#endif
