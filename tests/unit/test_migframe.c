/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The target's framing of a migration stream (core/launch/migframe.c): a
 * whole stream fed in every split of two pieces, and byte by byte, is whole
 * exactly at its end; a stream with a round skipped, MEM in it, PAGES after
 * META, bytes after END, or another header is refused naming the record.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/launch/migframe.h"
#include "core/log.h"

static uint8_t s[4096 * 4];
static size_t slen;

static void put(uint32_t type, uint32_t index, const void *p, size_t n)
{
	struct snap_rec r = { type, index, n };

	snap_rec_encode(&r, s + slen);
	slen += 16;
	if (n)
		memcpy(s + slen, p, n);
	slen += n;
}

/* Round 0 (one page at 1 MiB), round 1 (none), then the state. */
static void stream(int bad)
{
	uint8_t page[8 + 4096] = { 0 }, meta[48] = { 0 }, zero[64] = { 0 };
	uint64_t gpa = 1 << 20, mem = 64ULL << 20;
	uint32_t one = 1;

	memcpy(page, &gpa, 8);
	memcpy(meta + 32, &one, 4);
	memcpy(meta + 40, &mem, 8);
	slen = 0;
	memcpy(s, bad == 5 ? SNAP_MAGIC : SNAP_MIG_MAGIC, SNAP_MAGIC_LEN);
	slen = SNAP_MAGIC_LEN;
	put(bad == 2 ? SNAP_REC_MEM : SNAP_REC_PAGES, 0, page, sizeof(page));
	put(SNAP_REC_ROUND_END, 0, NULL, 0);
	put(SNAP_REC_ROUND_END, bad == 1 ? 2 : 1, NULL, 0);
	put(SNAP_REC_META, 0, meta, sizeof(meta));
	if (bad == 3)
		put(SNAP_REC_PAGES, 2, page, sizeof(page));
	put(SNAP_REC_VCPU, 0, zero, 64);
	put(SNAP_REC_IRQCHIP, 0, zero, 64);
	put(SNAP_REC_PIT, 0, zero, 16);
	put(SNAP_REC_CLOCK, 0, zero, 48);
	put(SNAP_REC_END, 0, NULL, 0);
	if (bad == 4)
		s[slen++] = 0;
}

static const struct snap_limits lim = { 1, 64ULL << 20 };

static void test_splits(void **state)
{
	struct migframe f;
	char why[256];

	(void)state;
	stream(0);
	for (size_t cut = 0; cut <= slen; cut++) {
		migframe_init(&f, &lim);
		assert_int_equal(migframe_feed(&f, s, cut, why, sizeof(why)), 0);
		assert_int_equal(migframe_whole(&f), cut == slen);
		assert_int_equal(migframe_feed(&f, s + cut, slen - cut, why, sizeof(why)), 0);
		assert_true(migframe_whole(&f));
	}
	migframe_init(&f, &lim);
	for (size_t i = 0; i < slen; i++)
		assert_int_equal(migframe_feed(&f, s + i, 1, why, sizeof(why)), 0);
	assert_true(migframe_whole(&f));
}

static void test_refusals(void **state)
{
	static const char *const named[] = { NULL, "ROUND_END", "MEM", "PAGES", "END",
					     "header" };
	struct migframe f;
	char why[256];

	(void)state;
	log_set_level(LOG_ERR);
	for (int bad = 1; bad <= 5; bad++) {
		stream(bad);
		migframe_init(&f, &lim);
		why[0] = '\0';
		assert_true(migframe_feed(&f, s, slen, why, sizeof(why)) < 0);
		if (!strstr(why, named[bad]))
			fail_msg("stream %d: '%s' does not name %s", bad, why, named[bad]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
