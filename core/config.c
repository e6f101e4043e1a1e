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

#include "core/json.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"
#include "core/devopts.h"

enum config_kind { KIND_STR, KIND_U64, KIND_BOOL, KIND_DISKS, KIND_NET, KIND_NONE };

/*
 * One setting.  KEY is its JSON name (NULL: flag only), FLAG its flag name
 * (NULL: JSON only).  SET takes a flag's string (NULL for KIND_NONE flags);
 * SET_JSON, when present, takes the JSON value instead of SET.
 */
struct config_key {
	const char *key;
	const char *flag;
	enum config_kind kind;
	int (*set)(struct vm_config *cfg, const char *value, const char *what);
	int (*set_json)(struct vm_config *cfg, struct json_object *v, const char *what);
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

/* Printable ASCII without spaces: what a label, a tap name or a path may
 * hold here (control bytes would reach logs and the measured JSON). */
static int config_check_chars(const char *v, const char *allowed_extra,
			      const char *what)
{
	for (size_t i = 0; v[i]; i++) {
		char c = v[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (!alnum && !strchr(allowed_extra, c)) {
			log_err("%s: character %zu ('%c') is not allowed here", what,
				i, c >= 0x20 && c < 0x7f ? c : '?');
			return -EINVAL;
		}
	}
	return 0;
}

static int config_set_serial(char *dst, const char *v, const char *what)
{
	size_t n = strlen(v);

	if (n > CONFIG_SERIAL_MAX) {
		log_err("%s: serial longer than %d characters", what, CONFIG_SERIAL_MAX);
		return -EINVAL;
	}
	if (config_check_chars(v, "._-", what))
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static int config_disk_add(struct vm_config *cfg, const struct config_disk *d,
			   const char *what)
{
	if (cfg->ndisks >= CONFIG_MAX_DISKS) {
		log_err("%s: at most %d disks", what, CONFIG_MAX_DISKS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		if (!strcmp(cfg->disks[i].path, d->path)) {
			log_err("%s: '%s' is already disk %u", what, d->path, i);
			return -EINVAL;
		}
	}
	cfg->disks[cfg->ndisks++] = *d;
	return 0;
}

/* --disk PATH[,readonly][,serial=ID]: the virtio-blk parser's syntax. */
static int config_set_disk(struct vm_config *cfg, const char *v, const char *what)
{
	struct disk_opts o;
	struct config_disk d;

	static_assert(CONFIG_MAX_DISKS == VIRTIO_BLK_MAX_DISKS, "one limit");
	static_assert(CONFIG_SERIAL_MAX == VIRTIO_BLK_SERIAL_MAX, "one limit");
	if (devopts_disk_parse(v, &o, what) ||
	    config_check_chars(o.path, "/._-+:@~%=", what))
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	memcpy(d.path, o.path, sizeof(d.path));
	d.readonly = o.readonly;
	memcpy(d.serial, o.serial, sizeof(d.serial));
	if (!cfg->disks_from_flags) {
		cfg->ndisks = 0;   /* flags override the file's disks */
		cfg->disks_from_flags = true;
	}
	return config_disk_add(cfg, &d, what);
}

/*
 * Without mac= the MAC is 52:54:00 and three bytes of an FNV-1a hash of the
 * tap name, not random: the MAC is part of the measured configuration, and
 * a random one would change the configuration PCR on every boot.
 */
static void config_default_mac(const char *tap, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; tap[i]; i++)
		h = (h ^ (uint8_t)tap[i]) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* --net tap=NAME[,mac=MAC]: the virtio-net parser's syntax. */
static int config_set_net(struct vm_config *cfg, const char *v, const char *what)
{
	struct net_opts o;

	if (devopts_net_parse(v, &o, what) || config_check_chars(o.tap, "._-", what))
		return -EINVAL;
	static_assert(sizeof(cfg->tap) == sizeof(o.tap), "IFNAMSIZ both");
	memcpy(cfg->tap, o.tap, sizeof(cfg->tap));
	if (strchr(v, ','))
		memcpy(cfg->mac, o.mac, sizeof(cfg->mac));
	else
		config_default_mac(cfg->tap, cfg->mac);
	cfg->net = true;
	return 0;
}

static int config_set_vtpm_on(struct vm_config *cfg, const char *v, const char *what)
{
	if (v) {
		log_err("%s: takes no value (--vtpm or --no-vtpm)", what);
		return -EINVAL;
	}
	cfg->vtpm = true;
	return 0;
}

static int config_set_vtpm_off(struct vm_config *cfg, const char *v, const char *what)
{
	if (v) {
		log_err("%s: takes no value (--vtpm or --no-vtpm)", what);
		return -EINVAL;
	}
	cfg->vtpm = false;
	return 0;
}

static const char *const svirt_names[] = {
	[CONFIG_SVIRT_DYNAMIC] = "dynamic", [CONFIG_SVIRT_STATIC] = "static",
	[CONFIG_SVIRT_OFF] = "off",
};
static const char *const seccomp_names[] = {
	[CONFIG_SECCOMP_KILL] = "kill", [CONFIG_SECCOMP_LOG] = "log",
};

static int config_lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -EINVAL;
}

const char *config_svirt_name(enum config_svirt mode)
{
	return (unsigned int)mode < ARRAY_SIZE(svirt_names) ? svirt_names[mode] : "?";
}

const char *config_seccomp_name(enum config_seccomp mode)
{
	return (unsigned int)mode < ARRAY_SIZE(seccomp_names) ? seccomp_names[mode] : "?";
}

int config_seccomp_parse(const char *s, enum config_seccomp *out)
{
	int i = config_lookup(seccomp_names, ARRAY_SIZE(seccomp_names), s);

	if (i < 0)
		return i;
	*out = (enum config_seccomp)i;
	return 0;
}

static int config_set_svirt(struct vm_config *cfg, const char *v, const char *what)
{
	int i = config_lookup(svirt_names, ARRAY_SIZE(svirt_names), v);

	if (i < 0) {
		log_err("%s: '%.16s' is not dynamic, static or off", what, v);
		return -EINVAL;
	}
	cfg->svirt = (enum config_svirt)i;
	return 0;
}

static int config_set_svirt_label(struct vm_config *cfg, const char *v,
				  const char *what)
{
	size_t n = strlen(v), colons = 0;

	for (size_t i = 0; i < n; i++)
		colons += v[i] == ':';
	if (n == 0 || n > CONFIG_LABEL_MAX || colons < 3) {
		log_err("%s: must be a full SELinux context user:role:type:level "
			"of at most %d characters", what, CONFIG_LABEL_MAX);
		return -EINVAL;
	}
	if (config_check_chars(v, ":._-,", what))
		return -EINVAL;
	memcpy(cfg->svirt_label, v, n + 1);
	return 0;
}

static int config_set_seccomp(struct vm_config *cfg, const char *v, const char *what)
{
	if (config_seccomp_parse(v, &cfg->seccomp)) {
		log_err("%s: '%.16s' is not kill or log", what, v);
		return -EINVAL;
	}
	return 0;
}

static int config_json_disks(struct vm_config *cfg, struct json_object *v,
			     const char *what);
static int config_json_net(struct vm_config *cfg, struct json_object *v,
			   const char *what);
static int config_json_vtpm(struct vm_config *cfg, struct json_object *v,
			    const char *what);

static const struct config_key config_keys[] = {
	{ "name", "name", KIND_STR, config_set_name, NULL },
	{ "cpus", "cpus", KIND_U64, config_set_cpus, NULL },
	{ "memory", "memory", KIND_U64, config_set_memory, NULL },
	{ "kernel", "kernel", KIND_STR, config_set_kernel, NULL },
	{ "initrd", "initrd", KIND_STR, config_set_initrd, NULL },
	{ "cmdline", "cmdline", KIND_STR, config_set_cmdline, NULL },
	{ "disks", "disk", KIND_DISKS, config_set_disk, config_json_disks },
	{ "net", "net", KIND_NET, config_set_net, config_json_net },
	{ "vtpm", "vtpm", KIND_BOOL, config_set_vtpm_on, config_json_vtpm },
	{ NULL, "no-vtpm", KIND_NONE, config_set_vtpm_off, NULL },
	{ "svirt", "svirt", KIND_STR, config_set_svirt, NULL },
	{ "svirt_label", "svirt-label", KIND_STR, config_set_svirt_label, NULL },
	{ "seccomp", "seccomp", KIND_STR, config_set_seccomp, NULL },
};

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->name, "guest");
	strcpy(cfg->cmdline, "console=ttyS0");
	cfg->cpus = 1;
	cfg->memory_mib = 256;
	cfg->vtpm = true;
	cfg->svirt = CONFIG_SVIRT_DYNAMIC;
	cfg->seccomp = CONFIG_SECCOMP_KILL;
}

static const struct config_key *config_find(const char *name, int by_flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		const char *k = by_flag ? config_keys[i].flag : config_keys[i].key;

		if (k && !strcmp(k, name))
			return &config_keys[i];
	}
	return NULL;
}

