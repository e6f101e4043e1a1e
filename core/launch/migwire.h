/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The messages of a live migration between two launchers (issue 18), the
 * payloads of core/launch/migchan.h's frames.  Parsed as hostile bytes (a
 * fuzz target, tests/fuzz/fuzz_migwire.c): every length bounded, strings
 * UTF-8 without NUL or control characters, reserved fields zero, nothing
 * after the last field; what decodes encodes back to the same bytes.
 *
 * Order (migwire_seq): src HELLO; dst READY or REFUSE; src (STREAM |
 * PROGRESS)*, VTPM at most once, DONE, with dst ACK once per PROGRESS
 * (each after it, none after VTPM); dst RUNNING; src HOST at most
 * MIGWIRE_HOSTS_MAX times (issue 18 item 4: after RUNNING, so off the
 * guest's downtime; a target of before HOST has closed the channel by then,
 * so the version stays).  ABORT either way at any point before RUNNING.
 * After REFUSE or ABORT nothing; after RUNNING only HOST.
 *
 * Payloads, little-endian; "str" = u32 length + bytes:
 *   HELLO    u32 version (MIGWIRE_VERSION), u32 flags (MIG_HELLO_F_*),
 *            str name (1..CONFIG_NAME_MAX), str config (1..
 *            CONFIG_CANONICAL_MAX, the canonical JSON), str host id (1..
 *            MIGWIRE_HOSTID_MAX), str security state (0..MEASURE_MAX_TEXT),
 *            str event log (0..EVLOG_MAX_SIZE), u32 disk count (0..
 *            CONFIG_MAX_DISKS), u32 0, per disk: str path (1..PATH_MAX-1),
 *            u64 size, u32 flags (MIG_DISK_F_*), u32 0; then the guest's
 *            identity (its vTPM's, which moves with it): str UUID (36, the
 *            lower-case canonical form), str EK certificate (DER, 1..
 *            MIGWIRE_CERT_MAX), u32 chain count (1..MIGWIRE_CHAIN_MAX),
 *            u32 0, per certificate of the EK chain: str DER (1..
 *            MIGWIRE_CERT_MAX); without MIG_HELLO_F_VTPM: both strings
 *            empty, count 0
 *   READY    str label: the target's new pair, for the log (0..SVIRT_LABEL_MAX-1)
 *   REFUSE, ABORT   str reason (1..MIGWIRE_REASON_MAX)
 *   STREAM   the bytes themselves (1..MIGWIRE_STREAM_MAX)
 *   PROGRESS u32 round, u32 0, u64 bytes, u64 dirty pages/s, u64 expected
 *            downtime in ms
 *   ACK      (version 3) the target's answer to PROGRESS: u32 round (the
 *            PROGRESS's), u32 0, u64 stream bytes taken by its VMM so far,
 *            u64 the target's own estimate of its part of the hand-over in
 *            ms (0..MIGWIRE_HANDOVER_MAX_MS): the source waits for the last
 *            ACK before it pauses (nothing of the rounds left in flight)
 *            and counts the estimate in its stop rule
 *   VTPM     str permanent, str volatile, str savestate (each 0..
 *            MIGWIRE_BLOB_MAX)
 *   DONE     u64 stream bytes, 32 bytes SHA-256 of the stream
 *   RUNNING  empty
 *   HOST     a source host's evidence, one hop record (bundle_host.h,
 *            bundle_hop_decode: 1..BUNDLE_HOP_WIRE_MAX bytes): the
 *            source's earlier records (oldest first), then its own quote
 *            bound to this stream
 */
#ifndef BULWARK_LAUNCH_MIGWIRE_H
#define BULWARK_LAUNCH_MIGWIRE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define MIGWIRE_VERSION      3u    /* 2: HELLO carries the guest's identity; 3: ACK */
#define MIGWIRE_HANDOVER_MAX_MS 60000u
#define MIGWIRE_HOSTID_MAX   255u
#define MIGWIRE_REASON_MAX   1024u
#define MIGWIRE_LABEL_MAX    256u              /* SVIRT_LABEL_MAX */
#define MIGWIRE_SECSTATE_MAX 8192u             /* MEASURE_MAX_TEXT */
#define MIGWIRE_LOG_MAX      (64u * 1024u)     /* EVLOG_MAX_SIZE */
#define MIGWIRE_CONFIG_MAX   ((uint32_t)CONFIG_CANONICAL_MAX)
#define MIGWIRE_STREAM_MAX   (1u << 20)
#define MIGWIRE_BLOB_MAX     (1u << 20)        /* SWTPM_BLOB_MAX */
#define MIGWIRE_UUID_LEN     36u
#define MIGWIRE_CERT_MAX     16384u            /* BUNDLE_MAX_CERT */
#define MIGWIRE_CHAIN_MAX    4u                /* BUNDLE_MAX_CHAIN */
#define MIGWIRE_HOSTS_MAX    4u                /* BUNDLE_MAX_HOPS */

enum mig_msg {
	MIG_HELLO = 1,
	MIG_READY,
	MIG_REFUSE,
	MIG_STREAM,
	MIG_PROGRESS,
	MIG_VTPM,
	MIG_DONE,
	MIG_RUNNING,
	MIG_ABORT,
	MIG_HOST,                             /* issue 18 item 4 */
	MIG_ACK,                              /* version 3: the target caught up */
	MIG_MSG_END                           /* not a message: one past the last */
};

