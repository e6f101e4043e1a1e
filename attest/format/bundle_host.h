/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's evidence beside a guest's (BUNDLE.md, "Host evidence"): a quote
 * by the host TPM's AK over PCR 10 whose qualifying data binds the guest's
 * quote, the AK's and EK's certificates, and the host's IMA list.
 */
#ifndef BULWARK_ATTEST_BUNDLE_HOST_H
#define BULWARK_ATTEST_BUNDLE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/bundle.h"

/* Domain separation of the binding digest (its NUL included). */
#define BUNDLE_HOST_BINDING_TAG "bulwark-host-quote-v1"
#define BUNDLE_HOST_BINDING_LEN 32u

struct bundle_host {
	struct bundle_blob attest;       /* TPMS_ATTEST of the host quote, as signed */
	struct bundle_blob signature;    /* TPMT_SIGNATURE */
	struct bundle_blob ak_public;    /* TPMT_PUBLIC of the host AK */
	struct bundle_chain ak;          /* host AK certificate (+ intermediates) */
	struct bundle_chain ek;          /* host EK certificate (+ intermediates) */
	uint16_t pcr_alg;                /* bank of the quoted PCR 10 */
	uint8_t pcr10[EVLOG_MAX_DIGEST]; /* its value, evlog_alg_size(pcr_alg) bytes */
	struct bundle_blob ima_log;      /* binary ima-ng list (imalog.h) */
};

/*
 * The host quote's qualifying data for the guest quote of g:
 *   SHA-256( "bulwark-host-quote-v1\0"
 *            || u32be len || g->attest || u32be len || g->signature
 *            || u32be len || g->nonce )
 * Length-prefixed, so no two (attest, signature, nonce) share a binding.
 * 0 or -EIO.
 */
int bundle_host_binding(const struct bundle *g, uint8_t out[BUNDLE_HOST_BINDING_LEN]);

/* Frees every blob of h (not h itself). */
void bundle_host_free(struct bundle_host *h);

#endif
