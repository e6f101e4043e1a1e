/* SPDX-License-Identifier: Apache-2.0 */
/* attest/format/imalog: the host's IMA list (ima-ng): parse, replay, hostile lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "attest/format/imalog.h"
#include "core/util.h"

#define CAP 4096

struct list {
	uint8_t buf[CAP];
	size_t len;
	size_t entry2;   /* offset of the third entry */
};

static void file_digest(uint16_t alg, const char *content, struct evlog_digest *d)
{
	assert_int_equal(evlog_hash(alg, content, strlen(content), d), 0);
}

/* boot_aggregate, /usr/bin/bulwark (sha256), a violation on /etc/shadow. */
static void make_list(struct list *l)
{
	struct evlog_digest d;

	memset(l, 0, sizeof(*l));
	file_digest(EVLOG_ALG_SHA256, "pcrs 0-9", &d);
	assert_int_equal(imalog_append(l->buf, &l->len, CAP, "boot_aggregate", &d, 0), 0);
	file_digest(EVLOG_ALG_SHA256, "ELF bulwark", &d);
	assert_int_equal(imalog_append(l->buf, &l->len, CAP, "/usr/bin/bulwark", &d, 0), 0);
	l->entry2 = l->len;
	memset(d.bytes, 0, sizeof(d.bytes));
	assert_int_equal(imalog_append(l->buf, &l->len, CAP, "/etc/shadow", &d, 1), 0);
}

/* Independent of imalog.c: one entry's bytes as the kernel lays them out. */
static void test_layout(void **state)
{
	struct list l;
	const uint8_t *b;
	uint8_t sha1[20];

	(void)state;
	make_list(&l);
	b = l.buf;
	assert_int_equal(b[0], 10);                    /* pcr, LE */
	assert_memory_equal(b + 24, "\x06\0\0\0ima-ng", 10);
	/* template_data_len = (4 + 8 + 32) + (4 + 15) = 63 */
	assert_int_equal(b[34], 63);
	assert_memory_equal(b + 38, "\x28\0\0\0sha256:\0", 12);
	assert_memory_equal(b + 38 + 44, "\x0f\0\0\0boot_aggregate\0", 19);
	assert_true(EVP_Digest(b + 38, 63, sha1, NULL, EVP_sha1(), NULL));
	assert_memory_equal(b + 4, sha1, 20);
	assert_int_equal(l.entry2, 2u * 38 + 63 + 65);
}

static void test_parse(void **state)
{
	struct imalog_parser p;
	struct imalog_entry e;
	struct list l;

	(void)state;
	make_list(&l);
	assert_int_equal(imalog_parse_begin(&p, l.buf, l.len), 0);
	assert_int_equal(imalog_parse_next(&p, &e), 1);
	assert_string_equal(e.path, "boot_aggregate");
	assert_int_equal(e.violation, 0);
	assert_int_equal(imalog_parse_next(&p, &e), 1);
	assert_string_equal(e.path, "/usr/bin/bulwark");
	assert_int_equal(e.path_len, 16);
	assert_int_equal(e.file_alg, EVLOG_ALG_SHA256);
	assert_int_equal(e.file_digest_size, 32);
	assert_int_equal(e.index, 1);
	assert_int_equal(imalog_parse_next(&p, &e), 1);
	assert_int_equal(e.violation, 1);
	assert_int_equal(e.offset, l.entry2);
	assert_int_equal(imalog_parse_next(&p, &e), 0);
	/* an empty list is a list of no entries */
	assert_int_equal(imalog_parse_begin(&p, l.buf, 0), 0);
	assert_int_equal(imalog_parse_next(&p, &e), 0);
}

/* Reference replay with OpenSSL: v = H(v || H(template_data)), 0xFF.. for a violation. */
static void replay_ref(const EVP_MD *md, const struct list *l, uint8_t *v)
{
	size_t pos = 0, n = (size_t)EVP_MD_get_size(md);
	uint8_t buf[128], t[64];
	static const uint8_t zero[20];

	memset(v, 0, n);
	while (pos < l->len) {
		uint32_t tl = l->buf[pos + 34] | (uint32_t)l->buf[pos + 35] << 8;

		if (!memcmp(l->buf + pos + 4, zero, 20))
			memset(t, 0xff, n);
		else
			assert_true(EVP_Digest(l->buf + pos + 38, tl, t, NULL, md, NULL));
		memcpy(buf, v, n);
		memcpy(buf + n, t, n);
		assert_true(EVP_Digest(buf, 2 * n, v, NULL, md, NULL));
		pos += 38 + tl;
	}
}

