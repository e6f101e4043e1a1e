/* SPDX-License-Identifier: Apache-2.0 */
/* Reference manifests: strict parser (manifest.h, BUNDLE.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attest/format/bundle_json.h"
#include "attest/format/manifest.h"
#include "core/util.h"

static const char *const item_names[MANIFEST_ITEMS] = {
	[MANIFEST_VMM] = "vmm_identity", [MANIFEST_CONFIG] = "config",
	[MANIFEST_ACPI] = "acpi", [MANIFEST_KERNEL] = "kernel",
	[MANIFEST_CMDLINE] = "cmdline", [MANIFEST_INITRD] = "initrd",
};

const char *manifest_item_name(enum manifest_item item)
{
	return item < MANIFEST_ITEMS ? item_names[item] : "?";
}

int manifest_bank(const struct manifest *m, uint16_t alg)
{
	for (uint32_t i = 0; i < m->banks.count; i++)
		if (m->banks.alg[i] == alg)
			return (int)i;
	return -1;
}

/* [a-z0-9_-] words: SELinux identifiers, roles, protection names. */
static int word(json_object *j, const char *field, char *out, struct bundle_error *err)
{
	const char *s = json_object_is_type(j, json_type_string) ? json_object_get_string(j) : NULL;
	size_t n = s ? strlen(s) : 0;

	if (!n || n > MANIFEST_WORD_MAX || n != (size_t)json_object_get_string_len(j))
		return bjson_fail(err, 0, field, "not a word of 1..63 characters");
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_' && s[i] != '-')
			return bjson_fail(err, 0, field, "not [a-z0-9_-]");
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_banks(json_object *top, struct manifest *m, struct bundle_error *err)
{
	json_object *arr = bjson_get(top, "banks", json_type_array, err);
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (!n || n > EVLOG_MAX_BANKS)
		return bjson_fail(err, 0, "banks", "1 to 4 bank names");
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(arr, i);
		uint16_t alg = json_object_is_type(j, json_type_string) ?
			bundle_bank_alg(json_object_get_string(j)) : 0;

		if (!alg || manifest_bank(m, alg) >= 0)
			return bjson_fail(err, 0, "banks", "unknown or repeated bank");
		m->banks.alg[i] = alg;
		m->banks.size[i] = evlog_alg_size(alg);
		m->banks.count++;
	}
	return 0;
}

/* {"sha256": "hex", "sha384": "hex"}: exactly the manifest's banks. */
static int parse_value(json_object *j, const char *field, const struct manifest *m,
		       struct manifest_value *v, struct bundle_error *err)
{
	if (!json_object_is_type(j, json_type_object) ||
	    json_object_object_length(j) != (int)m->banks.count)
		return bjson_fail(err, 0, field, "not one digest per bank");
	json_object_object_foreach(j, bank, hex) {
		int i = manifest_bank(m, bundle_bank_alg(bank));

		if (i < 0)
			return bjson_fail(err, 0, field, "digest of a bank not in banks");
		if (bjson_hex(hex, field, v->digest[i], EVLOG_MAX_DIGEST, m->banks.size[i], NULL,
			      err))
			return -EBADMSG;
	}
	return 0;
}

static int parse_items(json_object *top, struct manifest *m, struct bundle_error *err)
{
	for (int it = 0; it < MANIFEST_ITEMS; it++) {
		const char *key = item_names[it];
		json_object *arr;
		size_t n;

		if (it == MANIFEST_ACPI && !json_object_object_get_ex(top, key, NULL))
			continue;
		m->acpi_pinned |= it == MANIFEST_ACPI;
		arr = bjson_get(top, key, json_type_array, err);
		n = arr ? json_object_array_length(arr) : 0;
		/* Only the initrd may have an empty list: "must be absent". */
		if (!arr || n > MANIFEST_MAX_VALUES || (!n && it != MANIFEST_INITRD))
			return bjson_fail(err, 0, key, "not a list of 1..16 values");
		for (size_t i = 0; i < n; i++)
			if (parse_value(json_object_array_get_idx(arr, i), key, m,
					&m->item[it].v[i], err))
				return -EBADMSG;
		m->item[it].count = n;
	}
	return 0;
}

static int sha_list(json_object *arr, const char *field, uint8_t (*out)[32], size_t *n,
		    struct bundle_error *err)
{
	size_t len = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (!len || len > MANIFEST_MAX_VALUES)
		return bjson_fail(err, 0, field, "not a list of 1..16 digests");
	for (size_t i = 0; i < len; i++)
		if (bjson_hex(json_object_array_get_idx(arr, i), field, out[i], 32, 32, NULL, err))
			return -EBADMSG;
	*n = len;
	return 0;
}

