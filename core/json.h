/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one JSON reader for everything Bulwark reads (the --config file, the
 * VMM's canonical configuration, attestation bundles and manifests).
 *
 * json-c's own tokener keeps the LAST of two equal keys, so two readers of
 * one file can disagree on what it says.  json_parse_strict() parses RFC 8259
 * itself and builds the json-c tree only from what it accepted:
 *   - exactly one JSON object, optional whitespace around it, nothing after;
 *   - a key repeated in any object, at any depth, is an error (keys are
 *     compared after decoding escapes, so "a" and "\u0061" are the same);
 *   - no NUL byte anywhere, not even as \u0000; no raw control byte in a
 *     string; valid UTF-8 only (no overlong form, no surrogate), and \u
 *     escapes form valid pairs;
 *   - nesting at most JSON_STRICT_MAX_DEPTH, input at most MAX bytes;
 *   - integers must fit int64 (or uint64 when positive); other numbers must
 *     be finite.
 */
#ifndef BULWARK_JSON_H
#define BULWARK_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#define JSON_STRICT_MAX_DEPTH 16

/*
 * Parse BUF[0..LEN) (LEN <= MAX) into *OUT (the caller puts it).  Returns 0,
 * -EINVAL with ERR (ERRLEN bytes, may be NULL) saying what and at which byte,
 * or -ENOMEM.  *OUT is untouched on error.
 */
int json_parse_strict(const void *buf, size_t len, size_t max, json_object **out,
		      char *err, size_t errlen);

#endif
