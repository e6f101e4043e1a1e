/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCG crypto-agile event log (TCG PC Client Platform Firmware Profile,
 * "TCG_PCR_EVENT2" format): a writer for the launcher and a bounded parser
 * plus replay for everyone who reads a log (the verifier, the tests).
 *
 * Layout (all integers little-endian):
 *   TCG_PCR_EVENT  header: pcr u32 = 0, type u32 = EV_NO_ACTION, 20 zero
 *                  bytes, size u32, TCG_EfiSpecIDEvent ("Spec ID Event03\0",
 *                  platformClass u32, minor u8 = 0, major u8 = 2, errata u8,
 *                  uintnSize u8 = 2, numberOfAlgorithms u32,
 *                  {algId u16, digestSize u16}..., vendorInfoSize u8, vendor)
 *   TCG_PCR_EVENT2 then, repeated: pcr u32, type u32, count u32,
 *                  {algId u16, digest[digestSize]}... (every bank of the
 *                  header exactly once), size u32, data[size]
 *
 * A log is untrusted input: the parser checks every length against the bytes
 * left before reading, never allocates, and on failure reports the byte
 * offset and the name of the field it rejected.
 */
#ifndef BULWARK_ATTEST_EVENTLOG_H
#define BULWARK_ATTEST_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

/* TPM_ALG_ID values of the banks Bulwark supports. */
#define EVLOG_ALG_SHA1   0x0004
#define EVLOG_ALG_SHA256 0x000B
#define EVLOG_ALG_SHA384 0x000C
#define EVLOG_ALG_SHA512 0x000D

/* Event types used here (TCG PC Client PFP, section 10.4.1). */
#define EV_POST_CODE             0x00000001u
#define EV_NO_ACTION             0x00000003u
#define EV_SEPARATOR             0x00000004u
#define EV_ACTION                0x00000005u
#define EV_EVENT_TAG             0x00000006u
#define EV_S_CRTM_CONTENTS       0x00000007u
#define EV_S_CRTM_VERSION        0x00000008u
#define EV_PLATFORM_CONFIG_FLAGS 0x0000000Au
#define EV_TABLE_OF_DEVICES      0x0000000Bu
#define EV_IPL                   0x0000000Du
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u

#define EVLOG_MAX_BANKS   4   /* sha1, sha256, sha384, sha512 */
#define EVLOG_MAX_DIGEST  64  /* SHA-512 */
#define EVLOG_NUM_PCRS    24
/* Largest log the writer produces: the guest's LAML (facts.md: QEMU 64 KiB). */
#define EVLOG_MAX_SIZE    (64u * 1024u)
/* Platform class in the Spec ID event: 0 = client, 1 = server. */
#define EVLOG_PLATFORM_CLIENT 0u

struct evlog_digest {
	uint16_t alg;
	uint16_t size;
	uint8_t bytes[EVLOG_MAX_DIGEST];
};

/* The banks of a log, in the order of its Spec ID header. */
struct evlog_banks {
	uint32_t count;
	uint16_t alg[EVLOG_MAX_BANKS];
	uint16_t size[EVLOG_MAX_BANKS];
};

/* One TCG_PCR_EVENT2 as parsed; data points into the caller's buffer. */
struct evlog_event {
	size_t offset;       /* of the event's first byte in the log */
	uint32_t index;      /* 0 = first event after the header */
	uint32_t pcr;
	uint32_t type;
	/* digests[i] belongs to banks.alg[i] (reordered to header order) */
	struct evlog_digest digests[EVLOG_MAX_BANKS];
	const uint8_t *data;
	uint32_t data_size;
};

/* Where and why parsing stopped: "offset 212: event[3].digests[1].algId: ..." */
struct evlog_error {
	size_t offset;
	char field[48];
	char reason[80];
};

/* ---- algorithms ------------------------------------------------------- */

/* Digest size of a supported algorithm, 0 if unsupported. */
uint16_t evlog_alg_size(uint16_t alg);
/* "sha256", ... or NULL if unsupported. */
const char *evlog_alg_name(uint16_t alg);
/* out->alg/size/bytes = alg(data); 0 or -EINVAL (unsupported) / -EIO. */
int evlog_hash(uint16_t alg, const void *data, size_t len, struct evlog_digest *out);
/* OpenSSL's digest of a supported algorithm, fetched once per process
 * (OpenSSL 3 looks an implicitly fetched digest up again, under a lock, on
 * every use: a fifth of the verifier's time, more than the hashing itself
 * on an IMA list); NULL if unsupported or unavailable. */
