/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the one strict JSON reader (core/json.c), which every file Bulwark
 * reads goes through.  What it accepts must be a tree json-c itself agrees
 * with: json-c's serialization of it parses again, strictly, to the same
 * serialization (so no duplicate key, NUL or invalid UTF-8 got through).
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *back = NULL;
	const char *s, *t;
	char *copy;
	size_t n, m;
	char err[128];

	if (json_parse_strict(data, size, 64 * 1024, &o, err, sizeof(err)))
		return 0;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
	if (!s)
		abort();
	copy = strndup(s, n);
	if (!copy || json_parse_strict(copy, n, 1024 * 1024, &back, err, sizeof(err)))
		abort();
	t = json_object_to_json_string_length(back, JSON_C_TO_STRING_PLAIN, &m);
	if (!t || m != n || memcmp(copy, t, n))
		abort();
	free(copy);
	json_object_put(back);
	json_object_put(o);
	return 0;
}
