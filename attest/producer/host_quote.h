/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's evidence for a guest bundle (BUNDLE.md section 7): a quote of
 * the host TPM's PCR 10 by the host AK, bound to the guest's quote, and the
 * prefix of the host's IMA list that the quoted PCR 10 covers.
 *
 * The IMA list keeps growing while we work, so it is read AFTER the quote
 * and cut at the entry where its replay equals the quoted PCR digest: the
 * bundle's list is exactly what the TPM vouched for, never a list read
 * before and quoted after (which could miss the last entries).
 */
#ifndef BULWARK_ATTEST_HOST_QUOTE_H
#define BULWARK_ATTEST_HOST_QUOTE_H

#include "attest/format/bundle_host.h"
#include "attest/producer/quote.h"

/* The kernel's list (securityfs): st_size is 0, read to EOF. */
#define HOST_IMA_PATH "/sys/kernel/security/ima/binary_runtime_measurements"

struct host_source {
	const struct quote_tpm *t;        /* the host TPM */
	enum quote_ak_alg alg;            /* the host AK, enrolled like a guest's */
	const char *uuid;                 /* the host's identity (its AK policy) */
	struct bundle_chain ak, ek;       /* certificates (DER), copied into out */
	/*
	 * Locality for the AK's policy (swtpm's control channel).  NULL: a
	 * hardware TPM (/dev/tpmrm0), whose host AK has no PolicyLocality
	 * (quote_ak_create_host, enrolled with enroll_request.host_hw).
	 */
	int (*set_locality)(void *arg, uint8_t locality);
	void *arg;
	const char *ima_path;             /* HOST_IMA_PATH, or a test's file */
	uint16_t bank;                    /* PCR 10's bank, e.g. EVLOG_ALG_SHA256 */
};

/*
 * Quotes PCR 10 binding g (bundle_host_binding), then reads the IMA list and
 * keeps its prefix that replays to the quoted digest.  out gets copies of
 * everything (bundle_host_free()).  0, -EBUSY (no TPM slot), -ESTALE (no
 * prefix of the list replays to the quote: not IMA's PCR 10), or -errno.
 */
int host_quote_collect(const struct host_source *s, const struct bundle *g,
		       struct bundle_host *out);

/*
 * Enrollment bound to the host (BUNDLE.md section 7): right after the guest
 * AK's certificate is issued, quotes the host's PCR 10 with the host AK,
 * qualifying data bundle_host_enroll_binding(ak_name), and keeps the IMA
 * prefix that quote covers.  The caller stores out with the AK certificate
 * and copies it into each bundle's "host"."enrollment".  Free out's blobs
 * with free().  0 or -errno as host_quote_collect.
 */
int host_quote_enroll(const struct host_source *s, const uint8_t *ak_name, size_t name_len,
		      struct bundle_host_enroll *out);

/*
 * A live migration's source (issue 18), once the target runs the guest:
 * quotes PCR 10 with qualifying data bundle_hop_binding(stream), the
 * migration stream's SHA-256, and keeps the IMA prefix that quote covers
 * (at most BUNDLE_HOP_IMA_MAX: -EFBIG beyond).  out as host_quote_collect's
 * (bundle_host_free(&out->host)).  0 or -errno.
 */
int host_quote_hop(const struct host_source *s, const uint8_t stream[32],
		   struct bundle_hop *out);

#endif
