/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest's configuration: parsed from flags and a JSON file, validated as a
 * whole, and serialized in one canonical form.  The canonical bytes are what
 * the launcher hands the VMM and what the attestation issue measures, so
 * config_canonical() is deterministic: fixed key order, no whitespace, the
 * same bytes for the same settings on every host.
 */
#ifndef BULWARK_CONFIG_H
#define BULWARK_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX     63
#define CONFIG_CMDLINE_MAX  4095
#define CONFIG_FILE_MAX     (64 * 1024)

struct vm_config {
	char name[CONFIG_NAME_MAX + 1];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];              /* "" when there is none */
	char cmdline[CONFIG_CMDLINE_MAX + 1];
	uint32_t cpus;
	uint64_t memory_mib;
};

/* Defaults: name "guest", 1 CPU, 256 MiB, cmdline "console=ttyS0". */
void config_init(struct vm_config *cfg);

/*
 * Set one setting from a string, as a flag gives it.  FLAG is the flag name
 * without dashes ("cpus"); WHAT names the source in messages ("--cpus").
 * Returns 0, -ENOENT for an unknown setting, or -EINVAL (message logged).
 */
int config_set(struct vm_config *cfg, const char *flag, const char *value,
	       const char *what);

/* Apply a JSON object (the --config file's text).  ORIGIN names it in errors. */
int config_apply_json(struct vm_config *cfg, const char *text, size_t len,
		      const char *origin);

/* Read PATH (at most CONFIG_FILE_MAX bytes) and apply it. */
int config_load_file(struct vm_config *cfg, const char *path);

/* Whole-configuration checks (required settings, ranges). */
int config_validate(const struct vm_config *cfg);

/* The canonical form: a malloc()ed NUL-terminated string; *len excludes NUL. */
int config_canonical(const struct vm_config *cfg, char **out, size_t *len);

/*
 * Parse the canonical form back (the VMM's side): strict, every key present,
 * and re-serializing must give exactly the same bytes.
 */
int config_from_canonical(struct vm_config *cfg, const char *buf, size_t len);

#endif
