/* SPDX-License-Identifier: Apache-2.0 */
/* Evidence bundles: strict parser and writer (bundle.h, BUNDLE.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/format/bundle.h"
#include "attest/format/bundle_host.h"
#include "attest/format/bundle_json.h"
#include "attest/format/imalog.h"
#include "core/util.h"

static int name_valid(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

static int uuid_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	}
	return s[36] == '\0';
}

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

static int parse_guest(json_object *top, struct bundle *b, struct bundle_error *err)
{
	static const char *const keys[] = { "name", "uuid", "label" };
	json_object *g = bjson_get(top, "guest", json_type_object, err);
	const char *s;

	if (!g || bjson_keys(g, "guest", keys, ARRAY_SIZE(keys), err))
		return -EBADMSG;
	if (bjson_str(g, "name", 1, BUNDLE_NAME_MAX, &s, NULL, err))
		return -EBADMSG;
	snprintf(b->name, sizeof(b->name), "%s", s);
	if (bjson_str(g, "uuid", 36, 36, &s, NULL, err))
		return -EBADMSG;
	snprintf(b->uuid, sizeof(b->uuid), "%s", s);
	if (bjson_str(g, "label", 1, BUNDLE_LABEL_MAX, &s, NULL, err))
		return -EBADMSG;
	snprintf(b->label, sizeof(b->label), "%s", s);
	if (!name_valid(b->name) || !uuid_valid(b->uuid) || !printable(b->label))
		return bjson_fail(err, 0, "guest", "name, uuid or label malformed");
	return 0;
}

/* "0".."23" exactly as printed by %u. */
static int pcr_index(const char *key, uint32_t *pcr)
{
	char canon[4];
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)key[0]))
		return -EINVAL;
	v = strtoul(key, &end, 10);
	if (*end || v >= EVLOG_NUM_PCRS)
		return -EINVAL;
	snprintf(canon, sizeof(canon), "%lu", v);
	if (strcmp(canon, key))
		return -EINVAL;
	*pcr = (uint32_t)v;
	return 0;
}

static int parse_bank(json_object *vals, uint32_t i, struct bundle_pcrs *p,
		      struct bundle_error *err)
{
	if (!json_object_is_type(vals, json_type_object) || !json_object_object_length(vals))
		return bjson_fail(err, 0, "pcrs", "a bank is not a non-empty object");
	json_object_object_foreach(vals, key, hex) {
		uint32_t pcr;

		if (pcr_index(key, &pcr))
			return bjson_fail(err, 0, "pcrs", "PCR index not 0..23");
		if (bjson_hex(hex, "pcrs", p->value[i][pcr], EVLOG_MAX_DIGEST, p->banks.size[i],
			      NULL, err))
			return -EBADMSG;
		p->mask[i] |= 1u << pcr;
	}
	return 0;
}

static int parse_pcrs(json_object *top, struct bundle_pcrs *p, struct bundle_error *err)
{
	json_object *o = bjson_get(top, "pcrs", json_type_object, err);

	if (!o)
		return -EBADMSG;
	if (!json_object_object_length(o) || json_object_object_length(o) > EVLOG_MAX_BANKS)
		return bjson_fail(err, 0, "pcrs", "1 to 4 banks");
	json_object_object_foreach(o, bank, vals) {
		uint32_t i = p->banks.count;
		uint16_t alg = bundle_bank_alg(bank);

		if (!alg)
			return bjson_fail(err, 0, "pcrs", "unknown bank");
		p->banks.alg[i] = alg;
		p->banks.size[i] = evlog_alg_size(alg);
		p->banks.count++;
		if (parse_bank(vals, i, p, err))
			return -EBADMSG;
	}
	return 0;
}

/* o[key] = {"public" (if pub), "certificate", "chain"}: into pub and c. */
static int parse_chain(json_object *top, const char *key, struct bundle_blob *pub,
		       struct bundle_chain *c, struct bundle_error *err)
{
	static const char *const keys[] = { "certificate", "chain", "public" };
	json_object *o = bjson_get(top, key, json_type_object, err);
	json_object *arr, *v;
	int rc;

