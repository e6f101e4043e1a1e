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

/* Domain separation of a migration's host binding (its NUL included). */
#define BUNDLE_HOP_BINDING_TAG "bulwark-migrate-host-v1"

/*
 * The qualifying data of the quote a migration's source host makes once the
 * target runs the guest (issue 18), for the migration stream whose SHA-256
 * is stream (the target's BWMG event names it):
 *   SHA-256( "bulwark-migrate-host-v1\0" || u32be(32) || stream )
 * The stream exists only once the guest is paused for the move and holds
 * its whole state, so a quote bound to it was made at that move or after.
 * 0 or -EIO.
 */
int bundle_hop_binding(const uint8_t stream[32], uint8_t out[BUNDLE_HOST_BINDING_LEN]);

/*
 * A hop record as it travels (migwire MIG_HOST) and as the target stores it
 * (ATTESTD_STATE_DIR/NAME/attest/hop-N.bin), little-endian, "str" = u32
 * length + bytes:
 *   u32 BUNDLE_HOP_VERSION, u32 0, 32 bytes stream SHA-256, u16 pcr bank,
 *   u16 0, str pcr10 (the bank's digest size), str attest (1..BUNDLE_MAX_TPM),
 *   str signature (1..BUNDLE_MAX_TPM), str AK public (1..BUNDLE_MAX_TPM),
 *   str IMA list (1..BUNDLE_HOP_IMA_MAX), then the AK's and the EK's chains:
 *   str certificate (1..BUNDLE_MAX_CERT), u32 count (0..BUNDLE_MAX_CHAIN),
 *   count x str DER (1..BUNDLE_MAX_CERT); nothing after.
 * Decoding is structural only (bounds, reserved zero, known bank); the
 * verifier appraises the content.  encode: 0, -EINVAL or -ENOMEM (*out
 * malloc'd); decode: 0 or -EBADMSG with the reason in why (h's blobs
 * malloc'd: bundle_hop_free).
 */
#define BUNDLE_HOP_VERSION 1u
#define BUNDLE_HOP_WIRE_MAX (48u + 4u * (4u + BUNDLE_MAX_TPM) + 4u + EVLOG_MAX_DIGEST + \
			     4u + BUNDLE_HOP_IMA_MAX + \
			     2u * (8u + (1u + BUNDLE_MAX_CHAIN) * (4u + BUNDLE_MAX_CERT)))
int bundle_hop_encode(const struct bundle_hop *h, uint8_t **out, size_t *len);
int bundle_hop_decode(const uint8_t *p, size_t len, struct bundle_hop *h, char *why,
		      size_t whylen);
/* Frees h's blobs and zeroes it. */
void bundle_hop_free(struct bundle_hop *h);

/* Frees every blob of h (not h itself). */
/* The certificate and chain buffers of one chain (bundle_hop.c, beside
 * bundle_host_free: fuzz_migwire links that file alone). */
void bundle_chain_free(struct bundle_chain *c);
void bundle_host_free(struct bundle_host *h);

#endif