int config_is_setting(const char *flag)
{
	return config_find(flag, 1) != NULL;
}

int config_flag_takes_value(const char *flag)
{
	const struct config_key *k = config_find(flag, 1);

	if (!k)
		return -ENOENT;
	return k->kind != KIND_NONE && k->kind != KIND_BOOL;
}

int config_set(struct vm_config *cfg, const char *flag, const char *value,
	       const char *what)
{
	const struct config_key *k = config_find(flag, 1);

	if (!k)
		return -ENOENT;
	if (!value && config_flag_takes_value(flag)) {
		log_err("%s: needs a value", what);
		return -EINVAL;
	}
	return k->set(cfg, value, what);
}

static int config_json_string(struct json_object *v, const char *what,
			      const char **out)
{
	if (!json_object_is_type(v, json_type_string)) {
		log_err("%s: must be a string", what);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v)) {
		log_err("%s: contains a NUL character", what);
		return -EINVAL;
	}
	return 0;
}

static int config_json_bool(struct json_object *v, const char *what, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean)) {
		log_err("%s: must be true or false", what);
		return -EINVAL;
	}
	*out = json_object_get_boolean(v);
	return 0;
}

static int config_json_vtpm(struct vm_config *cfg, struct json_object *v,
			    const char *what)
{
	return config_json_bool(v, what, &cfg->vtpm);
}

