/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The source's stop rule (core/launch/migrate_req.c): the expected
 * downtime is the last round's pages plus the hand-over's fixed bytes at
 * the measured throughput, plus its fixed time; the rounds stop when that
 * fits the budget or at the round limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/launch/launch_migrate.h"

#define MB 1000000u

static void test_pages_alone(void **state)
{
	(void)state;
	assert_int_equal(launch_migrate_expected_ms(0, 0, NULL), 0);
	assert_true(launch_migrate_expected_ms(1, 0, NULL) == UINT64_MAX);
	/* 1000 pages (4,096,000 bytes) at 4.096 MB/s: 1 s */
	assert_int_equal(launch_migrate_expected_ms(1000, 4096000u, NULL), 1000);
	/* no overflow for a whole 1 TiB of RAM at 1 byte/s */
	assert_true(launch_migrate_expected_ms(1ull << 28, 1, NULL) ==
		    (1ull << 40) * 1000u);
}

static void test_fixed_cost(void **state)
{
	struct migrate_cost c = { .fixed_bytes = 5 * MB, .fixed_ms = 120 };

	(void)state;
	/* no dirty page left: the state still goes, the target still works */
	assert_int_equal(launch_migrate_expected_ms(0, 10 * MB, &c), 500 + 120);
	assert_int_equal(launch_migrate_expected_ms(1000, 4096000u, &c),
			 1000 + 5 * MB * 1000ull / 4096000u + 120);
	assert_true(launch_migrate_expected_ms(1, 0, &c) == UINT64_MAX);
	c.fixed_ms = UINT64_MAX - 1;
	assert_true(launch_migrate_expected_ms(1000, MB, &c) == UINT64_MAX);
	c = (struct migrate_cost){ .fixed_bytes = UINT64_MAX - 10 };
	assert_true(launch_migrate_expected_ms(1000, MB, &c) == UINT64_MAX);
}

/* The busy bench of the README: a round that fit the old rule (pages
 * alone under the budget) no longer fits once the hand-over counts. */
static void test_busy_guest_goes_on(void **state)
{
	struct migrate_cost c;
	uint64_t pages = 250, tput = 5 * MB;     /* 1,024,000 bytes: 204 ms */

	(void)state;
	launch_migrate_cost(1, false, &c);
	assert_true(launch_migrate_expected_ms(pages, tput, NULL) <= 300);
	assert_int_equal(launch_migrate_stop(launch_migrate_expected_ms(pages, tput, NULL), 300,
					     3, 30), MIGRATE_STOP_FITS);
	assert_true(launch_migrate_expected_ms(pages, tput, &c) > 300);
	assert_int_equal(launch_migrate_stop(launch_migrate_expected_ms(pages, tput, &c), 300,
					     3, 30), MIGRATE_GO_ON);
	/* fewer pages next round: fits with the fixed cost */
	assert_int_equal(launch_migrate_stop(launch_migrate_expected_ms(20, tput, &c), 300, 4,
					     30), MIGRATE_STOP_FITS);
}

static void test_cost_grows(void **state)
{
	struct migrate_cost a, b, v;

	(void)state;
	launch_migrate_cost(1, false, &a);
	launch_migrate_cost(4, false, &b);
	launch_migrate_cost(1, true, &v);
	assert_true(a.fixed_bytes > 0 && a.fixed_ms > 0);
	assert_true(b.fixed_bytes > a.fixed_bytes && b.fixed_ms == a.fixed_ms);
	assert_true(v.fixed_bytes > a.fixed_bytes && v.fixed_ms > a.fixed_ms);
}

static void test_round_limit(void **state)
{
	(void)state;
	assert_int_equal(launch_migrate_stop(301, 300, 0, 30), MIGRATE_GO_ON);
	assert_int_equal(launch_migrate_stop(301, 300, 28, 30), MIGRATE_GO_ON);
	/* round 29 is the 30th: the limit, moved anyway */
	assert_int_equal(launch_migrate_stop(301, 300, 29, 30), MIGRATE_STOP_ROUNDS);
	assert_int_equal(launch_migrate_stop(UINT64_MAX, 300, 29, 30), MIGRATE_STOP_ROUNDS);
	assert_int_equal(launch_migrate_stop(300, 300, 29, 30), MIGRATE_STOP_FITS);
	assert_int_equal(launch_migrate_stop(UINT64_MAX, 60000, 0, 1), MIGRATE_STOP_ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_alone),
		cmocka_unit_test(test_fixed_cost),
		cmocka_unit_test(test_busy_guest_goes_on),
		cmocka_unit_test(test_cost_grows),
		cmocka_unit_test(test_round_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