static int parse_selinux(json_object *top, struct manifest *m, struct bundle_error *err)
{
	static const char *const keys[] = { "enforcing", "policy_sha256" };
	static const char *const lkeys[] = { "user", "role", "type", "sensitivity" };
	json_object *o = bjson_get(top, "selinux", json_type_object, err), *l, *v;

	if (!o || bjson_keys(o, "selinux", keys, ARRAY_SIZE(keys), err))
		return -EBADMSG;
	v = bjson_get(o, "enforcing", json_type_boolean, err);
	if (!v)
		return -EBADMSG;
	m->selinux_enforcing = json_object_get_boolean(v);
	if (sha_list(bjson_get(o, "policy_sha256", json_type_array, err), "policy_sha256",
		     m->policy_sha256, &m->npolicy, err))
		return -EBADMSG;
	l = bjson_get(top, "label", json_type_object, err);
	if (!l || bjson_keys(l, "label", lkeys, ARRAY_SIZE(lkeys), err))
		return -EBADMSG;
	if (!(v = bjson_get(l, "user", json_type_string, err)) ||
	    word(v, "label.user", m->label_user, err) ||
	    !(v = bjson_get(l, "role", json_type_string, err)) ||
	    word(v, "label.role", m->label_role, err) ||
	    !(v = bjson_get(l, "type", json_type_string, err)) ||
	    word(v, "label.type", m->label_type, err) ||
	    !(v = bjson_get(l, "sensitivity", json_type_string, err)) ||
	    word(v, "label.sensitivity", m->label_sensitivity, err))
		return -EBADMSG;
	return 0;
}

static int parse_seccomp(json_object *top, struct manifest *m, struct bundle_error *err)
{
	static const char *const keys[] = { "required", "filters" };
	json_object *o = bjson_get(top, "seccomp", json_type_object, err), *v, *f;

	if (!o || bjson_keys(o, "seccomp", keys, ARRAY_SIZE(keys), err))
		return -EBADMSG;
	if (!(v = bjson_get(o, "required", json_type_boolean, err)) ||
	    !(f = bjson_get(o, "filters", json_type_object, err)))
		return -EBADMSG;
	m->seccomp_required = json_object_get_boolean(v);
	if (json_object_object_length(f) > MANIFEST_MAX_ROLES ||
	    (m->seccomp_required && !json_object_object_length(f)))
		return bjson_fail(err, 0, "seccomp.filters", "0..8 roles (1.. if required)");
	json_object_object_foreach(f, role, list) {
		struct manifest_role *r = &m->roles[m->nroles];
		json_object *name = json_object_new_string(role);
		int rc = name ? word(name, "seccomp.filters", r->role, err) : -ENOMEM;

		json_object_put(name);
		if (rc || sha_list(list, "seccomp.filters", r->sha256, &r->count, err))
			return rc ? rc : -EBADMSG;
		m->nroles++;
	}
	return 0;
}

static int parse_off(json_object *top, struct manifest *m, struct bundle_error *err)
{
	json_object *arr = bjson_get(top, "protections_off", json_type_array, err);

	if (!arr || json_object_array_length(arr) > MANIFEST_MAX_OFF)
		return bjson_fail(err, 0, "protections_off", "not a list of 0..16 names");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		if (word(json_object_array_get_idx(arr, i), "protections_off",
			 m->off_allowed[i], err))
			return -EBADMSG;
		m->noff++;
	}
	return 0;
}

static const char *const svirt_modes[] = { "dynamic", "static", "off" };

unsigned manifest_svirt_mode(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(svirt_modes); i++)
		if (strlen(svirt_modes[i]) == len && !memcmp(svirt_modes[i], name, len))
			return 1u << i;
	return 0;
}

const char *manifest_svirt_name(unsigned mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(svirt_modes); i++)
		if (mode == 1u << i)
			return svirt_modes[i];
	return "?";
}

