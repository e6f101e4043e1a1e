/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host allowlist (BUNDLE.md, "Host evidence"): the files a host may
 * measure, by path and digest, one per line:
 *
 *   ALG:HEX PATH\n          ALG sha1|sha256|sha384|sha512, HEX lower-case of
 *                           that size, one space, PATH as IMA writes it
 *                           (1..4095 bytes, no NUL, no newline)
 *   # comment\n, \n         ignored
 *
 * A path may have several lines (several allowed builds).  The file is the
 * auditor's, maybe handed over: parsed strictly, errors naming the line.
 */
#ifndef BULWARK_ATTEST_HOST_ALLOW_H
#define BULWARK_ATTEST_HOST_ALLOW_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/eventlog.h"

#define HOST_ALLOW_MAX_SIZE    (64u * 1024u * 1024u)
#define HOST_ALLOW_MAX_ENTRIES 1000000u

/* One allowed file: its path as IMA writes it, and its digest in one bank. */
struct host_allow_entry {
	const char *path;
	uint16_t alg;                     /* EVLOG_ALG_* */
	uint8_t digest[EVLOG_MAX_DIGEST];
};

struct host_allowlist {
	struct host_allow_entry *e;       /* sorted: path, bank, digest */
	size_t n;
	char *text;                       /* owned copy the paths point into */
};

/* Parses buf into *out (sorted).  0, -EBADMSG (why: "line N: ..."), -ENOMEM. */
int host_allow_parse(const uint8_t *buf, size_t len, struct host_allowlist *out,
		     char *why, size_t cap);
void host_allow_free(struct host_allowlist *l);

/* Sorts entries by path, then bank, then digest (what lookups expect). */
void host_allow_sort(struct host_allow_entry *e, size_t n);
/* Is (path, alg, digest) on the sorted list?  1 or 0. */
int host_allow_find(const struct host_allow_entry *e, size_t n, const char *path,
		    uint16_t alg, const uint8_t *digest, size_t size);

#endif