	if (!o || bjson_keys(o, key, keys, ARRAY_SIZE(keys) - !pub, err))
		return -EBADMSG;
	if (!(v = bjson_get(o, "certificate", json_type_string, err)) ||
	    (rc = bjson_b64(v, "certificate", BUNDLE_MAX_CERT, &c->cert, err)))
		return -EBADMSG;
	if (pub && (!(v = bjson_get(o, "public", json_type_string, err)) ||
		    bjson_b64(v, "public", BUNDLE_MAX_TPM, pub, err)))
		return -EBADMSG;
	arr = bjson_get(o, "chain", json_type_array, err);
	if (!arr)
		return -EBADMSG;
	if (json_object_array_length(arr) > BUNDLE_MAX_CHAIN)
		return bjson_fail(err, 0, "chain", "too many certificates");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (bjson_b64(json_object_array_get_idx(arr, i), "chain", BUNDLE_MAX_CERT,
			      &c->chain[i], err))
			return -EBADMSG;
		c->nchain++;
	}
	return 0;
}

static int parse_head(json_object *top, struct bundle *b, struct bundle_error *err)
{
	static const char *const keys[] = { "format", "version", "created", "guest",
		"nonce", "quote", "pcrs", "event_log", "ak", "ek", "host", "migrations" };
	json_object *v;
	const char *s;

	if (bjson_str(top, "format", 1, 64, &s, NULL, err) || strcmp(s, BUNDLE_FORMAT))
		return bjson_fail(err, BUNDLE_ERR_FORMAT, "format", "not " BUNDLE_FORMAT);
	v = bjson_get(top, "version", json_type_int, err);
	if (!v || (json_object_get_int64(v) != BUNDLE_VERSION &&
		   json_object_get_int64(v) != BUNDLE_VERSION_HOST))
		return bjson_fail(err, BUNDLE_ERR_FORMAT, "version", "unsupported");
	b->version = (int)json_object_get_int64(v);
	/* "host" is required in version 2 (bjson_get), "migrations" optional;
	 * both unknown in version 1. */
	if (bjson_keys(top, "bundle", keys, ARRAY_SIZE(keys) - 2 * (b->version == BUNDLE_VERSION),
		       err))
		return -EBADMSG;
	if (bjson_str(top, "created", 1, sizeof(b->created) - 1, &s, NULL, err) ||
	    bundle_created_time(s) < 0)
		return bjson_fail(err, 0, "created", "not YYYY-MM-DDTHH:MM:SSZ (RFC 3339, UTC, "
				  "whole seconds)");
	snprintf(b->created, sizeof(b->created), "%s", s);
	v = bjson_get(top, "nonce", json_type_string, err);
	if (!v || bjson_hex(v, "nonce", b->nonce, sizeof(b->nonce), 0, &b->nonce_len, err))
		return -EBADMSG;
	if (b->nonce_len < BUNDLE_MIN_NONCE)
		return bjson_fail(err, 0, "nonce", "shorter than 16 bytes");
	return 0;
}

static int parse_body(json_object *top, struct bundle *b, struct bundle_error *err)
{
	static const char *const qkeys[] = { "attest", "signature" };
	json_object *q, *v;

	if (parse_guest(top, b, err) || parse_pcrs(top, &b->pcrs, err))
		return -EBADMSG;
	q = bjson_get(top, "quote", json_type_object, err);
	if (!q || bjson_keys(q, "quote", qkeys, ARRAY_SIZE(qkeys), err))
		return -EBADMSG;
	if (!(v = bjson_get(q, "attest", json_type_string, err)) ||
	    bjson_b64(v, "attest", BUNDLE_MAX_TPM, &b->attest, err))
		return -EBADMSG;
	if (!(v = bjson_get(q, "signature", json_type_string, err)) ||
	    bjson_b64(v, "signature", BUNDLE_MAX_TPM, &b->signature, err))
		return -EBADMSG;
	if (!(v = bjson_get(top, "event_log", json_type_string, err)) ||
	    bjson_b64(v, "event_log", EVLOG_MAX_SIZE, &b->event_log, err))
		return -EBADMSG;
	if (parse_chain(top, "ak", &b->ak_public, &b->ak, err) ||
	    parse_chain(top, "ek", NULL, &b->ek, err))
		return -EBADMSG;
	return 0;
}