struct evp_md_st;
const struct evp_md_st *evlog_md(uint16_t alg);

/* ---- writer ----------------------------------------------------------- */

struct evlog_writer {
	uint8_t *buf;        /* owned; capacity bytes */
	size_t len;
	size_t capacity;
	struct evlog_banks banks;
};

/*
 * Starts a log with the Spec ID header for the given banks (each supported,
 * no duplicates, 1..EVLOG_MAX_BANKS of them).  capacity bounds the whole log
 * (at most EVLOG_MAX_SIZE).  Returns 0, -EINVAL or -ENOMEM.
 */
int evlog_writer_init(struct evlog_writer *w, const uint16_t *algs, size_t nalgs,
		      size_t capacity);
void evlog_writer_free(struct evlog_writer *w);

/*
 * Appends a TCG_PCR_EVENT2 with the given digests: exactly one per bank of
 * the log, in any order.  Returns 0, -EINVAL (bad pcr or digests) or -ENOSPC.
 * Does not extend anything: the caller extends the TPM with the same digests.
 */
int evlog_append(struct evlog_writer *w, uint32_t pcr, uint32_t type,
		 const struct evlog_digest *digests, size_t ndigests,
		 const void *data, size_t size);

/* Fills digests[0..banks.count) with hash(data) in every bank of the log. */
int evlog_digest_data(const struct evlog_writer *w, const void *data, size_t len,
		      struct evlog_digest *digests);

/*
 * EV_NO_ACTION "StartupLocality\0" + locality, all-zero digests (PFP
 * 10.4.5.3); must come before any event for PCR 0.  Replay then starts PCR 0
 * at ...00LL.  Returns 0, -EINVAL (locality other than 0, 3, 4) or -ENOSPC.
 */
int evlog_append_startup_locality(struct evlog_writer *w, uint8_t locality);

/* ---- parser ----------------------------------------------------------- */

struct evlog_parser {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	uint32_t next_index;
	struct evlog_banks banks;
	uint32_t platform_class;
	int startup_locality;   /* -1 until a StartupLocality event is seen */
	int pcr0_extended;      /* a later StartupLocality is an error */
	struct evlog_error err;
};

/*
 * Checks the Spec ID header and positions p after it.  buf must stay valid
 * while events are read.  Returns 0 or -EBADMSG (p->err says where and why).
 */
int evlog_parse_begin(struct evlog_parser *p, const uint8_t *buf, size_t len);

/*
 * Reads the next event into *ev.  Returns 1 when an event was read, 0 at the
 * exact end of the log, -EBADMSG on malformed input (p->err filled; trailing
 * bytes that are not a whole event are an error, zero padding included).
 */
int evlog_parse_next(struct evlog_parser *p, struct evlog_event *ev);

/* "offset N: FIELD: REASON" into buf; returns buf. */
const char *evlog_strerror(const struct evlog_error *err, char *buf, size_t size);

/* ---- replay ----------------------------------------------------------- */

struct evlog_pcrs {
	struct evlog_banks banks;
	/* value[bank][pcr], banks.size[bank] bytes used */
	uint8_t value[EVLOG_MAX_BANKS][EVLOG_NUM_PCRS][EVLOG_MAX_DIGEST];
	uint32_t extended;      /* bit n set: PCR n got at least one extend */
	uint32_t events;        /* events parsed (header excluded) */
};

/*
 * Parses the whole log and computes every PCR of every bank: PCR n starts at
 * its TPM2_Startup value (zero; all ones for the DRTM PCRs 17-22; PCR 0 at
 * the StartupLocality value if the log gives one), each event other than
 * EV_NO_ACTION extends its PCR: v = H(v || digest).  Returns 0 or -EBADMSG
 * (err filled, if non-NULL).
 */
int evlog_replay(const uint8_t *buf, size_t len, struct evlog_pcrs *out,
		 struct evlog_error *err);

#endif