#define MIG_HELLO_F_VTPM   1u     /* the guest has a vTPM: a VTPM message comes */
#define MIG_HELLO_F_PAUSED 2u     /* paused on the source: the target keeps it so */
#define MIG_DISK_F_SHARED   1u    /* the same path on shared storage */
#define MIG_DISK_F_READONLY 2u

struct mig_disk {
	char path[PATH_MAX];
	uint64_t size;
	uint32_t flags;                       /* MIG_DISK_F_* */
};

/* Pointers point into the decoded buffer (or the caller's, to encode). */
struct mig_hello {
	uint32_t version;
	uint32_t flags;                       /* MIG_HELLO_F_* */
	char name[CONFIG_NAME_MAX + 1];
	const uint8_t *config;
	size_t config_len;
	char host_id[MIGWIRE_HOSTID_MAX + 1];
	const uint8_t *secstate;
	size_t secstate_len;
	const uint8_t *log;
	size_t log_len;
	uint32_t ndisks;
	struct mig_disk disks[CONFIG_MAX_DISKS];
	/* The identity of the guest's vTPM (MIG_HELLO_F_VTPM only): the
	 * target enrolls it again against the migrated TPM. */
	char uuid[MIGWIRE_UUID_LEN + 1];
	const uint8_t *ek_cert;
	size_t ek_cert_len;
	uint32_t nchain;
	const uint8_t *ek_chain[MIGWIRE_CHAIN_MAX];
	size_t ek_chain_len[MIGWIRE_CHAIN_MAX];
};

struct mig_progress {
	uint32_t round;
	uint64_t bytes;
	uint64_t dirty_rate;                  /* pages per second */
	uint64_t downtime_ms;                 /* expected */
};

struct mig_ack {
	uint32_t round;                       /* the PROGRESS answered */
	uint64_t bytes;                       /* stream bytes its VMM took */
	uint64_t handover_ms;                 /* the target's estimate of its part */
};

struct mig_vtpm {
	const uint8_t *blob[3];               /* permanent, volatile, savestate */
	size_t len[3];
};

struct mig_done {
	uint64_t bytes;
	uint8_t sha256[32];
};

/* The largest payload of TYPE, 0 for an unknown type (RUNNING: 0 too, but
 * known: see migwire_known). */
size_t migwire_max_len(uint32_t type);
bool migwire_known(uint32_t type);
const char *migwire_name(uint32_t type);   /* "HELLO", ...; "unknown" */

/* A frame's 8-byte head (u32 type, u32 len): 0 when TYPE is known and LEN
 * within its bound and within MAX (the receiver's buffer); -EBADMSG with the
 * reason in WHY otherwise.  migchan_recv's check, here to be fuzzed. */
#define MIGWIRE_HEAD 8u
int migwire_head_check(const uint8_t h[MIGWIRE_HEAD], size_t max, uint32_t *type,
		       uint32_t *len, char *why, size_t whylen);

/* Encoders: *out malloc'd (caller frees).  0, -EINVAL (a field out of its
 * bounds) or -ENOMEM.  Decoders of a whole payload: 0 or -EBADMSG, the
 * reason logged and in WHY when not NULL. */
int migwire_hello_encode(const struct mig_hello *h, uint8_t **out, size_t *len);
int migwire_hello_decode(const uint8_t *p, size_t len, struct mig_hello *h,
			 char *why, size_t whylen);
/* READY's label, REFUSE's and ABORT's reason: TYPE says which bounds. */
int migwire_text_encode(uint32_t type, const char *s, uint8_t **out, size_t *len);
int migwire_text_decode(uint32_t type, const uint8_t *p, size_t len, char *s,
			size_t cap, char *why, size_t whylen);
int migwire_progress_encode(const struct mig_progress *g, uint8_t **out, size_t *len);
int migwire_progress_decode(const uint8_t *p, size_t len, struct mig_progress *g,
			    char *why, size_t whylen);
int migwire_ack_encode(const struct mig_ack *a, uint8_t **out, size_t *len);
int migwire_ack_decode(const uint8_t *p, size_t len, struct mig_ack *a,
		       char *why, size_t whylen);
int migwire_vtpm_encode(const struct mig_vtpm *v, uint8_t **out, size_t *len);
int migwire_vtpm_decode(const uint8_t *p, size_t len, struct mig_vtpm *v,
			char *why, size_t whylen);
int migwire_done_encode(const struct mig_done *d, uint8_t **out, size_t *len);
int migwire_done_decode(const uint8_t *p, size_t len, struct mig_done *d,
			char *why, size_t whylen);

/* The order above, checked on each side for every message sent or received.
 * Start zeroed.  0 when TYPE may come next from that side (and the state
 * moves on), -EPROTO with the reason in WHY otherwise (then both abort). */
struct migwire_seq {
	int state;
	bool vtpm_seen;
	uint32_t hosts;                       /* HOST messages after RUNNING */
	uint32_t acks_due;                    /* PROGRESS not yet answered by ACK */
};
int migwire_seq_next(struct migwire_seq *s, bool from_source, uint32_t type,
		     char *why, size_t whylen);
/* 1 once RUNNING, REFUSE or ABORT went by (HOST may still follow RUNNING). */
bool migwire_seq_over(const struct migwire_seq *s);

#endif
