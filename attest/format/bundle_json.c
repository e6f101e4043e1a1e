/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON reading shared by bundles and manifests (bundle_json.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle_json.h"
#include "core/json.h"
#include "core/util.h"

int bjson_fail(struct bundle_error *err, int code, const char *field, const char *why)
{
	if (err) {
		err->code = code ? code : BUNDLE_ERR_FIELD;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", field, why);
	}
	return -EBADMSG;
}

int bjson_parse(const uint8_t *buf, size_t len, size_t max, json_object **out,
		struct bundle_error *err)
{
	char why[sizeof(err->msg) - 8];
	json_object *o = NULL;
	int rc;

	if (len > max)
		return bjson_fail(err, BUNDLE_ERR_TOO_LARGE, "file", "too large");
	rc = json_parse_strict(buf, len, max, &o, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return bjson_fail(err, BUNDLE_ERR_JSON, "file", why);
	*out = o;
	return 0;
}

int bjson_keys(json_object *o, const char *where, const char *const *allowed, size_t n,
	       struct bundle_error *err)
{
	if (!json_object_is_type(o, json_type_object))
		return bjson_fail(err, 0, where, "not an object");
	json_object_object_foreach(o, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < n && strcmp(key, allowed[i]); i++)
			;
		if (i == n)
			return bjson_fail(err, 0, where, "unknown key");
	}
	return 0;
}

json_object *bjson_get(json_object *o, const char *key, json_type type,
		       struct bundle_error *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type)) {
		bjson_fail(err, 0, key, "missing or of the wrong type");
		return NULL;
	}
	return v;
}

int bjson_str(json_object *o, const char *key, size_t min, size_t max, const char **s,
	      size_t *len, struct bundle_error *err)
{
	json_object *v = bjson_get(o, key, json_type_string, err);
	size_t n;

	if (!v)
		return -EBADMSG;
	n = (size_t)json_object_get_string_len(v);
	*s = json_object_get_string(v);
	if (n < min || n > max || strlen(*s) != n)
		return bjson_fail(err, 0, key, "length out of bounds");
	if (len)
		*len = n;
	return 0;
}

int bjson_b64(json_object *j, const char *field, size_t cap, struct bundle_blob *out,
	      struct bundle_error *err)
{
	size_t n;
	const char *s;

	if (!json_object_is_type(j, json_type_string))
		return bjson_fail(err, 0, field, "not a string");
	n = (size_t)json_object_get_string_len(j);
	s = json_object_get_string(j);
	if (!n || n / 4 * 3 > cap + 2)
		return bjson_fail(err, 0, field, "empty or too long");
	out->data = malloc(n / 4 * 3 + 1);
	if (!out->data)
		return -ENOMEM;
	if (bundle_b64_decode(s, n, out->data, cap, &out->len) || !out->len) {
		free(out->data);
		out->data = NULL;
		return bjson_fail(err, 0, field, "not canonical base64");
	}
	return 0;
}

int bjson_hex(json_object *j, const char *field, uint8_t *out, size_t cap, size_t want,
	      size_t *len, struct bundle_error *err)
{
	size_t n, got = 0;

	if (!json_object_is_type(j, json_type_string))
		return bjson_fail(err, 0, field, "not a string");
	n = (size_t)json_object_get_string_len(j);
	if (bundle_hex_decode(json_object_get_string(j), n, out, cap, &got) || !got ||
	    (want && got != want))
		return bjson_fail(err, 0, field, "not lower-case hex of the right length");
	if (len)
		*len = got;
	return 0;
}
