/* SPDX-License-Identifier: Apache-2.0 */
/* core/launch/http.c: the request parser's answers and bounds, response heads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/launch/http.h"

#define HEAD 1024
#define BODY 64

static int parse(const char *s, struct http_request *r)
{
	return http_parse(s, strlen(s), HEAD, BODY, r);
}

static void test_curl_get(void **state)
{
	struct http_request r;
	const char *s = "GET /info?x=1 HTTP/1.1\r\nHost: localhost\r\n"
			"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

	(void)state;
	assert_int_equal(parse(s, &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/info");
	assert_string_equal(r.query, "x=1");
	assert_int_equal(r.minor, 1);
	assert_false(r.close);
	assert_int_equal(r.head_len, strlen(s));
	assert_int_equal(r.body_len, 0);
}

static void test_body(void **state)
{
	struct http_request r;
	const char *s = "PUT /pause HTTP/1.1\r\ncontent-length:  2 \r\n\r\n{}GET";

	(void)state;
	assert_int_equal(parse(s, &r), 0);
	assert_int_equal(r.body_len, 2);
	assert_memory_equal(r.body, "{}", 2);
	/* The body not all there yet: more to read. */
	assert_int_equal(http_parse(s, strlen(s) - 4, HEAD, BODY, &r), -EAGAIN);
}

static void test_incomplete(void **state)
{
	struct http_request r;
	const char *s = "GET /info HTTP/1.0\nHost: x\n\n";

	(void)state;
	for (size_t n = 0; n < strlen(s); n++)
		assert_int_equal(http_parse(s, n, HEAD, BODY, &r), -EAGAIN);
	assert_int_equal(http_parse(s, strlen(s), HEAD, BODY, &r), 0);
	assert_true(r.close);          /* HTTP/1.0 */
}

static void test_refused(void **state)
{
	static const struct { const char *req; int rc; } t[] = {
		{ "GET /info\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/2.0\r\n\r\n", -EPROTONOSUPPORT },
		{ "GET /info HTTP/1.2\r\n\r\n", -EPROTONOSUPPORT },
		{ "get /info HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GET info HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GET  /info HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GET /a#b HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GETTINGS /info HTTP/1.1\r\n\r\n", -EINVAL },
		{ "\r\nGET /info HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\rX: y\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nX: \x01\r\n\r\n", -EINVAL },
		{ "GET /\x80 HTTP/1.1\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nX: y\r\n folded\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nNo colon\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		  -EINVAL },
		{ "GET /info HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nContent-Length: 0x1\r\n\r\n", -EINVAL },
		{ "GET /info HTTP/1.1\r\nContent-Length: 65\r\n\r\n", -EFBIG },
		{ "GET /info HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  -EINVAL },
		{ "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -ENOSYS },
	};
	struct http_request r;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = parse(t[i].req, &r);

		if (rc != t[i].rc)
			fail_msg("request %zu: %d, expected %d", i, rc, t[i].rc);
	}
	assert_int_equal(http_parse_status(-EINVAL), 400);
	assert_int_equal(http_parse_status(-EMSGSIZE), 431);
	assert_int_equal(http_parse_status(-EFBIG), 413);
	assert_int_equal(http_parse_status(-EPROTONOSUPPORT), 505);
	assert_int_equal(http_parse_status(-ENOSYS), 501);
}

/* The head bound holds whether or not the blank line ever comes. */
static void test_head_bound(void **state)
{
	static char big[4096];
	struct http_request r;
	char hdrs[2048] = "GET /info HTTP/1.1\r\n";

	(void)state;
	memcpy(big, "GET /info HTTP/1.1\r\nX: ", 23);
	memset(big + 23, 'a', sizeof(big) - 23);
	assert_int_equal(http_parse(big, sizeof(big), HEAD, BODY, &r), -EMSGSIZE);
	assert_int_equal(http_parse(big, HEAD - 1, HEAD, BODY, &r), -EAGAIN);
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		strcat(hdrs, "X: y\r\n");
	strcat(hdrs, "\r\n");
	assert_int_equal(parse(hdrs, &r), -EMSGSIZE);
}

static void test_response_head(void **state)
{
	char out[256];
	int n = http_response_head(out, sizeof(out), 1, 409, "application/json", 12, true);

	(void)state;
	assert_true(n > 0);
	assert_string_equal(out, "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n"
			    "Content-Length: 12\r\nConnection: close\r\n\r\n");
	assert_int_equal(http_response_head(out, 16, 1, 200, "text/plain", 0, false), -ENOSPC);
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curl_get),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_head_bound),
		cmocka_unit_test(test_response_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
