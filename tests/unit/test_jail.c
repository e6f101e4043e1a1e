/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/sandbox.h"

static void test_config_init(void **state)
{
	struct jail_config c;

	(void)state;
	assert_int_equal(jail_config_init(&c, "/", "/bin/true", 0, 1, 1 << 20), 0);
	assert_int_equal(c.uid, JAIL_ID_BASE);
	assert_int_equal(jail_config_init(&c, "/", "/bin/true", JAIL_ID_SLOTS, 1, 0),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_init),
	};
	return cmocka_run_group_tests_name("jail", tests, NULL, NULL);
}
