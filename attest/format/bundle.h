/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles: one self-describing JSON file holding everything an
 * offline verifier needs about one quote (format in attest/format/BUNDLE.md).
 *
 * A bundle is untrusted input.  bundle_parse() bounds the size first, parses
 * strictly (exact keys, exact types, canonical base64 and hex, every length
 * bounded), and either returns a complete bundle or nothing.  It checks form
 * only: what the bytes mean is attest/verify/verify.c's job.
 */
#ifndef BULWARK_ATTEST_BUNDLE_H
#define BULWARK_ATTEST_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/eventlog.h"

#define BUNDLE_FORMAT      "bulwark-evidence"
#define BUNDLE_VERSION     1                 /* guest evidence only */
#define BUNDLE_VERSION_HOST 2                /* version 1 + "host" (BUNDLE.md) */
#define BUNDLE_MAX_SIZE    (1024u * 1024u)   /* whole JSON file, version 1 */
/* Version 2 carries the host's IMA list (imalog.h: 32 MiB, base64). */
#define BUNDLE_MAX_SIZE_HOST (48u * 1024u * 1024u)
#define BUNDLE_MAX_TPM     2048u             /* TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC */
#define BUNDLE_MAX_CERT    16384u            /* one DER certificate */
#define BUNDLE_MAX_CHAIN   4                 /* intermediates per chain */
#define BUNDLE_MAX_NONCE   64u               /* TPM2B_DATA in a quote */
#define BUNDLE_MIN_NONCE   16u
#define BUNDLE_NAME_MAX    64
#define BUNDLE_LABEL_MAX   255

/* Parse failures; each is its own verifier reason (attest/verify/verify.h). */
#define BUNDLE_ERR_TOO_LARGE  1   /* more than BUNDLE_MAX_SIZE bytes */
#define BUNDLE_ERR_JSON       2   /* not one complete JSON object */
#define BUNDLE_ERR_FORMAT     3   /* wrong format name or version */
#define BUNDLE_ERR_FIELD      4   /* a field missing, unknown, mistyped or out of bounds */
#define BUNDLE_ERR_CANONICAL  5   /* valid, but not the bytes bundle_write() makes of it */

struct bundle_blob {
	uint8_t *data;     /* owned */
	size_t len;
};

struct bundle_chain {
	struct bundle_blob cert;                  /* leaf, DER */
	struct bundle_blob chain[BUNDLE_MAX_CHAIN];  /* intermediates, leaf first */
	size_t nchain;
};

struct bundle_pcrs {
	struct evlog_banks banks;     /* in the bundle's order */
	uint32_t mask[EVLOG_MAX_BANKS];   /* PCRs present per bank */
	uint8_t value[EVLOG_MAX_BANKS][EVLOG_NUM_PCRS][EVLOG_MAX_DIGEST];
};

/*
 * The host quote made when the guest's AK certificate was issued (optional
 * in version 2; bundle_host.h: its binding to the AK's Name).  Same host AK
 * and PCR 10 bank as the bundle's host quote.
 */
struct bundle_host_enroll {
	int present;
	struct bundle_blob attest;       /* TPMS_ATTEST, extraData binds the guest AK's Name */
	struct bundle_blob signature;    /* TPMT_SIGNATURE by the host AK */
	uint8_t pcr10[EVLOG_MAX_DIGEST]; /* PCR 10 then, in the host's pcr_alg */
	struct bundle_blob ima_log;      /* the IMA list then (imalog.h) */
};

/* The host's evidence (version 2; bundle_host.h: the binding). */
struct bundle_host {
	struct bundle_blob attest;       /* TPMS_ATTEST of the host quote, as signed */
	struct bundle_blob signature;    /* TPMT_SIGNATURE */
	struct bundle_blob ak_public;    /* TPMT_PUBLIC of the host AK */
	struct bundle_chain ak;          /* host AK certificate (+ intermediates) */
	struct bundle_chain ek;          /* host EK certificate (+ intermediates) */
	uint16_t pcr_alg;                /* bank of the quoted PCR 10 */
	uint8_t pcr10[EVLOG_MAX_DIGEST]; /* its value, evlog_alg_size(pcr_alg) bytes */
	struct bundle_blob ima_log;      /* binary ima-ng list (imalog.h) */
	struct bundle_host_enroll enroll; /* "enrollment", optional */
};

