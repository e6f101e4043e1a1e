/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's appraisal (issue 15, BUNDLE.md "Host evidence"): the host TPM's
 * quote and its chain (AK certificate -> host EK certificate -> the vendor
 * CA), its binding to the guest's quote, the host's IMA list replayed
 * against the quoted PCR 10, and every measured file against the host
 * allowlist.  The result is a trust vector of its own, beside the guest's.
 */
#ifndef BULWARK_ATTEST_VERIFY_HOST_H
#define BULWARK_ATTEST_VERIFY_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "attest/format/bundle_host.h"
#include "attest/format/host_allow.h"
#include "attest/verify/verify.h"

struct verify_host_policy {
	X509_STORE *ek_store;             /* host EK vendor CAs (in the lab: a local CA) */
	X509_STORE *ak_store;             /* CAs that certify host AKs */
	time_t at;                        /* certificate validity time, 0: now */
	const struct host_allow_entry *allow;   /* sorted (host_allow_sort) */
	size_t nallow;
};

/*
 * Appraises h, the host evidence beside the guest bundle g, into res (its
 * own result: name "host", its own vector and reasons; res is zeroed
 * first).  Every check runs that can; the first failure is the primary
 * reason.  A file measured by IMA and not allowed is host-file-not-allowed
 * naming the file; a violation is host-ima-violation, a warning.  Returns
 * res->status.
 */
enum verify_status verify_host(const struct verify_host_policy *pol,
			       const struct bundle_host *h, const struct bundle *g,
			       struct verify_result *res);

/*
 * A live migration's source host (issue 18): hop's quote appraised with the
 * same anchors, AK checks, IMA replay and allowlist as verify_host, its
 * qualifying data bundle_hop_binding(hop->stream_sha256)
 * (host-migration-binding-mismatch otherwise); what names the hop in each
 * reason.  Whether a migration event of the log has that stream is the
 * caller's check.  res is zeroed first; returns res->status.
 */
enum verify_status verify_host_hop(const struct verify_host_policy *pol,
				   const struct bundle_hop *hop, const char *what,
				   struct verify_result *res);

#endif