/* o[key], a base64 string of 1..cap bytes, into *out. */
static int parse_b64(json_object *o, const char *key, size_t cap, struct bundle_blob *out,
		     struct bundle_error *err)
{
	json_object *v = bjson_get(o, key, json_type_string, err);

	return !v || bjson_b64(v, key, cap, out, err) ? -EBADMSG : 0;
}

/* Version 2, optional: "host"."enrollment" (BUNDLE.md, "Enrollment bound to the host"). */
static int parse_enroll(json_object *host, struct bundle_host *h, struct bundle_error *err)
{
	static const char *const keys[] = { "attest", "signature", "pcr10", "ima_log" };
	json_object *o = bjson_get(host, "enrollment", json_type_object, err);
	struct bundle_host_enroll *e = &h->enroll;

	if (!o || bjson_keys(o, "host.enrollment", keys, ARRAY_SIZE(keys), err) ||
	    parse_b64(o, "attest", BUNDLE_MAX_TPM, &e->attest, err) ||
	    parse_b64(o, "signature", BUNDLE_MAX_TPM, &e->signature, err) ||
	    bjson_hex(bjson_get(o, "pcr10", json_type_string, err), "host.enrollment.pcr10",
		      e->pcr10, sizeof(e->pcr10), evlog_alg_size(h->pcr_alg), NULL, err) ||
	    parse_b64(o, "ima_log", IMALOG_MAX_SIZE, &e->ima_log, err))
		return -EBADMSG;
	e->present = 1;
	return 0;
}

/* The host quote's fields of o (the "host" object, or one of "migrations"). */
static int parse_host_fields(json_object *o, const char *where, size_t ima_max,
			     struct bundle_host *h, struct bundle_error *err)
{
	char field[48];
	const char *bank;

	if (parse_b64(o, "attest", BUNDLE_MAX_TPM, &h->attest, err) ||
	    parse_b64(o, "signature", BUNDLE_MAX_TPM, &h->signature, err) ||
	    bjson_str(o, "pcr_bank", 1, 16, &bank, NULL, err))
		return -EBADMSG;
	h->pcr_alg = bundle_bank_alg(bank);
	snprintf(field, sizeof(field), "%s.pcr_bank", where);
	if (!h->pcr_alg)
		return bjson_fail(err, 0, field, "unknown bank");
	snprintf(field, sizeof(field), "%s.pcr10", where);
	if (bjson_hex(bjson_get(o, "pcr10", json_type_string, err), field, h->pcr10,
		      sizeof(h->pcr10), evlog_alg_size(h->pcr_alg), NULL, err) ||
	    parse_b64(o, "ima_log", ima_max, &h->ima_log, err) ||
	    parse_chain(o, "ak", &h->ak_public, &h->ak, err) ||
	    parse_chain(o, "ek", NULL, &h->ek, err))
		return -EBADMSG;
	return 0;
}

/* Version 2: "host" (BUNDLE.md, "Host evidence"). */
static int parse_host(json_object *top, struct bundle_host *h, struct bundle_error *err)
{
	static const char *const keys[] = { "attest", "signature", "pcr_bank", "pcr10",
		"ima_log", "ak", "ek", "enrollment" };
	json_object *o = bjson_get(top, "host", json_type_object, err);

	if (!o || bjson_keys(o, "host", keys, ARRAY_SIZE(keys), err) ||
	    parse_host_fields(o, "host", IMALOG_MAX_SIZE, h, err))
		return -EBADMSG;
	return json_object_object_get_ex(o, "enrollment", NULL) ? parse_enroll(o, h, err) : 0;
}