/*
 * A live migration's source host (issue 18; bundle_host.h: the binding):
 * the source's host evidence, quoted when the guest moved away from it,
 * bound to the migration stream's SHA-256 (the BWMG event's stream.sha256).
 * host.enroll is never used here.
 */
#define BUNDLE_MAX_HOPS 4u                /* "migrations" entries, oldest first */
#define BUNDLE_HOP_IMA_MAX (8u * 1024u * 1024u)   /* a hop's IMA list */
struct bundle_hop {
	uint8_t stream_sha256[32];
	struct bundle_host host;
};

struct bundle {
	int version;                      /* BUNDLE_VERSION or BUNDLE_VERSION_HOST */
	char name[BUNDLE_NAME_MAX + 1];   /* guest name */
	char uuid[37];                    /* canonical lower-case UUID */
	char label[BUNDLE_LABEL_MAX + 1]; /* SELinux context of the guest */
	char created[32];                 /* informational: YYYY-MM-DDTHH:MM:SSZ (UTC) */
	uint8_t nonce[BUNDLE_MAX_NONCE];
	size_t nonce_len;
	struct bundle_blob attest;        /* TPMS_ATTEST as signed */
	struct bundle_blob signature;     /* TPMT_SIGNATURE */
	struct bundle_blob ak_public;     /* TPMT_PUBLIC of the AK */
	struct bundle_chain ak;
	struct bundle_chain ek;
	struct bundle_pcrs pcrs;
	struct bundle_blob event_log;
	struct bundle_host host;          /* version 2 only */
	size_t nhops;                     /* "migrations" (version 2, optional) */
	struct bundle_hop hops[BUNDLE_MAX_HOPS];
};

/* Why a parse failed: code (BUNDLE_ERR_*) and "field: reason". */
struct bundle_error {
	int code;
	char msg[128];
};

/*
 * Returns 0 or -EBADMSG (err filled); on failure b holds nothing to free.
 * A bundle is accepted only in its canonical encoding: the exact bytes
 * bundle_write() makes of what was read (anything else: BUNDLE_ERR_CANONICAL).
 */
int bundle_parse(const uint8_t *buf, size_t len, struct bundle *b, struct bundle_error *err);
void bundle_free(struct bundle *b);

/* The bundle's canonical JSON text (malloc'd, NUL-terminated) into *out;
 * 0, -EINVAL (a field the format cannot hold) or -ENOMEM. */
int bundle_write(const struct bundle *b, char **out, size_t *out_len);

/* 0 if buf is exactly bundle_write()'s text of b, else -EBADMSG and *at the
 * first byte that differs (or -EINVAL for a field the format cannot hold).
 * b must come from parsing buf. */
int bundle_canonical(const uint8_t *buf, size_t len, const struct bundle *b, size_t *at);

/* The size limit of the bundle in buf: BUNDLE_MAX_SIZE_HOST if it starts as
 * a canonical version 2 bundle, else BUNDLE_MAX_SIZE. */
size_t bundle_max_size(const uint8_t *buf, size_t len);

/* Reads a whole file of at most max bytes; 0, -EFBIG or -errno. */
int bundle_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* ---- codecs (shared by the manifest and the verifier) ----------------- */

/* Canonical base64 (RFC 4648, padded, no whitespace); 0 or -EINVAL/-E2BIG. */
int bundle_b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len);
/* out must hold 4 * ceil(len / 3) + 1 bytes. */
void bundle_b64_encode(const uint8_t *in, size_t len, char *out);
/* Lower-case hex, exactly 2 * len chars; 0 or -EINVAL. */
int bundle_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len);
/* Encoding: hex_encode() (core/util.h), the one hex printer. */

/* "YYYY-MM-DDTHH:MM:SSZ", a real UTC time; its UNIX time, or -1. */
long long bundle_created_time(const char *s);

/* Bank name <-> TPM_ALG_ID for the banks eventlog.h supports (0 if none). */
uint16_t bundle_bank_alg(const char *name);

#endif
