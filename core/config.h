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
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX     63
#define CONFIG_CMDLINE_MAX  4095
#define CONFIG_FILE_MAX     (64 * 1024)
#define CONFIG_MAX_DISKS    8       /* VIRTIO_BLK_MAX_DISKS */
#define CONFIG_SERIAL_MAX   20      /* VIRTIO_BLK_SERIAL_MAX */
#define CONFIG_LABEL_MAX    255
/* The canonical form of the largest valid configuration fits in this. */
#define CONFIG_CANONICAL_MAX (256 * 1024)

/* sVirt: a fresh MCS pair per guest, a fixed label, or no labelling. */
enum config_svirt { CONFIG_SVIRT_DYNAMIC = 0, CONFIG_SVIRT_STATIC, CONFIG_SVIRT_OFF };
/* seccomp: unlisted calls kill the VMM, or are logged and allowed (dev). */
enum config_seccomp { CONFIG_SECCOMP_KILL = 0, CONFIG_SECCOMP_LOG };

struct config_disk {
	char path[PATH_MAX];
	bool readonly;
	char serial[CONFIG_SERIAL_MAX + 1];  /* "" when none */
};

struct vm_config {
	char name[CONFIG_NAME_MAX + 1];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];              /* "" when there is none */
	char cmdline[CONFIG_CMDLINE_MAX + 1];
	uint32_t cpus;
	uint64_t memory_mib;
	/* Devices (in the canonical form, so measured as configuration). */
	struct config_disk disks[CONFIG_MAX_DISKS];
	uint32_t ndisks;
	bool net;                           /* a NIC on tap */
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	bool vtpm;                          /* default on */
	/*
	 * Host-only security settings: NOT in the canonical form.  The
	 * launcher applies them and measures them in the security state
	 * (PCR of the security state, see README); the seccomp mode reaches
	 * the VMM as its argument "--seccomp MODE" (core/vmm_abi.h).
	 */
	enum config_svirt svirt;
	char svirt_label[CONFIG_LABEL_MAX + 1];   /* static mode only */
	enum config_seccomp seccomp;
	/* Parse state: the first --disk flag replaces the file's disks. */
	bool disks_from_flags;
};

/* Defaults: name "guest", 1 CPU, 256 MiB, cmdline "console=ttyS0", no disk,
 * no NIC, vTPM on, svirt dynamic, seccomp kill. */
void config_init(struct vm_config *cfg);

/*
 * Set one setting from a string, as a flag gives it.  FLAG is the flag name
 * without dashes ("cpus", "disk", "svirt-label"); WHAT names the source in
 * messages ("--cpus").  Flags that take no value (--vtpm, --no-vtpm) need
 * VALUE NULL.  --disk is repeatable: the first --disk replaces the disks of
 * a --config file, later ones add.  Returns 0, -ENOENT for an unknown
 * setting, or -EINVAL (message logged).
 */
int config_set(struct vm_config *cfg, const char *flag, const char *value,
	       const char *what);

/* Whether FLAG (without dashes) is a setting config_set() takes: 1 or 0. */
int config_is_setting(const char *flag);
/* 1 if FLAG takes a value, 0 if not (--vtpm, --no-vtpm), -ENOENT unknown. */
int config_flag_takes_value(const char *flag);

/* "dynamic"/"static"/"off" and "kill"/"log"; parse: 0 or -EINVAL (silent). */
const char *config_svirt_name(enum config_svirt mode);
const char *config_seccomp_name(enum config_seccomp mode);
int config_seccomp_parse(const char *s, enum config_seccomp *out);

/* Apply a JSON object (the --config file's text).  ORIGIN names it in errors. */
int config_apply_json(struct vm_config *cfg, const char *text, size_t len,
		      const char *origin);

/* Reading --config FILE is the launcher's: core/launch/config_file.h. */

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
