/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The body of PUT /migrate (core/launch/launch_migrate.h): bytes from the
 * control socket's peer, parsed strictly (one JSON object, known keys
 * only, each of its type and within its bounds, nothing after it); fuzzed
 * by tests/fuzz/fuzz_snapmeta.c with the snapshot's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/launch/launch_migrate.h"
#include "core/snapshot.h"
#include "core/util.h"

static int req_string(struct json_object *o, const char *key, char *out, size_t cap,
		      bool absolute, char *why, size_t why_len)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!s || !s[0] || strlen(s) >= cap || (absolute && s[0] != '/')) {
		snprintf(why, why_len, "\"%s\" must be %s of at most %zu bytes", key,
			 absolute ? "an absolute path" : "a string", cap - 1);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, why_len, "\"%s\" holds a control character", key);
			return -EINVAL;
		}
	snprintf(out, cap, "%s", s);
	return 0;
}

static int req_uint(struct json_object *o, const char *key, unsigned int lo, unsigned int hi,
		    unsigned int *out, char *why, size_t why_len)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	if (n < lo || n > hi) {
		snprintf(why, why_len, "\"%s\" must be a whole number in %u..%u", key, lo, hi);
		return -EINVAL;
	}
	*out = (unsigned int)n;
	return 0;
}

/* "unix:/abs" or "tcp:HOST:PORT" (the channel resolves and checks the rest). */
static int req_addr_ok(const char *a)
{
	const char *port;

	if (!strncmp(a, "unix:/", 6))
		return 1;
	if (strncmp(a, "tcp:", 4) || !(port = strrchr(a + 4, ':')) || port == a + 4)
		return 0;
	return strspn(port + 1, "0123456789") == strlen(port + 1) && port[1];
}

int launch_migrate_parse(const char *body, size_t len, struct migrate_req *r, char *why,
			 size_t why_len)
{
	static const char *const keys[] = { "to", "downtime_ms", "max_rounds", "cert", "key",
					    "ca", "trusted" };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	r->downtime_ms = MIGRATE_DOWNTIME_MS;
	r->max_rounds = MIGRATE_ROUNDS;
	snprintf(why, why_len, "the body must be a JSON object with \"to\"");
	if (!o || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != len)
		goto out;
	json_object_object_foreach(o, key, val) {
		size_t i = 0;

		while (i < ARRAY_SIZE(keys) && strcmp(key, keys[i]))
			i++;
		if (i == ARRAY_SIZE(keys)) {
			snprintf(why, why_len, "unknown key \"%.32s\"", key);
			goto out;
		}
		(void)val;
	}
	if (!json_object_object_get_ex(o, "to", NULL) ||
	    req_string(o, "to", r->to, sizeof(r->to), false, why, why_len) ||
	    !req_addr_ok(r->to)) {
		snprintf(why, why_len, "\"to\" must be unix:/PATH or tcp:HOST:PORT");
		goto out;
	}
	if (req_uint(o, "downtime_ms", 1, MIGRATE_DOWNTIME_MAX, &r->downtime_ms, why, why_len) ||
	    req_uint(o, "max_rounds", 1, SNAP_MIG_MAX_ROUNDS - 1, &r->max_rounds, why, why_len) ||
	    req_string(o, "cert", r->cert, sizeof(r->cert), true, why, why_len) ||
	    req_string(o, "key", r->key, sizeof(r->key), true, why, why_len) ||
	    req_string(o, "ca", r->ca, sizeof(r->ca), true, why, why_len) ||
	    req_string(o, "trusted", r->trusted, sizeof(r->trusted), true, why, why_len))
		goto out;
	rc = 0;
	why[0] = '\0';
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

uint64_t launch_migrate_expected_ms(uint64_t pages, uint64_t throughput)
{
	if (!pages)
		return 0;
	if (!throughput)
		return UINT64_MAX;
	/* pages * 4096 * 1000 / throughput without overflow for any RAM size */
	return (pages * 4096u) / throughput * 1000u + (pages * 4096u) % throughput * 1000u /
	       throughput;
}
