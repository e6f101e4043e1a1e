/* SPDX-License-Identifier: Apache-2.0 */
/* core/json.c: the one strict JSON reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attest/format/manifest.h"
#include "core/json.h"

static int parse_n(const char *s, size_t n, json_object **o, char *err)
{
	return json_parse_strict(s, n, 4096, o, err, 128);
}

/* Refused, and the message names WHY. */
static void refuse(const char *s, size_t n, const char *why)
{
	json_object *o = (json_object *)0x1;
	char err[128];

	assert_int_equal(parse_n(s, n, &o, err), -EINVAL);
	assert_ptr_equal(o, (json_object *)0x1);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not say '%s'", s, err, why);
}

static void refuse_s(const char *s, const char *why)
{
	refuse(s, strlen(s), why);
}

static json_object *accept_s(const char *s)
{
	json_object *o = NULL;
	char err[128];

	if (parse_n(s, strlen(s), &o, err))
		fail_msg("'%s' refused: %s", s, err);
	assert_non_null(o);
	return o;
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	refuse_s("{\"a\":1,\"a\":2}", "duplicate key");
	refuse_s("{\"a\":1,\"b\":{\"c\":[{\"d\":1,\"d\":1}]}}", "duplicate key");
	/* Equal after decoding: \u0061 is "a". */
	refuse_s("{\"a\":1,\"\\u0061\":2}", "duplicate key");
	refuse_s("{\"x\":{\"k\":null,\"k\":null}}", "duplicate key");
	/* The position is the second key's. */
	refuse_s("{\"a\":1,\"a\":2}", "byte 7");
	json_object_put(accept_s("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}"));
}

static void test_nul_and_control(void **state)
{
	(void)state;
	refuse("{\"a\":\"x\0y\"}", 11, "NUL byte");
	refuse("{\"a\":1}\0", 8, "NUL byte");
	refuse_s("{\"a\":\"x\\u0000y\"}", "NUL");
	refuse_s("{\"a\":\"x\ny\"}", "control byte");
	refuse_s("{\"a\":\"x\x1by\"}", "control byte");
	refuse_s("{\"a\":\"\\q\"}", "bad escape");
}

static void test_utf8(void **state)
{
	json_object *o;

	(void)state;
	refuse_s("{\"a\":\"\xc0\x80\"}", "invalid UTF-8");      /* overlong NUL */
	refuse_s("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8");  /* surrogate */
	refuse_s("{\"a\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8");
	refuse_s("{\"a\":\"\xe2\x82\"}", "invalid UTF-8");      /* truncated */
	refuse_s("{\"a\":\"\\ud800\"}", "surrogate");
	refuse_s("{\"a\":\"\\udc00\"}", "surrogate");
	refuse_s("{\"a\":\"\\ud800\\u0041\"}", "surrogate");
	o = accept_s("{\"a\":\"\\ud83d\\ude00 \xc3\xa9\\/\\n\"}");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "a")),
			    "\xf0\x9f\x98\x80 \xc3\xa9/\n");
	json_object_put(o);
}

static void test_shape(void **state)
{
	(void)state;
	refuse_s("", "not a JSON object");
	refuse_s("[1]", "not a JSON object");
	refuse_s("\"x\"", "not a JSON object");
	refuse_s("{\"a\":1} x", "trailing bytes");
	refuse_s("{\"a\":1}{}", "trailing bytes");
	refuse_s("{\"a\":1", "expected ',' or '}'");
	refuse_s("{\"a\":1,}", "expected a string key");
	refuse_s("{\"a\":[1,]}", "not a JSON value");
	refuse_s("{\"a\" 1}", "expected ':'");
	refuse_s("{\"a\":tru}", "not a JSON value");
	refuse_s("{\"a\":\"x}", "unterminated");
	refuse_s("{'a':1}", "expected a string key");
	json_object_put(accept_s(" \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n"));
}

static void test_numbers(void **state)
{
	json_object *o;

	(void)state;
	refuse_s("{\"a\":01}", "expected ',' or '}'");
	refuse_s("{\"a\":+1}", "not a JSON value");
	refuse_s("{\"a\":1.}", "no digit after");
	refuse_s("{\"a\":1e}", "no digit in exponent");
	refuse_s("{\"a\":18446744073709551616}", "out of range");
	refuse_s("{\"a\":-9223372036854775809}", "out of range");
	refuse_s("{\"a\":1e999}", "out of range");
	refuse_s("{\"a\":NaN}", "not a JSON value");
	o = accept_s("{\"u\":18446744073709551615,\"i\":-9223372036854775808,"
		     "\"d\":-1.5e2,\"z\":-0,\"t\":true,\"f\":false,\"n\":null}");
	assert_true(json_object_get_uint64(json_object_object_get(o, "u")) == UINT64_MAX);
	assert_true(json_object_get_int64(json_object_object_get(o, "i")) == INT64_MIN);
	assert_true(json_object_is_type(json_object_object_get(o, "i"), json_type_int));
	assert_true(json_object_get_double(json_object_object_get(o, "d")) == -150.0);
	assert_true(json_object_is_type(json_object_object_get(o, "d"), json_type_double));
	assert_true(json_object_get_boolean(json_object_object_get(o, "t")));
	assert_false(json_object_get_boolean(json_object_object_get(o, "f")));
	assert_true(json_object_object_get_ex(o, "n", NULL));
	assert_true(json_object_is_type(json_object_object_get(o, "n"), json_type_null));
	json_object_put(o);
}

static void test_bounds(void **state)
{
	char deep[128], big[5000];
	json_object *o = NULL;
	char err[128];
	size_t n = 0;

	(void)state;
	/* JSON_STRICT_MAX_DEPTH levels parse; one more does not. */
	for (int i = 0; i < JSON_STRICT_MAX_DEPTH; i++)
		n += (size_t)sprintf(deep + n, i ? "[" : "{\"a\":");
	for (int i = 1; i < JSON_STRICT_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	json_object_put(accept_s(deep));
	memmove(deep + 6, deep + 5, n - 4);
	deep[5] = '[';
	memmove(deep + n + 1, deep + n, 1);
	deep[n] = ']';
	deep[n + 2] = '\0';
	refuse_s(deep, "nested too deeply");
	/* The size bound is the caller's. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{}", 2);
	assert_int_equal(json_parse_strict(big, sizeof(big), 4096, &o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "larger than 4096"));
	assert_int_equal(json_parse_strict(big, 4096, 4096, &o, err, sizeof(err)), 0);
	json_object_put(o);
}

/* The attestation readers go through it too: a manifest that parses is
 * refused once a key is repeated (here "id", whose last copy json-c kept). */
static void test_manifest_duplicate_key(void **state)
{
	static const char real[] = "tests/fuzz/corpus/fuzz_manifest/real.json";
	struct bundle_error err;
	struct manifest m;
	char buf[16384], dup[16400];
	FILE *f = fopen(real, "rb");
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 1 && n < sizeof(buf) && buf[0] == '{');
	assert_int_equal(manifest_parse((const uint8_t *)buf, n, &m, &err), 0);
	n = (size_t)snprintf(dup, sizeof(dup), "{\"id\": \"other\", %.*s", (int)n - 1, buf + 1);
	assert_int_equal(manifest_parse((const uint8_t *)dup, n, &m, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "duplicate key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_nul_and_control),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_manifest_duplicate_key),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