/* One disk object: "path" required, "readonly" and "serial" optional. */
static int config_json_disk(struct config_disk *d, struct json_object *v,
			    const char *what)
{
	const char *s;
	int rc = 0, have_path = 0;

	if (!json_object_is_type(v, json_type_object)) {
		log_err("%s: each disk must be an object {\"path\", \"readonly\", "
			"\"serial\"}", what);
		return -EINVAL;
	}
	memset(d, 0, sizeof(*d));
	json_object_object_foreach(v, key, val) {
		if (!strcmp(key, "path")) {
			rc = config_json_string(val, what, &s);
			if (!rc)
				rc = config_copy_path(d->path, s, what, 0);
			if (!rc)
				rc = config_check_chars(d->path, "/._-+:@~%=,", what);
			have_path = 1;
		} else if (!strcmp(key, "readonly")) {
			rc = config_json_bool(val, what, &d->readonly);
		} else if (!strcmp(key, "serial")) {
			rc = config_json_string(val, what, &s);
			if (!rc)
				rc = config_set_serial(d->serial, s, what);
		} else {
			log_err("%s: unknown disk key '%.32s'", what, key);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (!have_path) {
		log_err("%s: a disk needs a \"path\"", what);
		return -EINVAL;
	}
	return 0;
}

static int config_json_disks(struct vm_config *cfg, struct json_object *v,
			     const char *what)
{
	struct config_disk d;
	size_t n;
	int rc;

	if (!json_object_is_type(v, json_type_array)) {
		log_err("%s: must be an array of disks", what);
		return -EINVAL;
	}
	n = json_object_array_length(v);
	cfg->ndisks = 0;
	for (size_t i = 0; i < n; i++) {
		rc = config_json_disk(&d, json_object_array_get_idx(v, i), what);
		if (!rc)
			rc = config_disk_add(cfg, &d, what);
		if (rc)
			return rc;
	}
	return 0;
}

/* "net": null (no NIC) or {"tap": NAME, "mac": MAC (optional)}. */
static int config_json_net(struct vm_config *cfg, struct json_object *v,
			   const char *what)
{
	struct json_object *tap, *mac;
	const char *t, *m = NULL;
	char opt[IFNAMSIZ + 32];

	if (json_object_is_type(v, json_type_null)) {
		cfg->net = false;
		memset(cfg->tap, 0, sizeof(cfg->tap));
		memset(cfg->mac, 0, sizeof(cfg->mac));
		return 0;
	}
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "tap", &tap) ||
	    json_object_object_length(v) !=
		    1 + json_object_object_get_ex(v, "mac", &mac)) {
		log_err("%s: must be null or {\"tap\": NAME, \"mac\": MAC}", what);
		return -EINVAL;
	}
	if (config_json_string(tap, what, &t) ||
	    (json_object_object_get_ex(v, "mac", &mac) &&
	     config_json_string(mac, what, &m)))
		return -EINVAL;
	if (config_check_chars(t, "._-", what) ||
	    (m && config_check_chars(m, ":", what)))
		return -EINVAL;
	if (strlen(t) >= IFNAMSIZ || (m && strlen(m) > 17)) {
		log_err("%s: tap name or MAC too long", what);
		return -EINVAL;
	}
	snprintf(opt, sizeof(opt), "tap=%s%s%s", t, m ? ",mac=" : "", m ? m : "");
	return config_set_net(cfg, opt, what);
}

