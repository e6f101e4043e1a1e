/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"

static void test_parse_levels(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_parse_level("err", &l), 0);
	assert_int_equal(l, LOG_ERR);
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_parse_level("verbose", &l), -EINVAL);
	assert_int_equal(log_parse_level("", &l), -EINVAL);
}

static void test_range_fits(void **state)
{
	(void)state;
	assert_true(range_fits(0, 10, 10));
	assert_true(range_fits(10, 0, 10));
	assert_false(range_fits(11, 0, 10));
	assert_false(range_fits(5, 6, 10));
	/* No wrap-around: a huge length must not pass. */
	assert_false(range_fits(1, UINT64_MAX, 10));
	assert_false(range_fits(UINT64_MAX, 2, UINT64_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_levels),
		cmocka_unit_test(test_range_fits),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
