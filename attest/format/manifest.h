/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference manifests: the values an auditor allows (format in
 * attest/format/BUNDLE.md).  Every digest list pins every bank the manifest names;
 * a bundle whose log has a bank the manifest does not name cannot affirm.
 * Manifests are read from files an auditor may have been handed, so they are
 * parsed as strictly as bundles and have a fuzz target too.
 */
#ifndef BULWARK_ATTEST_MANIFEST_H
#define BULWARK_ATTEST_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/bundle.h"
#include "attest/format/eventlog.h"

#define MANIFEST_FORMAT     "bulwark-reference"
#define MANIFEST_VERSION    1
#define MANIFEST_MAX_SIZE   (256u * 1024u)
#define MANIFEST_MAX_VALUES 16      /* allowed digests per measured item */
#define MANIFEST_MAX_ROLES  8       /* seccomp filter roles */
#define MANIFEST_MAX_OFF    16
#define MANIFEST_WORD_MAX   63      /* SELinux user/role/type, role and protection names */

/* svirt modes a manifest may allow (measure.h's "svirt" key). */
#define MANIFEST_SVIRT_DYNAMIC 1u
#define MANIFEST_SVIRT_STATIC  2u
#define MANIFEST_SVIRT_OFF     4u

/* One allowed measurement: its digest in every bank of the manifest. */
struct manifest_value {
	uint8_t digest[EVLOG_MAX_BANKS][EVLOG_MAX_DIGEST];
};

struct manifest_list {
	size_t count;
	struct manifest_value v[MANIFEST_MAX_VALUES];
};

/* Items measured by the launcher (attest/vtpm/measure.h), in log order. */
enum manifest_item {
	MANIFEST_VMM,
	MANIFEST_CONFIG,
	MANIFEST_ACPI,
	MANIFEST_KERNEL,
	MANIFEST_CMDLINE,
	MANIFEST_INITRD,
	MANIFEST_ITEMS
};

struct manifest_role {
	char role[MANIFEST_WORD_MAX + 1];
	size_t count;
	uint8_t sha256[MANIFEST_MAX_VALUES][32];
};

struct manifest {
	char id[128];                     /* appraisal policy id, printed in results */
	struct evlog_banks banks;
	struct manifest_list item[MANIFEST_ITEMS];
	int acpi_pinned;                  /* "acpi" present */
	int selinux_enforcing;            /* required */
	size_t npolicy;
	uint8_t policy_sha256[MANIFEST_MAX_VALUES][32];
	int seccomp_required;
	size_t nroles;
	struct manifest_role roles[MANIFEST_MAX_ROLES];
	char label_user[MANIFEST_WORD_MAX + 1];
	char label_role[MANIFEST_WORD_MAX + 1];
	char label_type[MANIFEST_WORD_MAX + 1];
	char label_sensitivity[MANIFEST_WORD_MAX + 1];
	unsigned svirt_allowed;           /* MANIFEST_SVIRT_*; "svirt" absent: dynamic */
	size_t noff;
	char off_allowed[MANIFEST_MAX_OFF][MANIFEST_WORD_MAX + 1];
	int host_required;                /* "host_evidence": "required" (the default) */
	int allow_restore;                /* "allow_restore": true (absent: false) */
	int allow_migrate;                /* "allow_migrate": true (absent: false) */
};

/* JSON key of an item ("vmm_identity", "kernel", ...). */
const char *manifest_item_name(enum manifest_item item);

/* Returns 0 or -EBADMSG (err filled: BUNDLE_ERR_* codes and "field: reason"). */
int manifest_parse(const uint8_t *buf, size_t len, struct manifest *m,
		   struct bundle_error *err);

/* JSON text (malloc'd, NUL-terminated); 0 or -errno. */
int manifest_write(const struct manifest *m, char **out, size_t *out_len);

/* MANIFEST_SVIRT_* of a mode name ("dynamic", "static", "off"); 0 if none. */
unsigned manifest_svirt_mode(const char *name, size_t len);
/* The name of one MANIFEST_SVIRT_* bit. */
const char *manifest_svirt_name(unsigned mode);

/* Index of alg in m->banks, or -1. */
int manifest_bank(const struct manifest *m, uint16_t alg);

#endif
