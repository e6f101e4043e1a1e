/* SPDX-License-Identifier: Apache-2.0 */
/* Reference manifests: the writer (`bulwark reference`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "attest/format/manifest.h"
#include "core/util.h"

static json_object *hex_string(const uint8_t *b, size_t len)
{
	char s[2 * EVLOG_MAX_DIGEST + 1];

	hex_encode(b, len, s);
	return json_object_new_string(s);
}

/* Adds v to o (object, key) or arr (array); NULL v or failure: -ENOMEM. */
static int put(json_object *o, const char *key, json_object *v)
{
	int rc = !v ? -1 : key ? json_object_object_add(o, key, v) :
		json_object_array_add(o, v);

	if (rc && v)
		json_object_put(v);
	return rc ? -ENOMEM : 0;
}

static json_object *value_json(const struct manifest *m, const struct manifest_value *v)
{
	json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;

	for (uint32_t i = 0; !rc && i < m->banks.count; i++)
		rc = put(o, evlog_alg_name(m->banks.alg[i]),
			 hex_string(v->digest[i], m->banks.size[i]));
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int items_json(json_object *top, const struct manifest *m)
{
	int rc = 0;

	for (int it = 0; !rc && it < MANIFEST_ITEMS; it++) {
		json_object *arr;

		if (it == MANIFEST_ACPI && !m->acpi_pinned)
			continue;
		arr = json_object_new_array();
		for (size_t i = 0; arr && !rc && i < m->item[it].count; i++)
			rc = put(arr, NULL, value_json(m, &m->item[it].v[i]));
		if (rc) {
			json_object_put(arr);
			return rc;
		}
		rc = put(top, manifest_item_name(it), arr);
	}
	return rc;
}

static json_object *sha_array(const uint8_t (*v)[32], size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < n; i++)
		if (put(arr, NULL, hex_string(v[i], 32))) {
			json_object_put(arr);
			return NULL;
		}
	return arr;
}

static int policy_json(json_object *top, const struct manifest *m)
{
	json_object *se = json_object_new_object(), *lab = json_object_new_object();
	json_object *sc = json_object_new_object(), *f = json_object_new_object();
	json_object *off = json_object_new_array(), *svirt = json_object_new_array();
	int rc = se && lab && sc && f && off && svirt ? 0 : -ENOMEM;

	rc = rc ? rc : put(se, "enforcing", json_object_new_boolean(m->selinux_enforcing));
	rc = rc ? rc : put(se, "policy_sha256", sha_array(m->policy_sha256, m->npolicy));
	rc = rc ? rc : put(lab, "user", json_object_new_string(m->label_user));
	rc = rc ? rc : put(lab, "role", json_object_new_string(m->label_role));
	rc = rc ? rc : put(lab, "type", json_object_new_string(m->label_type));
	rc = rc ? rc : put(lab, "sensitivity", json_object_new_string(m->label_sensitivity));
	for (size_t i = 0; !rc && i < m->nroles; i++)
		rc = put(f, m->roles[i].role, sha_array(m->roles[i].sha256, m->roles[i].count));
	for (unsigned mode = 1; !rc && mode <= MANIFEST_SVIRT_OFF; mode <<= 1)
		if (m->svirt_allowed & mode)
			rc = put(svirt, NULL, json_object_new_string(manifest_svirt_name(mode)));
	rc = rc ? rc : put(sc, "required", json_object_new_boolean(m->seccomp_required));
	for (size_t i = 0; !rc && i < m->noff; i++)
		rc = put(off, NULL, json_object_new_string(m->off_allowed[i]));
	/* Each put() below takes ownership, even on failure. */
	rc = rc ? rc : put(sc, "filters", json_object_get(f));
	rc = rc ? rc : put(top, "selinux", json_object_get(se));
	rc = rc ? rc : put(top, "label", json_object_get(lab));
	rc = rc ? rc : put(top, "svirt", json_object_get(svirt));
	rc = rc ? rc : put(top, "seccomp", json_object_get(sc));
	rc = rc ? rc : put(top, "protections_off", json_object_get(off));
	/* Always said, so that a reader need not know the default. */
	rc = rc ? rc : put(top, "host_evidence",
			   json_object_new_string(m->host_required ? "required" : "guest-only"));
	if (m->allow_restore)
		rc = rc ? rc : put(top, "allow_restore", json_object_new_boolean(1));
	if (m->allow_migrate)
		rc = rc ? rc : put(top, "allow_migrate", json_object_new_boolean(1));
	json_object_put(se);
	json_object_put(lab);
	json_object_put(sc);
	json_object_put(f);
	json_object_put(off);
	json_object_put(svirt);
	return rc;
}

int manifest_write(const struct manifest *m, char **out, size_t *out_len)
{
	json_object *top = json_object_new_object(), *banks = json_object_new_array();
	const char *s;
	size_t n;
	int rc = top && banks ? 0 : -ENOMEM;

	rc = rc ? rc : put(top, "format", json_object_new_string(MANIFEST_FORMAT));
	rc = rc ? rc : put(top, "version", json_object_new_int(MANIFEST_VERSION));
	rc = rc ? rc : put(top, "id", json_object_new_string(m->id));
	for (uint32_t i = 0; !rc && i < m->banks.count; i++)
		rc = put(banks, NULL, json_object_new_string(evlog_alg_name(m->banks.alg[i])));
	rc = rc ? rc : put(top, "banks", json_object_get(banks));
	rc = rc ? rc : items_json(top, m);
	rc = rc ? rc : policy_json(top, m);
	s = rc ? NULL : json_object_to_json_string_length(top, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	*out = s ? malloc(n + 2) : NULL;
	if (*out) {
		memcpy(*out, s, n);
		(*out)[n] = '\n';
		(*out)[n + 1] = '\0';
		*out_len = n + 1;
	}
	rc = rc ? rc : *out ? 0 : -ENOMEM;
	json_object_put(banks);
	json_object_put(top);
	return rc;
}
