/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's own parts of a sealed snapshot (core/launch/snapbox.h):
 * SNAPBOX_META (what the guest was) and SNAPBOX_DISKS (what its disks
 * held).  Written by `bulwark snapshot`, read back by `bulwark restore`
 * after snapbox_open authenticated the whole file; still parsed as hostile
 * bytes (a fuzz target, tests/fuzz/fuzz_snapmeta.c): every length is
 * bounded, nothing may follow the last field, strings hold no NUL.
 *
 * META, little-endian:
 *   magic "BWMETA01", u32 nvcpus (1..SNAPMETA_CPUS_MAX), u32 flags (bit 0:
 *   the guest had a vTPM), u64 memory MiB, i64 unix time of the snapshot,
 *   then four byte strings, each u32 length + bytes:
 *     name      the guest's name (1..CONFIG_NAME_MAX)
 *     label     the VMM's label at the snapshot (0..SVIRT_LABEL_MAX-1)
 *     config    the canonical configuration (1..SNAPMETA_CONFIG_MAX)
 *     eventlog  the vTPM's event log (0..EVLOG_MAX_SIZE; empty without vTPM)
 * DISKS:
 *   magic "BWDISK01", u32 count (0..CONFIG_MAX_DISKS), u32 0, then per
 *   disk: u32 path length (1..PATH_MAX-1), path, u64 size in bytes,
 *   u32 flags (bit 0 digest present, bit 1 read-only), u32 0, 32 bytes
 *   SHA-256 of the whole disk (zero when absent).
 */
#ifndef BULWARK_LAUNCH_SNAPMETA_H
#define BULWARK_LAUNCH_SNAPMETA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define SNAPMETA_MAGIC      "BWMETA01"
#define SNAPDISKS_MAGIC     "BWDISK01"
#define SNAPMETA_CONFIG_MAX ((uint32_t)CONFIG_CANONICAL_MAX)
#define SNAPMETA_CPUS_MAX   256u
#define SNAPMETA_LABEL_MAX  256u
#define SNAPMETA_LOG_MAX    (64u * 1024u)     /* EVLOG_MAX_SIZE */
#define SNAPMETA_MAX        (SNAPMETA_CONFIG_MAX + SNAPMETA_LOG_MAX + 4096u)
#define SNAPMETA_F_VTPM     1u
#define SNAPDISK_F_DIGEST   1u
#define SNAPDISK_F_READONLY 2u
#define SNAPDISKS_MAX       (16u + CONFIG_MAX_DISKS * (4u + PATH_MAX + 48u))

struct snapmeta {
	uint32_t nvcpus;
	uint32_t flags;                        /* SNAPMETA_F_* */
	uint64_t memory_mib;
	int64_t time;
	char name[CONFIG_NAME_MAX + 1];
	char label[SNAPMETA_LABEL_MAX];
	const uint8_t *config;                 /* into the decoded buffer */
	size_t config_len;
	const uint8_t *log;                    /* into the decoded buffer; may be NULL */
	size_t log_len;
};

struct snapdisk {
	char path[PATH_MAX];
	uint64_t size;
	uint32_t flags;                        /* SNAPDISK_F_* */
	uint8_t digest[32];
};

struct snapdisks {
	uint32_t n;
	struct snapdisk d[CONFIG_MAX_DISKS];
};

/* Encoders: *out malloc'd (caller frees).  0, -EINVAL (a field out of its
 * bounds) or -ENOMEM. */
int snapmeta_encode(const struct snapmeta *m, uint8_t **out, size_t *len);
int snapdisks_encode(const struct snapdisks *d, uint8_t **out, size_t *len);
/* Decoders of the whole part: 0 or -EBADMSG, the reason logged.  META's
 * config and log point into BUF. */
int snapmeta_decode(const uint8_t *buf, size_t len, struct snapmeta *m);
int snapdisks_decode(const uint8_t *buf, size_t len, struct snapdisks *d);

/* A disk as it is now (an open fd): size, and SHA-256 when DIGEST. */
int snapdisk_measure(int fd, bool digest, uint64_t *size, uint8_t sha[32]);
/* Disk I of the snapshot against the open file FD: 0, or -ESTALE with a
 * reason in WHY (size or digest changed). */
int snapdisk_check(const struct snapdisk *d, int fd, char *why, size_t why_len);

#endif
