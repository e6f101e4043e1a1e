/* SPDX-License-Identifier: Apache-2.0 */
/* attest/eventlog: writer, parser and replay, including hostile logs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "attest/format/eventlog.h"
#include "core/util.h"

static const uint16_t two_banks[] = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 };

/* A three-event log: PCR 4 "kernel", PCR 8 "cmdline", a separator in PCR 0. */
static void make_log(struct evlog_writer *w, int locality)
{
	struct evlog_digest d[EVLOG_MAX_BANKS];
	static const uint8_t sep[4];

	assert_int_equal(evlog_writer_init(w, two_banks, ARRAY_SIZE(two_banks),
					   EVLOG_MAX_SIZE), 0);
	if (locality)
		assert_int_equal(evlog_append_startup_locality(w, (uint8_t)locality), 0);
	assert_int_equal(evlog_digest_data(w, "kernel", 6, d), 0);
	assert_int_equal(evlog_append(w, 4, EV_IPL, d, 2, "linux", 5), 0);
	assert_int_equal(evlog_digest_data(w, "console=ttyS0", 13, d), 0);
	assert_int_equal(evlog_append(w, 8, EV_IPL, d, 2, "console=ttyS0", 13), 0);
	assert_int_equal(evlog_digest_data(w, sep, sizeof(sep), d), 0);
	assert_int_equal(evlog_append(w, 0, EV_SEPARATOR, d, 2, sep, sizeof(sep)), 0);
}

/* Independent of eventlog.c: v = H(v || H(data)) with OpenSSL directly. */
static void extend_ref(const EVP_MD *md, uint8_t *v, const void *data, size_t len)
{
	uint8_t buf[128], d[64];
	unsigned int n = (unsigned int)EVP_MD_get_size(md);

	assert_true(EVP_Digest(data, len, d, NULL, md, NULL));
	memcpy(buf, v, n);
	memcpy(buf + n, d, n);
	assert_true(EVP_Digest(buf, 2u * n, v, NULL, md, NULL));
}

static void test_roundtrip(void **state)
{
	struct evlog_writer w;
	struct evlog_parser p;
	struct evlog_event ev;

	(void)state;
	make_log(&w, 0);
	assert_int_equal(evlog_parse_begin(&p, w.buf, w.len), 0);
	assert_int_equal(p.banks.count, 2);
	assert_int_equal(p.banks.alg[0], EVLOG_ALG_SHA256);
	assert_int_equal(p.banks.size[1], 48);
	assert_int_equal(evlog_parse_next(&p, &ev), 1);
	assert_int_equal(ev.pcr, 4);
	assert_int_equal(ev.type, EV_IPL);
	assert_int_equal(ev.data_size, 5);
	assert_memory_equal(ev.data, "linux", 5);
	assert_int_equal(ev.digests[1].alg, EVLOG_ALG_SHA384);
	assert_int_equal(evlog_parse_next(&p, &ev), 1);
	assert_int_equal(ev.index, 1);
	assert_int_equal(ev.pcr, 8);
	assert_int_equal(evlog_parse_next(&p, &ev), 1);
	assert_int_equal(ev.type, EV_SEPARATOR);
	assert_int_equal(evlog_parse_next(&p, &ev), 0);
	evlog_writer_free(&w);
}

static void test_replay_values(void **state)
{
	static const uint8_t sep[4];
	uint8_t v256[32] = { 0 }, v384[48] = { 0 }, v0[32] = { 0 };
	struct evlog_writer w;
	struct evlog_pcrs *pcrs = calloc(1, sizeof(*pcrs));

	(void)state;
	assert_non_null(pcrs);
	make_log(&w, 0);
	assert_int_equal(evlog_replay(w.buf, w.len, pcrs, NULL), 0);
	extend_ref(EVP_sha256(), v256, "console=ttyS0", 13);
	extend_ref(EVP_sha384(), v384, "console=ttyS0", 13);
	assert_memory_equal(pcrs->value[0][8], v256, 32);
	assert_memory_equal(pcrs->value[1][8], v384, 48);
	extend_ref(EVP_sha256(), v0, sep, sizeof(sep));
	assert_memory_equal(pcrs->value[0][0], v0, 32);
	assert_int_equal(pcrs->extended, (1u << 0) | (1u << 4) | (1u << 8));
	assert_int_equal(pcrs->events, 3);
	evlog_writer_free(&w);

	/* StartupLocality 3: PCR 0 starts at 00..03, other PCRs unchanged. */
	make_log(&w, 3);
	assert_int_equal(evlog_replay(w.buf, w.len, pcrs, NULL), 0);
	memset(v0, 0, sizeof(v0));
	v0[31] = 3;
	extend_ref(EVP_sha256(), v0, sep, sizeof(sep));
	assert_memory_equal(pcrs->value[0][0], v0, 32);
	assert_memory_equal(pcrs->value[0][8], v256, 32);
	assert_int_equal(pcrs->events, 4);
	evlog_writer_free(&w);
	free(pcrs);
}

