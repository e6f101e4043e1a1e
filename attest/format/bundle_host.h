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

/*
 * The host quote's qualifying data for the guest quote of g:
 *   SHA-256( "bulwark-host-quote-v1\0"
 *            || u32be len || g->attest || u32be len || g->signature
 *            || u32be len || g->nonce )
 * Length-prefixed, so no two (attest, signature, nonce) share a binding.
 * 0 or -EIO.
 */
int bundle_host_binding(const struct bundle *g, uint8_t out[BUNDLE_HOST_BINDING_LEN]);

/* Domain separation of the enrollment binding (its NUL included). */
#define BUNDLE_HOST_ENROLL_TAG "bulwark-host-enroll-v1"

/*
 * The qualifying data of the host quote made at enrollment, for the guest
 * AK whose TPM Name (nameAlg || H(TPMT_PUBLIC)) is name:
 *   SHA-256( "bulwark-host-enroll-v1\0" || u32be len || name )
 * A different tag from the quote binding's, so neither can stand for the
 * other.  0, -EINVAL (no name) or -EIO.
 */
int bundle_host_enroll_binding(const uint8_t *name, size_t len,
			       uint8_t out[BUNDLE_HOST_BINDING_LEN]);

/* Frees every blob of h (not h itself). */
void bundle_host_free(struct bundle_host *h);

#endif
