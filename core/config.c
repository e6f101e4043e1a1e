/* SPDX-License-Identifier: Apache-2.0 */
/* Guest configuration: flags, JSON file, validation, canonical form. */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

enum config_kind { KIND_STR, KIND_U64 };

struct config_key {
	const char *key;
	enum config_kind kind;
	int (*set)(struct vm_config *cfg, const char *value, const char *what);
};

static int config_parse_u64(const char *s, uint64_t min, uint64_t max,
			    uint64_t *out, const char *what)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	log_err("%s: must be a whole number from %llu to %llu, got '%.32s'", what,
		(unsigned long long)min, (unsigned long long)max, s);
	return -EINVAL;
}

static int config_set_name(struct vm_config *cfg, const char *v, const char *what)
{
	size_t n = strlen(v);

	if (n == 0 || n > CONFIG_NAME_MAX) {
		log_err("%s: must be 1 to %d characters", what, CONFIG_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) {
			log_err("%s: '%s': only letters, digits, '-', '_' and '.' "
				"are allowed, starting with a letter or digit", what, v);
			return -EINVAL;
		}
	}
	memcpy(cfg->name, v, n + 1);
	return 0;
}

static int config_copy_path(char *dst, const char *v, const char *what,
			    int allow_empty)
{
	size_t n = strlen(v);

	if (n == 0 && !allow_empty) {
		log_err("%s: must not be empty", what);
		return -EINVAL;
	}
	if (n >= PATH_MAX) {
		log_err("%s: path longer than %d bytes", what, PATH_MAX - 1);
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int config_set_kernel(struct vm_config *cfg, const char *v, const char *what)
{
	return config_copy_path(cfg->kernel, v, what, 0);
}

static int config_set_initrd(struct vm_config *cfg, const char *v, const char *what)
{
	return config_copy_path(cfg->initrd, v, what, 1);
}

static int config_set_cmdline(struct vm_config *cfg, const char *v, const char *what)
{
	size_t n = strlen(v);

	if (n > CONFIG_CMDLINE_MAX) {
		log_err("%s: longer than %d bytes", what, CONFIG_CMDLINE_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x20 || v[i] > 0x7e) {
			log_err("%s: byte %zu is not printable ASCII", what, i);
			return -EINVAL;
		}
	}
	memcpy(cfg->cmdline, v, n + 1);
	return 0;
}

static int config_set_cpus(struct vm_config *cfg, const char *v, const char *what)
{
	uint64_t n;
	int rc = config_parse_u64(v, 1, VM_MAX_CPUS, &n, what);

	if (!rc)
		cfg->cpus = (uint32_t)n;
	return rc;
}

static int config_set_memory(struct vm_config *cfg, const char *v, const char *what)
{
	return config_parse_u64(v, VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB,
				&cfg->memory_mib, what);
}

/* The canonical key order is this table's order. */
static const struct config_key config_keys[] = {
	{ "name", KIND_STR, config_set_name },
	{ "cpus", KIND_U64, config_set_cpus },
	{ "memory", KIND_U64, config_set_memory },
	{ "kernel", KIND_STR, config_set_kernel },
	{ "initrd", KIND_STR, config_set_initrd },
	{ "cmdline", KIND_STR, config_set_cmdline },
};

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->name, "guest");
	strcpy(cfg->cmdline, "console=ttyS0");
	cfg->cpus = 1;
	cfg->memory_mib = 256;
}

static const struct config_key *config_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strcmp(config_keys[i].key, key))
			return &config_keys[i];
	return NULL;
}

int config_set(struct vm_config *cfg, const char *flag, const char *value,
	       const char *what)
{
	const struct config_key *k = config_find(flag);

	if (!k)
		return -ENOENT;
	return k->set(cfg, value, what);
}

static int config_apply_value(struct vm_config *cfg, const struct config_key *k,
			      struct json_object *v, const char *what)
{
	const char *s;

	if (k->kind == KIND_STR) {
		if (!json_object_is_type(v, json_type_string)) {
			log_err("%s: must be a string", what);
			return -EINVAL;
		}
		s = json_object_get_string(v);
		if (strlen(s) != (size_t)json_object_get_string_len(v)) {
			log_err("%s: contains a NUL character", what);
			return -EINVAL;
		}
		return k->set(cfg, s, what);
	}
	if (!json_object_is_type(v, json_type_int)) {
		log_err("%s: must be a whole number", what);
		return -EINVAL;
	}
	return k->set(cfg, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), what);
}

