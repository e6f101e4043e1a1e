/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each host's evidence across live migrations (issue 18 item 4, BUNDLE.md
 * section 9): the source's host quote bound to the migration stream, made
 * once the target runs the guest; the target keeps the records in the
 * guest's attestation directory as hop-1.bin .. hop-N.bin (oldest first,
 * at most BUNDLE_MAX_HOPS) and `bulwark attest --host-tpm` copies them into
 * the bundle's "migrations".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/producer/cmd_attest.h"
#include "attest/producer/host_quote.h"
#include "attest/vtpm/measure.h"
#include "core/log.h"

int attest_hop_make(const char *host_dir, const char *host_tpm, const char *ima_path,
		    const uint8_t stream[32], uint8_t **rec, size_t *len)
{
	struct attest_source hs;
	struct bundle_hop hop;
	int rc = attest_host_open(&hs, host_dir, host_tpm);

	if (rc)
		return rc;
	{
		struct host_source src = { .t = &hs.t, .alg = hs.g.alg, .uuid = hs.uuid,
			.ak = hs.g.ak, .ek = hs.g.ek, .set_locality = hs.g.set_locality,
			.arg = hs.g.arg, .ima_path = ima_path ? ima_path : HOST_IMA_PATH,
			.bank = EVLOG_ALG_SHA256 };

		rc = host_quote_hop(&src, stream, &hop);
	}
	attest_source_close(&hs);
	if (rc)
		return rc;
	rc = bundle_hop_encode(&hop, rec, len);
	bundle_hop_free(&hop);
	return rc;
}

static int hop_path(const char *dir, size_t i, char *path, size_t cap)
{
	return snprintf(path, cap, "%s/hop-%zu.bin", dir, i + 1) >= (int)cap ? -ENAMETOOLONG : 0;
}

int attest_hops_clear(const char *guest_dir)
{
	char path[4096];

	for (size_t i = 0; i < BUNDLE_MAX_HOPS; i++) {
		int rc = hop_path(guest_dir, i, path, sizeof(path));

		if (rc)
			return rc;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int attest_hop_put(const char *guest_dir, size_t i, const uint8_t *rec, size_t len,
		   char *why, size_t whylen)
{
	struct bundle_hop hop;
	char path[4096];
	int rc;

	if (i >= BUNDLE_MAX_HOPS) {
		snprintf(why, whylen, "more than %u hop records", BUNDLE_MAX_HOPS);
		return -E2BIG;
	}
	rc = bundle_hop_decode(rec, len, &hop, why, whylen);
	if (rc)
		return rc;
	bundle_hop_free(&hop);
	rc = hop_path(guest_dir, i, path, sizeof(path));
	rc = rc ? rc : attest_file_put(path, rec, len, 0644);
	if (rc)
		snprintf(why, whylen, "%s not stored: %s", path, strerror(-rc));
	return rc;
}

int attest_hop_read(const char *guest_dir, size_t i, uint8_t **rec, size_t *len)
{
	char path[4096];
	int rc = i < BUNDLE_MAX_HOPS ? hop_path(guest_dir, i, path, sizeof(path)) : -ENOENT;

	if (rc)
		return rc;
	if (access(path, F_OK))
		return -errno;
	return bundle_read_file(path, BUNDLE_HOP_WIRE_MAX, rec, len);
}

int attest_hops_load(const char *guest_dir, struct bundle *b)
{
	char why[160];
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < BUNDLE_MAX_HOPS; i++) {
		uint8_t *rec = NULL;
		size_t len = 0;

		rc = attest_hop_read(guest_dir, i, &rec, &len);
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		rc = rc ? rc : bundle_hop_decode(rec, len, &b->hops[i], why, sizeof(why));
		free(rec);
		if (rc == -EBADMSG)
			log_err("%s: hop record %zu: %s", guest_dir, i + 1, why);
		else if (rc == -EFBIG)
			log_err("%s: hop record %zu: larger than a record can be (%u bytes)",
				guest_dir, i + 1, BUNDLE_HOP_WIRE_MAX);
		else if (rc)
			log_err("%s: hop record %zu: %s", guest_dir, i + 1, strerror(-rc));
		if (!rc)
			b->nhops = i + 1;
	}
	return rc;
}