/* "svirt": the allowed modes, 1..3 distinct names; absent: dynamic only. */
static int parse_svirt(json_object *top, struct manifest *m, struct bundle_error *err)
{
	json_object *arr;
	size_t n;

	m->svirt_allowed = MANIFEST_SVIRT_DYNAMIC;
	if (!json_object_object_get_ex(top, "svirt", NULL))
		return 0;
	arr = bjson_get(top, "svirt", json_type_array, err);
	n = arr ? json_object_array_length(arr) : 0;
	if (!n || n > ARRAY_SIZE(svirt_modes))
		return bjson_fail(err, 0, "svirt", "not a list of 1..3 modes");
	m->svirt_allowed = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		unsigned mode = json_object_is_type(v, json_type_string) ?
			manifest_svirt_mode(json_object_get_string(v),
					    (size_t)json_object_get_string_len(v)) : 0;

		if (!mode || (m->svirt_allowed & mode))
			return bjson_fail(err, 0, "svirt", "not dynamic, static or off, or repeated");
		m->svirt_allowed |= mode;
	}
	return 0;
}

/*
 * "host_evidence" (optional): "required" (a bundle without the host's
 * evidence is at best a warning) or "guest-only" (the auditor explicitly
 * accepts evidence that shows nothing of the host).  Absent: required, so
 * that guest-only evidence is never affirming by default (issue 15).
 */
static int parse_host(json_object *top, struct manifest *m, struct bundle_error *err)
{
	const char *s;

	m->host_required = 1;
	if (!json_object_object_get_ex(top, "host_evidence", NULL))
		return 0;
	if (bjson_str(top, "host_evidence", 1, 16, &s, NULL, err))
		return -EBADMSG;
	if (strcmp(s, "required") && strcmp(s, "guest-only"))
		return bjson_fail(err, 0, "host_evidence", "not \"required\" or \"guest-only\"");
	m->host_required = !strcmp(s, "required");
	return 0;
}

/*
 * "allow_restore" and "allow_migrate" (optional, booleans): whether a guest
 * restored from a snapshot, or arrived by live migration (attest/vtpm/
 * measure.h's restore and migration events), may be affirming.  Absent:
 * false.
 */
static int parse_flag(json_object *top, const char *key, int *out, struct bundle_error *err)
{
	json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(top, key, NULL))
		return 0;
	v = bjson_get(top, key, json_type_boolean, err);
	if (!v)
		return -EBADMSG;
	*out = json_object_get_boolean(v);
	return 0;
}

static int parse_restore(json_object *top, struct manifest *m, struct bundle_error *err)
{
	return parse_flag(top, "allow_restore", &m->allow_restore, err) ||
	       parse_flag(top, "allow_migrate", &m->allow_migrate, err) ? -EBADMSG : 0;
}

static int parse_all(json_object *top, struct manifest *m, struct bundle_error *err)
{
	static const char *const keys[] = { "format", "version", "id", "banks",
		"vmm_identity", "config", "acpi", "kernel", "cmdline", "initrd", "selinux",
		"label", "svirt", "seccomp", "protections_off", "host_evidence",
		"allow_restore", "allow_migrate" };
	json_object *v;
	const char *s;

	if (bjson_keys(top, "manifest", keys, ARRAY_SIZE(keys), err))
		return -EBADMSG;
	if (bjson_str(top, "format", 1, 64, &s, NULL, err) || strcmp(s, MANIFEST_FORMAT))
		return bjson_fail(err, BUNDLE_ERR_FORMAT, "format", "not " MANIFEST_FORMAT);
	v = bjson_get(top, "version", json_type_int, err);
	if (!v || json_object_get_int64(v) != MANIFEST_VERSION)
		return bjson_fail(err, BUNDLE_ERR_FORMAT, "version", "unsupported");
	if (bjson_str(top, "id", 1, sizeof(m->id) - 1, &s, NULL, err))
		return -EBADMSG;
	snprintf(m->id, sizeof(m->id), "%s", s);
	for (size_t i = 0; m->id[i]; i++)
		if (m->id[i] < 0x20 || m->id[i] > 0x7e)
			return bjson_fail(err, 0, "id", "not printable");
	if (parse_banks(top, m, err) || parse_items(top, m, err) ||
	    parse_selinux(top, m, err) || parse_svirt(top, m, err) ||
	    parse_seccomp(top, m, err) || parse_off(top, m, err) || parse_host(top, m, err) ||
	    parse_restore(top, m, err))
		return -EBADMSG;
	return 0;
}

int manifest_parse(const uint8_t *buf, size_t len, struct manifest *m,
		   struct bundle_error *err)
{
	json_object *top = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = bjson_parse(buf, len, MANIFEST_MAX_SIZE, &top, err);
	if (rc)
		return rc;
	rc = parse_all(top, m, err);
	json_object_put(top);
	if (rc) {
		if (rc != -EBADMSG)
			bjson_fail(err, 0, "manifest", "out of memory");
		memset(m, 0, sizeof(*m));
		return -EBADMSG;
	}
	return 0;
}
