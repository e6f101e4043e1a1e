/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON reading for bundles and manifests: one complete object, no
 * trailing bytes, no NUL, bounded depth; objects with exactly the keys
 * allowed; typed getters that say which field failed.
 */
#ifndef BULWARK_ATTEST_BUNDLE_JSON_H
#define BULWARK_ATTEST_BUNDLE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "attest/format/bundle.h"

#define BJSON_MAX_DEPTH 8

/* Parses buf (len <= max) into *out (caller puts it); 0 or -EBADMSG. */
int bjson_parse(const uint8_t *buf, size_t len, size_t max, json_object **out,
		struct bundle_error *err);

/* Sets err (code BUNDLE_ERR_FIELD unless code given) and returns -EBADMSG. */
int bjson_fail(struct bundle_error *err, int code, const char *field, const char *why);

/* o is an object whose keys are all in allowed[0..n); 0 or -EBADMSG. */
int bjson_keys(json_object *o, const char *where, const char *const *allowed, size_t n,
	       struct bundle_error *err);

/* o[key] of the given type, required; NULL and err set otherwise. */
json_object *bjson_get(json_object *o, const char *key, json_type type,
		       struct bundle_error *err);

/* o[key] a string of min..max bytes without NUL; 0 or -EBADMSG. */
int bjson_str(json_object *o, const char *key, size_t min, size_t max, const char **s,
	      size_t *len, struct bundle_error *err);

/* A base64 string value (j) into a new blob of 1..cap bytes; 0 or -EBADMSG/-ENOMEM. */
int bjson_b64(json_object *j, const char *field, size_t cap, struct bundle_blob *out,
	      struct bundle_error *err);

/* A hex string value (j) of exactly len bytes (0: 1..cap); 0 or -EBADMSG. */
int bjson_hex(json_object *j, const char *field, uint8_t *out, size_t cap, size_t want,
	      size_t *len, struct bundle_error *err);

#endif