static struct json_object *config_parse_text(const char *text, size_t len,
					     const char *origin)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (len > CONFIG_FILE_MAX || memchr(text, '\0', len)) {
		log_err("%s: larger than %d bytes or contains NUL bytes", origin,
			CONFIG_FILE_MAX);
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) < len) {
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", text[i]))
				jerr = json_tokener_error_parse_unexpected;
	}
	if (!obj || jerr != json_tokener_success) {
		log_err("%s: not valid JSON (%s at byte %zu)", origin,
			json_tokener_error_desc(jerr == json_tokener_success ?
				json_tokener_continue : jerr),
			json_tokener_get_parse_end(tok));
		json_object_put(obj);
		obj = NULL;
	} else if (!json_object_is_type(obj, json_type_object)) {
		log_err("%s: must be a JSON object", origin);
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int config_apply_json(struct vm_config *cfg, const char *text, size_t len,
		      const char *origin)
{
	struct json_object *obj = config_parse_text(text, len, origin);
	char what[PATH_MAX + 64];
	int rc = 0;

	if (!obj)
		return -EINVAL;
	json_object_object_foreach(obj, key, val) {
		const struct config_key *k = config_find(key);

		snprintf(what, sizeof(what), "%s: key '%.32s'", origin, key);
		if (!k) {
			log_err("%s: unknown setting", what);
			rc = -EINVAL;
			break;
		}
		rc = config_apply_value(cfg, k, val, what);
		if (rc)
			break;
	}
	json_object_put(obj);
	return rc;
}

int config_load_file(struct vm_config *cfg, const char *path)
{
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		log_err("--config: %s: %s", path, strerror(errno));
		return rc;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	while ((n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX)
			break;
	}
	if (n < 0) {
		rc = -errno;
		log_err("--config: %s: %s", path, strerror(errno));
		goto out_free;
	}
	rc = config_apply_json(cfg, buf, len, path);
out_free:
	free(buf);
out_close:
	close(fd);
	return rc;
}

int config_validate(const struct vm_config *cfg)
{
	if (!cfg->kernel[0]) {
		log_err("--kernel: required (a bzImage path)");
		return -EINVAL;
	}
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS) {
		log_err("--cpus: must be from 1 to %d", VM_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->memory_mib < VM_MIN_MEMORY_MIB || cfg->memory_mib > VM_MAX_MEMORY_MIB) {
		log_err("--memory: must be from %llu to %llu MiB",
			VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
		return -EINVAL;
	}
	return 0;
}

static struct json_object *config_to_json(const struct vm_config *cfg)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	/* Insertion order is serialization order: config_keys' order. */
	if (json_object_object_add(o, "name", json_object_new_string(cfg->name)) ||
	    json_object_object_add(o, "cpus", json_object_new_int64(cfg->cpus)) ||
	    json_object_object_add(o, "memory",
				   json_object_new_uint64(cfg->memory_mib)) ||
	    json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel)) ||
	    json_object_object_add(o, "initrd", json_object_new_string(cfg->initrd)) ||
	    json_object_object_add(o, "cmdline", json_object_new_string(cfg->cmdline))) {
		json_object_put(o);
		return NULL;
	}
	static_assert(ARRAY_SIZE(config_keys) == 6, "config_to_json lists every key");
	return o;
}

int config_canonical(const struct vm_config *cfg, char **out, size_t *len)
{
	struct json_object *o = config_to_json(cfg);
	const char *s;
	size_t n;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	*out = s ? strndup(s, n) : NULL;
	json_object_put(o);
	if (!*out)
		return -ENOMEM;
	*len = n;
	return 0;
}

int config_from_canonical(struct vm_config *cfg, const char *buf, size_t len)
{
	struct vm_config tmp;
	char *again = NULL;
	size_t again_len = 0;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	rc = config_apply_json(&tmp, buf, len, "canonical config");
	if (!rc)
		rc = config_validate(&tmp);
	if (!rc)
		rc = config_canonical(&tmp, &again, &again_len);
	if (!rc && (again_len != len || memcmp(again, buf, len))) {
		log_err("canonical config: not in canonical form");
		rc = -EINVAL;
	}
	free(again);
	if (!rc)
		*cfg = tmp;
	return rc;
}