static void test_replay(void **state)
{
	struct evlog_digest pcr;
	struct list l;
	uint8_t ref[64];
	uint32_t n = 0;

	(void)state;
	make_list(&l);
	assert_int_equal(imalog_replay(l.buf, l.len, EVLOG_ALG_SHA256, &pcr, &n, NULL), 0);
	assert_int_equal(n, 3);
	replay_ref(EVP_sha256(), &l, ref);
	assert_memory_equal(pcr.bytes, ref, 32);
	assert_int_equal(imalog_replay(l.buf, l.len, EVLOG_ALG_SHA1, &pcr, NULL, NULL), 0);
	replay_ref(EVP_sha1(), &l, ref);
	assert_memory_equal(pcr.bytes, ref, 20);
	assert_int_equal(imalog_replay(l.buf, l.len, 0x0012, &pcr, NULL, NULL), -EINVAL);
}

/* Every prefix that is not a whole number of entries is refused, inside the list. */
static void test_truncated(void **state)
{
	struct evlog_digest pcr;
	struct evlog_error err;
	struct list l;

	(void)state;
	make_list(&l);
	for (size_t len = 1; len < l.len; len++) {
		int rc = imalog_replay(l.buf, len, EVLOG_ALG_SHA256, &pcr, NULL, &err);

		if (len == 38 + 63 || len == l.entry2) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -EBADMSG);
		assert_true(err.offset <= len);
	}
}

/*
 * Altering any one byte of the list either makes it malformed or changes the
 * replayed PCR 10: an altered IMA list never replays to the quoted value.
 * Except a violation's path: the kernel extends all ones for a violation, so
 * nothing binds its name (its digest must be zero); the verifier therefore
 * never trusts the name of a violation (imalog.h).
 */
static void test_every_byte(void **state)
{
	struct evlog_digest good, bad;
	struct list l;

	(void)state;
	make_list(&l);
	assert_int_equal(imalog_replay(l.buf, l.len, EVLOG_ALG_SHA256, &good, NULL, NULL), 0);
	for (size_t i = 0; i < l.entry2 + 38 + 4 + 40; i++) {
		int rc;

		l.buf[i] ^= 0x01;
		rc = imalog_replay(l.buf, l.len, EVLOG_ALG_SHA256, &bad, NULL, NULL);
		assert_true(rc == -EBADMSG || (rc == 0 && memcmp(good.bytes, bad.bytes, 32)));
		l.buf[i] ^= 0x01;
	}
}

static void expect_error(const uint8_t *buf, size_t len, const char *field)
{
	struct imalog_parser p;
	struct imalog_entry e;

	assert_int_equal(imalog_parse_begin(&p, buf, len), 0);
	while (imalog_parse_next(&p, &e) == 1)
		;
	assert_int_equal(imalog_parse_next(&p, &e), -EBADMSG);
	assert_non_null(strstr(p.err.field, field));
}

static void test_hostile(void **state)
{
	struct evlog_digest d;
	struct list l;
	uint8_t b[CAP];

	(void)state;
	make_list(&l);
	memcpy(b, l.buf, l.len);
	b[0] = 11;                                  /* another PCR */
	expect_error(b, l.len, "pcr");
	memcpy(b, l.buf, l.len);
	b[30] = 'x';                                /* "ima-xg" */
	expect_error(b, l.len, "template_name");
	memcpy(b, l.buf, l.len);
	b[44] = 'x';                                /* "sxa256:" */
	expect_error(b, l.len, "d-ng");
	memcpy(b, l.buf, l.len);
	b[38 + 50] = 'X';                           /* path changed: digest mismatch */
	expect_error(b, l.len, "template_digest");
	/* a NUL inside the path (template digest recomputed: still refused) */
	file_digest(EVLOG_ALG_SHA256, "x", &d);
	l.len = 0;
	assert_int_equal(imalog_append(l.buf, &l.len, CAP, "/bin/a", &d, 1), 0);
	l.buf[38 + 4 + 41 + 4 + 2] = 0;
	expect_error(l.buf, l.len, "n-ng");
	/* a path longer than PATH_MAX is refused by the writer */
	{
		static char longp[IMALOG_MAX_PATH + 2];

		memset(longp, 'a', sizeof(longp) - 1);
		assert_int_equal(imalog_append(l.buf, &l.len, CAP, longp, &d, 0), -EINVAL);
	}
	/* no space: nothing half-written */
	l.len = 0;
	assert_int_equal(imalog_append(l.buf, &l.len, 40, "/bin/a", &d, 0), -ENOSPC);
	assert_int_equal(l.len, 0);
	/* a list larger than the limit */
	{
		struct imalog_parser p;

		assert_int_equal(imalog_parse_begin(&p, l.buf, IMALOG_MAX_SIZE + 1u), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