static int config_apply_value(struct vm_config *cfg, const struct config_key *k,
			      struct json_object *v, const char *what)
{
	const char *s;

	if (k->set_json)
		return k->set_json(cfg, v, what);
	if (k->kind == KIND_STR) {
		if (config_json_string(v, what, &s))
			return -EINVAL;
		return k->set(cfg, s, what);
	}
	if (!json_object_is_type(v, json_type_int)) {
		log_err("%s: must be a whole number", what);
		return -EINVAL;
	}
	return k->set(cfg, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), what);
}

static struct json_object *config_parse_text(const char *text, size_t len,
					     size_t max, const char *origin)
{
	struct json_object *obj = NULL;
	char why[128];
	int rc = json_parse_strict(text, len, max, &obj, why, sizeof(why));

	if (rc == -ENOMEM)
		log_err("%s: out of memory", origin);
	else if (rc)
		log_err("%s: not valid JSON (%s)", origin, why);
	return rc ? NULL : obj;
}

static int config_apply_json_max(struct vm_config *cfg, const char *text,
				 size_t len, size_t max, const char *origin)
{
	struct json_object *obj = config_parse_text(text, len, max, origin);
	char what[PATH_MAX + 64];
	int rc = 0;

	if (!obj)
		return -EINVAL;
	json_object_object_foreach(obj, key, val) {
		const struct config_key *k = config_find(key, 0);

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

int config_apply_json(struct vm_config *cfg, const char *text, size_t len,
		      const char *origin)
{
	return config_apply_json_max(cfg, text, len, CONFIG_FILE_MAX, origin);
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
	if (cfg->ndisks > CONFIG_MAX_DISKS) {
		log_err("--disk: at most %d disks", CONFIG_MAX_DISKS);
		return -EINVAL;
	}
	if (cfg->svirt == CONFIG_SVIRT_STATIC && !cfg->svirt_label[0]) {
		log_err("--svirt=static: needs --svirt-label LABEL");
		return -EINVAL;
	}
	if (cfg->svirt != CONFIG_SVIRT_STATIC && cfg->svirt_label[0]) {
		log_err("--svirt-label: only with --svirt=static");
		return -EINVAL;
	}
	return 0;
}

static struct json_object *config_disks_json(const struct vm_config *cfg)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; a && i < cfg->ndisks; i++) {
		const struct config_disk *d = &cfg->disks[i];
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(a, o) ||
		    json_object_object_add(o, "path", json_object_new_string(d->path)) ||
		    json_object_object_add(o, "readonly",
					   json_object_new_boolean(d->readonly)) ||
		    json_object_object_add(o, "serial", json_object_new_string(d->serial))) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* "net": null, or {"tap":NAME,"mac":"52:54:00:12:34:56"} (lower case). */
static struct json_object *config_net_json(const struct vm_config *cfg)
{
	struct json_object *o;
	char mac[18];

	if (!cfg->net)
		return json_object_new_null();
	o = json_object_new_object();
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0],
		 cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	if (o && (json_object_object_add(o, "tap", json_object_new_string(cfg->tap)) ||
		  json_object_object_add(o, "mac", json_object_new_string(mac)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The canonical key order: what the guest runs and sees.  svirt, svirt_label
 * and seccomp are host-only and measured in the security state instead
 * (config.h), so they are not here.
 */
static struct json_object *config_to_json(const struct vm_config *cfg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *disks = config_disks_json(cfg);
	struct json_object *net = config_net_json(cfg);

	if (!o || !disks || (cfg->net && !net) ||
	    json_object_object_add(o, "name", json_object_new_string(cfg->name)) ||
	    json_object_object_add(o, "cpus", json_object_new_int64(cfg->cpus)) ||
	    json_object_object_add(o, "memory",
				   json_object_new_uint64(cfg->memory_mib)) ||
	    json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel)) ||
	    json_object_object_add(o, "initrd", json_object_new_string(cfg->initrd)) ||
	    json_object_object_add(o, "cmdline", json_object_new_string(cfg->cmdline)) ||
	    json_object_object_add(o, "disks", disks) ||
	    (disks = NULL, json_object_object_add(o, "net", net)) ||
	    (net = NULL, json_object_object_add(o, "vtpm",
						json_object_new_boolean(cfg->vtpm)))) {
		json_object_put(disks);
		json_object_put(net);
		json_object_put(o);
		return NULL;
	}
	static_assert(ARRAY_SIZE(config_keys) == 13,
		      "config_to_json lists every guest-visible key");
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

	config_init(&tmp);
	rc = config_apply_json_max(&tmp, buf, len, CONFIG_CANONICAL_MAX,
				   "canonical config");
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