static void test_writer_rejects(void **state)
{
	static const uint16_t dup[] = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA256 };
	static const uint16_t bad[] = { 0x0012 };
	struct evlog_digest d[EVLOG_MAX_BANKS];
	struct evlog_writer w;
	size_t len;

	(void)state;
	assert_int_equal(evlog_writer_init(&w, dup, ARRAY_SIZE(dup), 4096), -EINVAL);
	assert_int_equal(evlog_writer_init(&w, bad, ARRAY_SIZE(bad), 4096), -EINVAL);
	assert_int_equal(evlog_writer_init(&w, two_banks, 0, 4096), -EINVAL);
	assert_int_equal(evlog_writer_init(&w, two_banks, 2, EVLOG_MAX_SIZE + 1), -EINVAL);
	/* Header alone does not fit. */
	assert_int_equal(evlog_writer_init(&w, two_banks, 2, 40), -ENOSPC);

	assert_int_equal(evlog_writer_init(&w, two_banks, 2, 200), 0);
	assert_int_equal(evlog_digest_data(&w, "x", 1, d), 0);
	assert_int_equal(evlog_append(&w, 24, EV_IPL, d, 2, "x", 1), -EINVAL);
	assert_int_equal(evlog_append(&w, 4, EV_IPL, d, 1, "x", 1), -EINVAL);
	d[1] = d[0];            /* sha256 twice, no sha384 */
	assert_int_equal(evlog_append(&w, 4, EV_IPL, d, 2, "x", 1), -EINVAL);
	assert_int_equal(evlog_digest_data(&w, "x", 1, d), 0);
	/* Digests in the other order are accepted and stored in header order. */
	{
		struct evlog_digest r[2] = { d[1], d[0] };

		assert_int_equal(evlog_append(&w, 4, EV_IPL, r, 2, "x", 1), 0);
	}
	len = w.len;
	assert_int_equal(evlog_append(&w, 4, EV_IPL, d, 2, "x", 1), -ENOSPC);
	assert_int_equal(w.len, len);   /* nothing half-written */
	assert_int_equal(evlog_append_startup_locality(&w, 2), -EINVAL);
	evlog_writer_free(&w);
}

/* Every proper prefix is either a whole number of events or an error. */
static void test_truncations(void **state)
{
	struct evlog_writer w;
	struct evlog_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	size_t ok = 0;

	(void)state;
	assert_non_null(pcrs);
	make_log(&w, 4);
	for (size_t n = 0; n < w.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int rc;

		assert_non_null(copy);
		memcpy(copy, w.buf, n);
		rc = evlog_replay(copy, n, pcrs, NULL);
		assert_true(rc == 0 || rc == -EBADMSG);
		ok += rc == 0;
		free(copy);
	}
	/* Header alone, after locality, after event 1, after event 2. */
	assert_int_equal(ok, 4);
	evlog_writer_free(&w);
	free(pcrs);
}

