/* SPDX-License-Identifier: Apache-2.0 */
/* Evidence bundles: the writer (the producer side, `bulwark attest`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "attest/format/bundle.h"
#include "core/util.h"

static json_object *b64_value(const struct bundle_blob *blob)
{
	char *s = malloc(4 * ((blob->len + 2) / 3) + 1);
	json_object *o;

	if (!s)
		return NULL;
	bundle_b64_encode(blob->data, blob->len, s);
	o = json_object_new_string(s);
	free(s);
	return o;
}

static json_object *hex_value(const uint8_t *b, size_t len)
{
	char s[2 * BUNDLE_MAX_NONCE + 1];

	if (len > BUNDLE_MAX_NONCE)
		return NULL;
	bundle_hex_encode(b, len, s);
	return json_object_new_string(s);
}

/* json_object_object_add that fails on a NULL value (allocation failure). */
static int add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_object_add(o, key, v) ? -ENOMEM : 0;
}

static json_object *chain_value(const struct bundle_chain *c, const struct bundle_blob *pub)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int rc = o && arr ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < c->nchain; i++)
		rc = json_object_array_add(arr, b64_value(&c->chain[i]));
	if (!rc && pub)
		rc = add(o, "public", b64_value(pub));
	rc = rc ? rc : add(o, "certificate", b64_value(&c->cert));
	rc = rc ? rc : add(o, "chain", arr);
	if (rc) {
		if (!o || !json_object_object_get_ex(o, "chain", NULL))
			json_object_put(arr);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *pcrs_value(const struct bundle_pcrs *p)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;

	for (uint32_t i = 0; !rc && i < p->banks.count; i++) {
		json_object *bank = json_object_new_object();

		for (uint32_t pcr = 0; bank && !rc && pcr < EVLOG_NUM_PCRS; pcr++) {
			char key[4];

			if (!(p->mask[i] & (1u << pcr)))
				continue;
			snprintf(key, sizeof(key), "%u", pcr);
			rc = add(bank, key, hex_value(p->value[i][pcr], p->banks.size[i]));
		}
		if (rc || !bank) {
			json_object_put(bank);
			rc = -ENOMEM;
			break;
		}
		rc = add(o, evlog_alg_name(p->banks.alg[i]), bank);
	}
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int top_fill(json_object *top, const struct bundle *b)
{
	json_object *guest = json_object_new_object(), *quote = json_object_new_object();
	int rc;

	rc = add(top, "format", json_object_new_string(BUNDLE_FORMAT));
	rc = rc ? rc : add(top, "version", json_object_new_int(BUNDLE_VERSION));
	rc = rc ? rc : add(top, "created", json_object_new_string(b->created));
	if (guest && !rc) {
		rc = add(guest, "name", json_object_new_string(b->name));
		rc = rc ? rc : add(guest, "uuid", json_object_new_string(b->uuid));
		rc = rc ? rc : add(guest, "label", json_object_new_string(b->label));
	}
	rc = rc ? rc : add(top, "guest", guest);
	if (!rc)
		guest = NULL;
	rc = rc ? rc : add(top, "nonce", hex_value(b->nonce, b->nonce_len));
	if (quote && !rc) {
		rc = add(quote, "attest", b64_value(&b->attest));
		rc = rc ? rc : add(quote, "signature", b64_value(&b->signature));
	}
	rc = rc ? rc : add(top, "quote", quote);
	if (!rc)
		quote = NULL;
	rc = rc ? rc : add(top, "pcrs", pcrs_value(&b->pcrs));
	rc = rc ? rc : add(top, "event_log", b64_value(&b->event_log));
	rc = rc ? rc : add(top, "ak", chain_value(&b->ak, &b->ak_public));
	rc = rc ? rc : add(top, "ek", chain_value(&b->ek, NULL));
	json_object_put(guest);
	json_object_put(quote);
	return rc;
}

int bundle_write(const struct bundle *b, char **out, size_t *out_len)
{
	json_object *top = json_object_new_object();
	const char *s;
	size_t n;
	int rc;

	if (!top)
		return -ENOMEM;
	rc = top_fill(top, b);
	if (rc)
		goto out;
	s = json_object_to_json_string_length(top, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	*out = s ? malloc(n + 2) : NULL;
	if (!*out) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*out_len = n + 1;
out:
	json_object_put(top);
	return rc;
}
