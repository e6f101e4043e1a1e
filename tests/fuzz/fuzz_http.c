/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP request parser (core/launch/http.h) on arbitrary bytes, as a control
 * socket or `bulwark serve` would receive them, at every prefix length (a
 * peer sends in pieces).  Checks what the callers rely on: a complete
 * request lies inside the buffer and the bounds; an incomplete one is
 * shorter than the bounds; the answer for a prefix never contradicts the
 * answer for the whole.
 */
#include <errno.h>
#include <string.h>

#include "core/launch/http.h"
#include "tests/fuzz/fuzz.h"

#define HEAD_MAX 1024
#define BODY_MAX 512

static void check(const char *b, size_t len)
{
	struct http_request r;
	int rc = http_parse(b, len, HEAD_MAX, BODY_MAX, &r);

	if (rc == 0) {
		if (r.head_len > HEAD_MAX || r.body_len > BODY_MAX ||
		    r.head_len + r.body_len > len || r.body != b + r.head_len ||
		    !r.method[0] || r.path[0] != '/' || r.minor > 1 ||
		    !memchr(r.path, '\0', sizeof(r.path)) ||
		    !memchr(r.query, '\0', sizeof(r.query)))
			__builtin_trap();
	} else if (rc == -EAGAIN) {
		if (len >= HEAD_MAX + BODY_MAX)
			__builtin_trap();
	} else if (http_parse_status(rc) < 400 || http_parse_status(rc) > 505) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;

	for (size_t n = 0; n <= size; n += n < 64 ? 1 : 61)
		check(b, n);
	check(b, size);
	return 0;
}
