/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment bound to the host (BUNDLE.md section 7, cmd_attest.h): the host
 * quote made when a guest AK certificate is issued, kept in the guest's
 * attestation directory as host-enroll.{attest,sig,pcr10,ima}, and copied
 * into each bundle's "host"."enrollment" by `bulwark attest --host-tpm`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/format/imalog.h"
#include "attest/producer/cmd_attest.h"
#include "attest/producer/host_quote.h"
#include "attest/vtpm/measure.h"
#include "core/log.h"

static const char *const enroll_files[] = { "host-enroll.attest", "host-enroll.sig",
	"host-enroll.pcr10", "host-enroll.ima" };

int enroll_host_bind(const char *out_dir, const char *host_dir, const char *host_tpm,
		     const char *ima_path, const TPMT_PUBLIC *ak)
{
	struct bundle_host_enroll e;
	struct attest_source hs;
	uint8_t name[2 + 64];
	size_t nlen = 0;
	int rc = quote_name(ak, name, sizeof(name), &nlen);

	rc = rc ? rc : attest_host_open(&hs, host_dir, host_tpm);
	if (rc)
		return rc;
	{
		struct host_source src = { .t = &hs.t, .alg = hs.g.alg, .uuid = hs.uuid,
			.set_locality = hs.g.set_locality, .arg = hs.g.arg,
			.ima_path = ima_path, .bank = EVLOG_ALG_SHA256 };

		rc = host_quote_enroll(&src, name, nlen, &e);
	}
	attest_source_close(&hs);
	if (rc)
		return rc;
	rc = attest_file_put_at(out_dir, enroll_files[0], e.attest.data, e.attest.len, 0644);
	rc = rc ? rc : attest_file_put_at(out_dir, enroll_files[1], e.signature.data,
					  e.signature.len, 0644);
	rc = rc ? rc : attest_file_put_at(out_dir, enroll_files[2], e.pcr10, 32, 0644);
	rc = rc ? rc : attest_file_put_at(out_dir, enroll_files[3], e.ima_log.data,
					  e.ima_log.len, 0644);
	free(e.attest.data);
	free(e.signature.data);
	free(e.ima_log.data);
	return rc;
}

static int enroll_file(const char *dir, const char *name, size_t max, struct bundle_blob *b)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return bundle_read_file(path, max, &b->data, &b->len);
}

int attest_host_enroll_load(const char *guest_dir, struct bundle_host_enroll *e)
{
	struct bundle_blob pcr = { 0 };
	char path[4096];
	int rc;

	memset(e, 0, sizeof(*e));
	if (snprintf(path, sizeof(path), "%s/%s", guest_dir, enroll_files[0]) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;   /* enrolled without a host quote */
	rc = enroll_file(guest_dir, enroll_files[0], BUNDLE_MAX_TPM, &e->attest);
	rc = rc ? rc : enroll_file(guest_dir, enroll_files[1], BUNDLE_MAX_TPM, &e->signature);
	rc = rc ? rc : enroll_file(guest_dir, enroll_files[2], 64, &pcr);
	rc = rc ? rc : pcr.len == 32 ? 0 : -EINVAL;
	rc = rc ? rc : enroll_file(guest_dir, enroll_files[3], IMALOG_MAX_SIZE, &e->ima_log);
	if (!rc)
		memcpy(e->pcr10, pcr.data, 32);
	free(pcr.data);
	if (rc) {
		log_err("%s: host enrollment evidence unreadable: %s", guest_dir, strerror(-rc));
		free(e->attest.data);
		free(e->signature.data);
		free(e->ima_log.data);
		memset(e, 0, sizeof(*e));
		return rc;
	}
	e->present = 1;
	return 0;
}
