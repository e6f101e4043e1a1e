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
#include "core/launch/migwire.h"
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

/* BYTES at THROUGHPUT bytes/s in ms, without overflow for any RAM size. */
static uint64_t mig_bytes_ms(uint64_t bytes, uint64_t throughput)
{
	if (!bytes)
		return 0;
	if (!throughput)
		return UINT64_MAX;
	return bytes / throughput * 1000u + bytes % throughput * 1000u / throughput;
}

void launch_migrate_cost(uint32_t cpus, bool vtpm, struct migrate_cost *c)
{
	c->fixed_bytes = MIGRATE_STATE_BASE_BYTES + (uint64_t)cpus * MIGRATE_STATE_VCPU_BYTES +
			 (vtpm ? MIGRATE_VTPM_BYTES : 0);
	c->fixed_ms = MIGRATE_HANDOVER_MS + (vtpm ? MIGRATE_HANDOVER_VTPM_MS : 0);
}

uint64_t launch_migrate_target_ms(bool vtpm, uint64_t swtpm_read_ms)
{
	uint64_t ms = MIGRATE_TARGET_VMM_MS;

	if (vtpm)
		ms += (swtpm_read_ms < 20000 ? swtpm_read_ms : 20000) + MIGRATE_TARGET_EVENT_MS;
	return ms < MIGWIRE_HANDOVER_MAX_MS ? ms : MIGWIRE_HANDOVER_MAX_MS;
}

void launch_migrate_cost_measured(uint32_t cpus, const struct migrate_measured *m,
				  struct migrate_cost *c)
{
	uint64_t t = m->target ? m->target_ms : MIGRATE_HANDOVER_MS - MIGRATE_SOURCE_MS +
		     (m->vtpm ? MIGRATE_HANDOVER_VTPM_MS : 0);

	launch_migrate_cost(cpus, m->vtpm, c);
	if (m->vtpm && m->blobs)
		c->fixed_bytes = c->fixed_bytes - MIGRATE_VTPM_BYTES + m->vtpm_bytes;
	c->fixed_ms = MIGRATE_SOURCE_MS + t + (m->vtpm && m->blobs ? m->vtpm_read_ms : 0);
}

uint64_t launch_migrate_throughput(uint64_t prev, uint64_t bytes, long long ms)
{
	if (ms <= 0 || (prev && bytes < MIGRATE_TPUT_MIN_BYTES))
		return prev;
	return bytes / (uint64_t)ms * 1000u + bytes % (uint64_t)ms * 1000u / (uint64_t)ms;
}

uint64_t launch_migrate_expected_ms(uint64_t pages, uint64_t throughput,
				    const struct migrate_cost *c)
{
	uint64_t ms, fixed = c ? c->fixed_bytes : 0;

	if (pages > (UINT64_MAX - fixed) / 4096u)
		return UINT64_MAX;
	ms = mig_bytes_ms(pages * 4096u + fixed, throughput);
	if (!c || ms == UINT64_MAX)
		return ms;
	return ms > UINT64_MAX - c->fixed_ms ? UINT64_MAX : ms + c->fixed_ms;
}

enum migrate_stop launch_migrate_stop(uint64_t expected_ms, unsigned int budget_ms,
				      uint32_t round, unsigned int max_rounds)
{
	if (expected_ms <= budget_ms)
		return MIGRATE_STOP_FITS;
	if (round + 1 >= max_rounds)
		return MIGRATE_STOP_ROUNDS;
	return MIGRATE_GO_ON;
}
