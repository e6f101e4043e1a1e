/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment and quotes for a running guest, as the launcher calls them:
 * each is one host transaction on the guest's vTPM proxy (tpmproxy.h), so
 * no guest command runs in between, and every host object is gone before the
 * guest's next command.  Callable from any thread (the proxy's mutex
 * serialises with the poll loop's guest commands).
 */
#ifndef BULWARK_ATTEST_QUOTE_VTPM_H
#define BULWARK_ATTEST_QUOTE_VTPM_H

#include "attest/producer/enroll.h"
#include "attest/producer/quote.h"
#include "attest/vtpm/vtpm.h"

/* enroll_guest() inside a host transaction on v. */
int quote_vtpm_enroll(struct vtpm *v, const struct enroll_request *req,
		      struct enroll_result *res);

/*
 * quote_collect() inside a host transaction on v; g's log, locality
 * callback and transport are filled in from v (the caller sets name, uuid,
 * label, alg and the certificates).  0 or -errno (-EBUSY: the guest holds
 * every object slot; nothing of the guest's was touched).
 */
int quote_vtpm_collect(struct vtpm *v, struct quote_guest *g, const uint8_t *nonce,
		       size_t nonce_len, struct bundle *out);

#endif
