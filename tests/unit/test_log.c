/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(log_escape(out, sizeof(out), "/a b/c.img"), 10);
	assert_string_equal(out, "/a b/c.img");
	log_escape(out, sizeof(out), "x\nbulwark: err: forged\r\x1b[2J\\\x7f\xc3\xa9");
	assert_string_equal(out, "x\\x0abulwark: err: forged\\x0d\\x1b[2J\\\\\\x7f\\xc3\\xa9");
	/* Truncation never splits an escape and always terminates. */
	assert_int_equal(log_escape(out, 6, "ab\ncd"), 2);
	assert_string_equal(out, "ab");
}

/* A message whose %s holds a newline stays one line on stderr. */
static void test_message_one_line(void **state)
{
	char dir[] = "/tmp/bulwark-test-log-XXXXXX", path[64], text[512];
	int fd, saved = dup(2);
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_err("--disk: %s: refused", "/tmp/x\nbulwark: info: all good");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "/tmp/x\\x0abulwark: info: all good: refused\n"));
	assert_ptr_equal(strchr(text, '\n'), text + n - 1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_levels),
		cmocka_unit_test(test_range_fits),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_message_one_line),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
