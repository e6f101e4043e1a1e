/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: flags, JSON file, validation, canonical form (golden file). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/launcher.h"

#define GOLDEN "tests/unit/golden/config_canonical.json"

static int apply(struct vm_config *c, const char *json)
{
	return config_apply_json(c, json, strlen(json), "test.json");
}

static char *canon(const struct vm_config *c)
{
	char *s = NULL;
	size_t n = 0;

	assert_int_equal(config_canonical(c, &s, &n), 0);
	assert_int_equal(strlen(s), n);
	return s;
}

static void test_golden_canonical(void **state)
{
	struct vm_config c;
	char golden[1024], *s;
	FILE *f = fopen(GOLDEN, "r");
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(golden, 1, sizeof(golden) - 1, f);
	fclose(f);
	golden[n] = '\0';
	if (n && golden[n - 1] == '\n')
		golden[--n] = '\0';
	config_init(&c);
	assert_int_equal(apply(&c, "{\"cmdline\": \"console=ttyS0 quiet\", "
			       "\"kernel\": \"/boot/vmlinuz\", \"cpus\": 4, "
			       "\"initrd\": \"/tmp/i.gz\", \"memory\": 512, "
			       "\"name\": \"web-1\"}"), 0);
	assert_int_equal(config_validate(&c), 0);
	s = canon(&c);
	assert_string_equal(s, golden);
	free(s);
}

static void test_roundtrip_and_strictness(void **state)
{
	struct vm_config c, back;
	char *s, *t;

	(void)state;
	config_init(&c);
	strcpy(c.kernel, "/k");
	strcpy(c.cmdline, "a \"quoted\" \\ /path");
	s = canon(&c);
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), 0);
	t = canon(&back);
	assert_string_equal(s, t);
	assert_string_equal(back.cmdline, c.cmdline);
	/* The same settings with a space added are not canonical. */
	s = realloc(s, strlen(s) + 2);
	memmove(s + 2, s + 1, strlen(s + 1) + 1);
	s[1] = ' ';
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), -EINVAL);
	/* Missing keys are not canonical either. */
	assert_int_equal(config_from_canonical(&back, "{\"kernel\":\"/k\"}", 15), -EINVAL);
	free(s);
	free(t);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"{\"cpus\": 0}", "{\"cpus\": 65}", "{\"cpus\": -1}", "{\"cpus\": \"4\"}",
		"{\"cpus\": 1.5}", "{\"memory\": 63}", "{\"memory\": 65537}",
		"{\"memory\": 99999999999999999999999}",
		"{\"name\": \"\"}", "{\"name\": \"a/b\"}", "{\"name\": \"-x\"}",
		"{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\"}",
		"{\"cmdline\": \"a\\nb\"}", "{\"kernel\": \"\"}", "{\"kernel\": \"a\\u0000b\"}",
		"{\"disk\": \"/x\"}", "[1, 2]", "{\"cpus\": 1", "{\"cpus\": 1} x", "",
		"{\"cpus\": 1,}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_config c;

		config_init(&c);
		if (apply(&c, bad[i]) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_bounds_accepted(void **state)
{
	struct vm_config c;

	(void)state;
	config_init(&c);
	assert_int_equal(apply(&c, "{\"cpus\": 64, \"memory\": 65536, \"name\": \"a.b-c_d\"}"), 0);
	assert_int_equal(c.cpus, 64);
	assert_int_equal(c.memory_mib, 65536);
	assert_int_equal(config_set(&c, "cpus", "1", "--cpus"), 0);
	assert_int_equal(config_set(&c, "cpus", "01x", "--cpus"), -EINVAL);
	assert_int_equal(config_set(&c, "nosuch", "1", "--nosuch"), -ENOENT);
	/* Without a kernel the configuration is incomplete. */
	assert_int_equal(config_validate(&c), -EINVAL);
}

static void test_flags_override_file(void **state)
{
	char path[] = "/tmp/bulwark-test-config-XXXXXX";
	const char *json = "{\"kernel\": \"/file/kernel\", \"cpus\": 2, \"memory\": 128}";
	int fd = mkstemp(path);
	struct vm_config c;
	enum log_level lvl = LOG_WARN;
	/* --cpus before --config still wins over the file. */
	char *argv[] = { "run", "--cpus", "3", "--config", path, "--name=vm9", NULL };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	assert_int_equal(launcher_parse_args(&c, 6, argv, &lvl), 0);
	assert_int_equal(c.cpus, 3);
	assert_int_equal(c.memory_mib, 128);
	assert_string_equal(c.kernel, "/file/kernel");
	assert_string_equal(c.name, "vm9");
	unlink(path);
}

static void test_bad_flags(void **state)
{
	char *missing[] = { "run", "--kernel", "/k", "--cpus", NULL };
	char *unknown[] = { "run", "--kernel", "/k", "--cpu", "2", NULL };
	char *positional[] = { "run", "/k", NULL };
	char *nokernel[] = { "run", "--cpus", "2", NULL };
	char *nofile[] = { "run", "--config", "/nonexistent/x.json", NULL };
	struct vm_config c;
	enum log_level lvl = LOG_WARN;

	(void)state;
	assert_int_not_equal(launcher_parse_args(&c, 4, missing, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 5, unknown, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 2, positional, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 3, nokernel, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 3, nofile, &lvl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_canonical),
		cmocka_unit_test(test_roundtrip_and_strictness),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_bounds_accepted),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_bad_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
