/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body of PUT /snapshot (core/launch/launch_snapshot.h): bytes from the
 * control socket's peer, parsed strictly (one JSON object, known keys only,
 * nothing after it); fuzzed by tests/fuzz/fuzz_snapmeta.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/launch/launch_snapshot.h"

/* The request's body: 0 or -EINVAL with the reason in WHY. */
int launch_snapshot_parse(const char *body, size_t len, struct snapshot_req *r,
			  char *why, size_t why_len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	struct json_object *v;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	r->then = SNAPSHOT_THEN_RESUME;
	snprintf(why, why_len, "the body must be a JSON object with \"dir\"");
	if (!o || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != len)
		goto out;
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "dir") && strcmp(key, "then") && strcmp(key, "digest_disks")) {
			snprintf(why, why_len, "unknown key \"%.32s\"", key);
			goto out;
		}
		(void)val;
	}
	if (!json_object_object_get_ex(o, "dir", &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string(v)[0] != '/' ||
	    strlen(json_object_get_string(v)) >= sizeof(r->dir)) {
		snprintf(why, why_len, "\"dir\" must be an absolute path");
		goto out;
	}
	snprintf(r->dir, sizeof(r->dir), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "then", &v)) {
		const char *t = json_object_is_type(v, json_type_string) ?
				json_object_get_string(v) : "";

		if (!strcmp(t, "stop"))
			r->then = SNAPSHOT_THEN_STOP;
		else if (!strcmp(t, "keep"))
			r->then = SNAPSHOT_THEN_KEEP;
		else if (strcmp(t, "resume")) {
			snprintf(why, why_len, "\"then\" must be resume, stop or keep");
			goto out;
		}
	}
	if (json_object_object_get_ex(o, "digest_disks", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(why, why_len, "\"digest_disks\" must be true or false");
			goto out;
		}
		r->digest_disks = json_object_get_boolean(v);
	}
	rc = 0;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}
