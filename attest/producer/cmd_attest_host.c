/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark attest --host-tpm`: the host's evidence added to a bundle (cmd_attest.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attest/producer/cmd_attest.h"
#include "attest/producer/host_quote.h"
#include "core/log.h"

int attest_host_add(const char *dir, const char *tpm_path, const char *ima_path,
		    const char *guest_dir, char **json, size_t *len)
{
	struct attest_source hs;
	struct bundle_error err;
	struct bundle b;
	char *out = NULL;
	size_t out_len = 0;
	int rc;

	if (bundle_parse((const uint8_t *)*json, *len, &b, &err)) {
		log_err("the guest's bundle is malformed: %s", err.msg);
		return -EBADMSG;
	}
	rc = attest_host_open(&hs, dir, tpm_path);
	if (!rc) {
		struct host_source src = { .t = &hs.t, .alg = hs.g.alg, .uuid = hs.uuid,
			.ak = hs.g.ak, .ek = hs.g.ek, .set_locality = hs.g.set_locality,
			.arg = hs.g.arg, .ima_path = ima_path, .bank = EVLOG_ALG_SHA256 };

		rc = host_quote_collect(&src, &b, &b.host);
		attest_source_close(&hs);
	}
	/* The host quote made when the guest's AK was certified, if kept. */
	if (!rc && guest_dir)
		rc = attest_host_enroll_load(guest_dir, &b.host.enroll);
	/* Each source host of a live migration, as the target stored it. */
	if (!rc && guest_dir)
		rc = attest_hops_load(guest_dir, &b);
	if (!rc) {
		b.version = BUNDLE_VERSION_HOST;
		rc = bundle_write(&b, &out, &out_len);
	}
	bundle_free(&b);
	if (rc) {
		log_err("host evidence from %s: %s", tpm_path, strerror(-rc));
		return rc;
	}
	free(*json);
	*json = out;
	*len = out_len;
	return 0;
}
