/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's IMA measurement list, binary form, as the kernel writes it to
 * /sys/kernel/security/ima/binary_runtime_measurements (template ima-ng).
 * A bounded parser and a PCR 10 replay for the verifier; a writer for tests.
 *
 * One entry (integers little-endian: x86's native order, and the kernel's
 * canonical order with ima_canonical_fmt):
 *   pcr u32 = 10, template_digest[20] (SHA-1 of template_data; all zeros for
 *   a violation), name_len u32 = 6, name "ima-ng" (no NUL),
 *   template_data_len u32, template_data = two fields, each u32 len + bytes:
 *     d-ng: "ALG:\0" || file digest (ALG one of sha1 sha256 sha384 sha512,
 *           digest of that algorithm's size)
 *     n-ng: path || '\0' (1..IMALOG_MAX_PATH bytes before the NUL, no
 *           other NUL)
 *
 * PCR 10 in a bank ALG is replayed from zero as v = ALG(v || t), where t is
 * ALG(template_data) (the kernel hashes the same bytes per bank; for SHA-1
 * that is the logged template digest, which must match), and all 0xFF for a
 * violation (template digest all zeros, and then the file digest must be
 * all zeros too: a file measured while open for writing, or written while
 * measured).  Nothing binds a violation's name, since all ones are extended
 * whatever it says: a verifier must never trust the path of a violation.
 *
 * The list is untrusted input: every length is checked against the bytes
 * left before it is read, nothing is allocated, and a failure names the byte
 * offset and the field.
 */
#ifndef BULWARK_ATTEST_IMALOG_H
#define BULWARK_ATTEST_IMALOG_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/eventlog.h"

#define IMALOG_PCR       10u
#define IMALOG_SHA1_SIZE 20u
/* Longest path accepted (PATH_MAX - 1 bytes before the NUL). */
#define IMALOG_MAX_PATH  4095u
/* Largest list accepted: about 100,000 entries of typical paths fit in 32 MiB. */
#define IMALOG_MAX_SIZE  (32u * 1024u * 1024u)

/* One entry as parsed; the pointers point into the caller's buffer. */
struct imalog_entry {
	size_t offset;              /* of the entry's first byte */
	uint32_t index;             /* 0 = first entry */
	uint8_t template_sha1[IMALOG_SHA1_SIZE];
	int violation;              /* template digest all zeros */
	uint16_t file_alg;          /* EVLOG_ALG_* of the file digest */
	uint16_t file_digest_size;
	const uint8_t *file_digest;
	const char *path;           /* NUL-terminated inside the buffer */
	uint32_t path_len;          /* bytes before the NUL */
	const uint8_t *template_data;
	uint32_t template_data_len;
};

struct imalog_parser {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	uint32_t next_index;
	struct evlog_error err;
};

/* Positions p at the first entry.  Returns 0 or -EBADMSG (too large). */
int imalog_parse_begin(struct imalog_parser *p, const uint8_t *buf, size_t len);

/*
 * Reads the next entry.  Returns 1 when one was read, 0 at the exact end of
 * the list, -EBADMSG when it is malformed (p->err says where and why; a
 * template digest that is not the SHA-1 of the template data is malformed).
 */
int imalog_parse_next(struct imalog_parser *p, struct imalog_entry *e);

/*
 * Parses the whole list and replays PCR 10 in bank alg into *pcr (alg, size
 * and bytes set).  *entries (if non-NULL) gets the entry count.  Returns 0,
 * -EINVAL (unsupported alg), -EBADMSG (err filled if non-NULL) or -EIO.
 */
int imalog_replay(const uint8_t *buf, size_t len, uint16_t alg, struct evlog_digest *pcr,
		  uint32_t *entries, struct evlog_error *err);

/*
 * Writer (tests, fixtures): appends one ima-ng entry for path with the file
 * digest fd (fd->alg and fd->size used; violation: all-zero template digest)
 * to buf[*len..cap).  Returns 0, -EINVAL or -ENOSPC.
 */
int imalog_append(uint8_t *buf, size_t *len, size_t cap, const char *path,
		  const struct evlog_digest *fd, int violation);

#endif