/* Version 2, optional: "migrations" (BUNDLE.md section 9), 1..BUNDLE_MAX_HOPS. */
static int parse_hops(json_object *top, struct bundle *b, struct bundle_error *err)
{
	static const char *const keys[] = { "stream_sha256", "attest", "signature", "pcr_bank",
		"pcr10", "ima_log", "ak", "ek" };
	json_object *a = bjson_get(top, "migrations", json_type_array, err);
	size_t n = a ? json_object_array_length(a) : 0;

	if (!a)
		return -EBADMSG;
	if (n < 1 || n > BUNDLE_MAX_HOPS)
		return bjson_fail(err, 0, "migrations", "not 1..4 entries");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		struct bundle_hop *h = &b->hops[i];

		b->nhops = i + 1;     /* freed by bundle_free whatever happens below */
		if (!json_object_is_type(o, json_type_object))
			return bjson_fail(err, 0, "migrations", "an entry is not an object");
		if (bjson_keys(o, "migrations[]", keys, ARRAY_SIZE(keys), err) ||
		    bjson_hex(bjson_get(o, "stream_sha256", json_type_string, err),
			      "migrations.stream_sha256", h->stream_sha256, 32, 32, NULL, err) ||
		    parse_host_fields(o, "migrations", BUNDLE_HOP_IMA_MAX, &h->host, err))
			return -EBADMSG;
	}
	return 0;
}

long long bundle_created_time(const char *s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm = { 0 };
	char again[sizeof(form)];
	time_t t;

	if (strlen(s) != strlen(form))
		return -1;
	for (size_t i = 0; form[i]; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
			return -1;
	if (!strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	t = timegm(&tm);
	/* One spelling of one instant: no 24:00, no 61 seconds, no Feb 30. */
	if (t < 0 || !gmtime_r(&t, &tm) ||
	    !strftime(again, sizeof(again), "%Y-%m-%dT%H:%M:%SZ", &tm) || strcmp(again, s))
		return -1;
	return (long long)t;
}

/*
 * Only a version 2 bundle may be larger than BUNDLE_MAX_SIZE, and the
 * canonical form says so in its first bytes; anything else is bounded
 * before JSON parsing as before.
 */
size_t bundle_max_size(const uint8_t *buf, size_t len)
{
	static const char v2[] = "{\n  \"format\":\"" BUNDLE_FORMAT "\",\n  \"version\":2,\n";

	return len >= sizeof(v2) - 1 && !memcmp(buf, v2, sizeof(v2) - 1) ?
	       BUNDLE_MAX_SIZE_HOST : BUNDLE_MAX_SIZE;
}

/* The bytes read must be the ones the writer makes of what they say. */
static int canonical_check(const uint8_t *buf, size_t len, const struct bundle *b,
			   struct bundle_error *err)
{
	char why[96];
	size_t at = 0;
	int rc = bundle_canonical(buf, len, b, &at);

	if (rc && rc != -ENOMEM) {
		snprintf(why, sizeof(why), "not the canonical encoding from byte %zu (key order, "
			 "spacing, escapes or a repeated key)", at);
		rc = bjson_fail(err, BUNDLE_ERR_CANONICAL, "bundle", why);
	}
	return rc;
}

int bundle_parse(const uint8_t *buf, size_t len, struct bundle *b, struct bundle_error *err)
{
	json_object *top = NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = bjson_parse(buf, len, bundle_max_size(buf, len), &top, err);
	if (rc)
		return rc;
	rc = parse_head(top, b, err);
	rc = rc ? rc : parse_body(top, b, err);
	rc = rc || b->version != BUNDLE_VERSION_HOST ? rc : parse_host(top, &b->host, err);
	if (!rc && b->version == BUNDLE_VERSION_HOST &&
	    json_object_object_get_ex(top, "migrations", NULL))
		rc = parse_hops(top, b, err);
	rc = rc ? rc : canonical_check(buf, len, b, err);
	json_object_put(top);
	if (rc) {
		if (rc != -EBADMSG)
			bjson_fail(err, 0, "bundle", "out of memory");
		bundle_free(b);
		return -EBADMSG;
	}
	return 0;
}

void bundle_free(struct bundle *b)
{
	free(b->attest.data);
	free(b->signature.data);
	free(b->ak_public.data);
	free(b->event_log.data);
	bundle_chain_free(&b->ak);
	bundle_chain_free(&b->ek);
	bundle_host_free(&b->host);
	for (size_t i = 0; i < b->nhops && i < BUNDLE_MAX_HOPS; i++)
		bundle_hop_free(&b->hops[i]);
	memset(b, 0, sizeof(*b));
}
