/* SPDX-License-Identifier: Apache-2.0 */
/* Host transactions for enrollment and quotes (quote_vtpm.h). */
#include <errno.h>
#include <string.h>

#include "attest/producer/quote_vtpm.h"
#include "core/log.h"

static int proxy_xfer(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		      size_t *rsp_len)
{
	return tpmproxy_host_exec(arg, cmd, len, rsp, cap, rsp_len);
}

/*
 * Only the launcher holds the control channel: the locality is its to set,
 * through the proxy, whose host_end returns to locality 0 before any guest
 * command even if the quote failed half-way.
 */
static int proxy_locality(void *arg, uint8_t locality)
{
	return tpmproxy_host_set_locality(arg, locality);
}

int quote_vtpm_enroll(struct vtpm *v, const struct enroll_request *req,
		      struct enroll_result *res)
{
	struct quote_tpm t = { proxy_xfer, &v->proxy };
	int rc = tpmproxy_host_begin(&v->proxy), end;

	if (rc)
		return rc;
	rc = enroll_guest(&t, req, res);
	end = tpmproxy_host_end(&v->proxy);
	if (end && !rc) {
		X509_free(res->ak_cert);
		res->ak_cert = NULL;
		rc = end;
	}
	return rc;
}

int quote_vtpm_collect(struct vtpm *v, struct quote_guest *g, const uint8_t *nonce,
		       size_t nonce_len, struct bundle *out)
{
	struct quote_tpm t = { proxy_xfer, &v->proxy };
	int rc, end;

	g->log.data = v->log.buf;
	g->log.len = v->log.len;
	g->set_locality = proxy_locality;
	g->arg = &v->proxy;
	rc = tpmproxy_host_begin(&v->proxy);
	if (rc)
		return rc;
	rc = quote_collect(&t, g, nonce, nonce_len, out);
	end = tpmproxy_host_end(&v->proxy);
	if (end) {
		log_err("guest %s: host transaction did not end cleanly: %s", g->name,
			strerror(-end));
		if (!rc)
			bundle_free(out);
		rc = rc ? rc : end;
	}
	return rc;
}
