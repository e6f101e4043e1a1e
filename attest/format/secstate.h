/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BULWARK_ATTEST_SECSTATE_H
#define BULWARK_ATTEST_SECSTATE_H

#include <stddef.h>
#include <stdint.h>

/* ---- security state, canonical encoding v1 ---------------------------- *
 *
 *   bulwark-security-state v1\n         first line, exactly
 *   KEY=VALUE\n ...                     sorted by KEY (bytewise), unique
 *
 * KEY: [a-z0-9._-]+; VALUE: printable ASCII without space (0x21..0x7e).
 * Keys of v1:
 *   protections.off        comma-separated sorted names, or "none"
 *   seccomp                on | off
 *   seccomp.filter.ROLE.sha256   per filter (ROLE [a-z0-9_-]+), hex
 *   selinux                enforcing | permissive | disabled
 *   selinux.policy.sha256  hex, or "none"
 *   svirt                  dynamic | static | off
 *   svirt.label            the guest's context, or "none"
 */
#define MEASURE_SECSTATE_HEADER "bulwark-security-state v1\n"
/* Bound on measured text events (also guest-visible): the VMM identity, the
 * configuration, the security state. */
#define MEASURE_MAX_TEXT     8192u
#define MEASURE_MAX_FILTERS 8
#define MEASURE_MAX_OFF     16

enum measure_selinux {
	MEASURE_SELINUX_DISABLED,
	MEASURE_SELINUX_PERMISSIVE,
	MEASURE_SELINUX_ENFORCING,
};

struct measure_filter {
	const char *role;              /* "vmm", "vcpu", ... */
	uint8_t sha256[32];            /* of the filter as loaded (BPF bytes) */
};

struct measure_secstate {
	enum measure_selinux selinux;
	const uint8_t *policy_sha256;  /* 32 bytes, NULL: none */
	const char *svirt;             /* "dynamic", "static" or "off" */
	const char *label;             /* NULL: none */
	int seccomp;                   /* 1: filters installed */
	const struct measure_filter *filters;
	size_t nfilters;
	const char *const *off;        /* names of protections turned off */
	size_t noff;
};

/* Canonical bytes into buf (no NUL counted in *len); 0, -EINVAL, -ENOSPC. */
int measure_secstate_encode(const struct measure_secstate *s, char *buf, size_t cap,
			    size_t *len);

struct measure_kv {
	const char *key;               /* point into the parsed bytes */
	size_t key_len;
	const char *value;
	size_t value_len;
};

/*
 * Parses untrusted security-state bytes (from a log) into key/value pairs
 * pointing into data: header, syntax, sorting and uniqueness checked.
 * Returns the number of pairs, or -EBADMSG / -E2BIG (more than max).
 */
int measure_secstate_parse(const uint8_t *data, size_t len, struct measure_kv *kv,
			   size_t max);

/* 1 when v[0..n) is a valid value: 1 or more of 0x21..0x7e; else 0. */
int measure_value_ok(const char *v, size_t n);

/* The value of key in kv[0..n), or NULL. */
const struct measure_kv *measure_kv_find(const struct measure_kv *kv, size_t n,
					 const char *key);

/* ---- the restore event (attest/vtpm/measure.h) ------------------------- */
#define MEASURE_RESTORE_HEADER "bulwark-restore v1\n"
#define MEASURE_RESTORE_TAG    0x42575253u       /* "BWRS" */
#define MEASURE_RESTORE_TIME_LEN 20              /* YYYY-MM-DDTHH:MM:SSZ */

struct measure_restore_view {
	uint8_t snapshot_sha256[32];
	char time[MEASURE_RESTORE_TIME_LEN + 1];
	const uint8_t *secstate;       /* into the parsed bytes */
	size_t secstate_len;
};

/* Parses untrusted restore-event data (the tagged event, whole): tag, size,
 * header, the two lines (hex, a valid UTC time), and that a security state
 * follows (its text is parsed by measure_secstate_parse).  0 or -EBADMSG. */
int measure_restore_parse(const uint8_t *data, size_t len, struct measure_restore_view *v);

/* ---- the migration event (attest/vtpm/measure.h) ----------------------- */
#define MEASURE_MIGRATE_HEADER   "bulwark-migrate v1\n"
#define MEASURE_MIGRATE_TAG      0x42574d47u     /* "BWMG" */
#define MEASURE_MIGRATE_HOST_MAX 64u

struct measure_migrate_view {
	char source_host[MEASURE_MIGRATE_HOST_MAX + 1];
	uint8_t source_cert_sha256[32];
	uint8_t stream_sha256[32];
	char time[MEASURE_RESTORE_TIME_LEN + 1];
	const uint8_t *secstate;       /* into the parsed bytes */
	size_t secstate_len;
};

/* Parses untrusted migration-event data (the tagged event, whole): tag,
 * size, header, the four lines, and that a security state follows.
 * 0 or -EBADMSG. */
int measure_migrate_parse(const uint8_t *data, size_t len, struct measure_migrate_view *v);

/* The tag of a tagged event's data (restore or migration), 0 if too short. */
uint32_t measure_event_tag(const uint8_t *data, size_t len);

#endif