static void expect_error(const uint8_t *buf, size_t len, size_t offset, const char *field)
{
	struct evlog_pcrs *pcrs = calloc(1, sizeof(*pcrs));
	struct evlog_error err;
	char msg[200];

	assert_non_null(pcrs);
	assert_int_equal(evlog_replay(buf, len, pcrs, &err), -EBADMSG);
	evlog_strerror(&err, msg, sizeof(msg));
	if (strcmp(err.field, field) || err.offset != offset)
		fail_msg("want %s at %zu, got: %s", field, offset, msg);
	free(pcrs);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_malformed(void **state)
{
	struct evlog_writer w;
	uint8_t *b;
	size_t hdr = 32 + 28 + 2 * 4 + 1;     /* header event, two banks */
	size_t ev1 = hdr;                     /* first TCG_PCR_EVENT2 */

	(void)state;
	make_log(&w, 0);
	b = malloc(w.len + 4);
	assert_non_null(b);

#define RESET() memcpy(b, w.buf, w.len)
	RESET(); b[0] = 1;
	expect_error(b, w.len, 0, "header.pcrIndex");
	RESET(); b[4] = 4;
	expect_error(b, w.len, 4, "header.eventType");
	RESET(); b[10] = 1;
	expect_error(b, w.len, 8, "header.digest");
	RESET(); put32(b + 28, 0xFFFFFFFFu);
	expect_error(b, w.len, 28, "header.eventSize");
	RESET(); b[32 + 5] = 'X';
	expect_error(b, w.len, 32, "specId.signature");
	RESET(); put32(b + 32 + 24, 0);
	expect_error(b, w.len, 56, "specId.numberOfAlgorithms");
	RESET(); b[60 + 4] = 0x0B;           /* second bank sha256 again */
	expect_error(b, w.len, 64, "specId.digestSizes[1]");
	RESET(); b[60] = 0x12;               /* SM3: unsupported */
	expect_error(b, w.len, 60, "specId.digestSizes[0]");
	RESET(); b[60 + 2] = 33;             /* sha256 with 33 bytes */
	expect_error(b, w.len, 60, "specId.digestSizes[0]");
	RESET(); b[68] = 200;                /* vendorInfoSize past the end */
	expect_error(b, w.len, 69, "specId.vendorInfo");
	RESET(); put32(b + 28, 28 + 8 + 2); /* eventSize larger than content */
	expect_error(b, w.len, 69, "header.eventSize");
	RESET(); put32(b + ev1, 24);
	expect_error(b, w.len, ev1, "event[0].pcrIndex");
	RESET(); put32(b + ev1 + 8, 3);
	expect_error(b, w.len, ev1 + 8, "event[0].digests.count");
	RESET(); b[ev1 + 12] = 0x04;         /* sha1: not in the header */
	expect_error(b, w.len, ev1 + 12, "event[0].digests[0].hashAlg");
	RESET(); b[ev1 + 12 + 2 + 32] = 0x0B; /* sha256 twice */
	expect_error(b, w.len, ev1 + 12 + 34, "event[0].digests[1].hashAlg");
	RESET(); put32(b + ev1 + 12 + 34 + 50, 0x7FFFFFFFu);
	expect_error(b, w.len, ev1 + 12 + 34 + 50 + 4, "event[0].event");
	/* Zero padding after the last event is not a log. */
	RESET(); memset(b + w.len, 0, 4);
	expect_error(b, w.len + 4, w.len + 4, "event[3].eventType");
#undef RESET
	free(b);
	evlog_writer_free(&w);
}

static void test_locality_rules(void **state)
{
	struct evlog_digest d[EVLOG_MAX_BANKS];
	struct evlog_writer w;
	char want[32];

	(void)state;
	make_log(&w, 0);                 /* PCR 0 already extended ... */
	size_t off = w.len;
	assert_int_equal(evlog_append_startup_locality(&w, 3), 0);
	expect_error(w.buf, w.len, off, "event[3].StartupLocality");
	evlog_writer_free(&w);

	assert_int_equal(evlog_writer_init(&w, two_banks, 2, 4096), 0);
	assert_int_equal(evlog_append_startup_locality(&w, 3), 0);
	off = w.len;
	assert_int_equal(evlog_append_startup_locality(&w, 4), 0);
	snprintf(want, sizeof(want), "event[1].StartupLocality");
	expect_error(w.buf, w.len, off, want);
	evlog_writer_free(&w);

	/* A StartupLocality claiming PCR 5 is rejected. */
	assert_int_equal(evlog_writer_init(&w, two_banks, 2, 4096), 0);
	memset(d, 0, sizeof(d));
	d[0].alg = EVLOG_ALG_SHA256;
	d[0].size = 32;
	d[1].alg = EVLOG_ALG_SHA384;
	d[1].size = 48;
	assert_int_equal(evlog_append(&w, 5, EV_NO_ACTION, d, 2, "StartupLocality\0\3", 17), 0);
	expect_error(w.buf, w.len, 69, "event[0].StartupLocality");
	evlog_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_replay_values),
		cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_locality_rules),
	};
	return cmocka_run_group_tests_name("eventlog", tests, NULL, NULL);
}
