/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealed snapshot file (issue 17): what `bulwark snapshot` writes and
 * `bulwark restore` reads, encrypted and authenticated with a key only the
 * launcher holds (the VMM never sees it, nor any file of the snapshot: the
 * launcher reads the VMM's state stream from a socket and seals it).
 *
 * File DIR/SNAPBOX_FILE, little-endian:
 *   header (64 bytes, the AAD of every chunk):
 *     magic "BWSNAPBX", u32 version (1), u32 chunk size (SNAPBOX_CHUNK),
 *     key id (8 bytes: the first 8 bytes of SHA-256("bulwark-snapbox-id" key)),
 *     nonce base (12 random bytes, per file), 24 reserved zero bytes
 *   then chunks, in order:
 *     u32 part, u32 flags (SNAPBOX_FLAG_LAST_IN_PART, SNAPBOX_FLAG_FINAL),
 *     u32 plaintext length (0..SNAPBOX_CHUNK), u32 0,
 *     ciphertext, 16-byte GCM tag
 *   AES-256-GCM, nonce = nonce base XOR (u64 chunk index, little-endian, in
 *   its last 8 bytes); AAD = header || chunk index (u64) || the chunk's
 *   16-byte head (part, flags, length).  So a chunk moved (index), taken
 *   from another file (header, nonce base), given to another part (part),
 *   or a file cut at a chunk boundary (the FINAL flag, on the last chunk
 *   only, and nothing after it) is refused.  Every part of the enum appears
 *   once, in order, each ending with a LAST_IN_PART chunk (an empty part is
 *   one chunk of length 0).
 *   The snapshot's digest is SHA-256 of the whole file as written.
 *
 * Writing: DIR/SNAPBOX_FILE.tmp (O_EXCL, 0600), fsync, rename, fsync DIR;
 * snapbox_abort and any failure unlink the temp file.
 * Reading: snapbox_open authenticates every chunk (and the parts' shape)
 * before it returns; snapbox_read decrypts again (the file was opened once
 * and is read through the same fd; a file changed in between fails its tag).
 *
 * Beyond snap-iface.md's interface C (additions only, nothing changed):
 * SNAPBOX_PART_END, snapbox_key_id_hex, snapbox_part_size, snapbox_reseal
 * (export/import), snapbox_check_buf (the fuzz target's entry).
 */
#ifndef BULWARK_LAUNCH_SNAPBOX_H
#define BULWARK_LAUNCH_SNAPBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPBOX_KEY_PATH "/var/lib/bulwark/snapshot.key"
#define SNAPBOX_FILE     "snapshot.sealed"
#define SNAPBOX_MAGIC    "BWSNAPBX"
#define SNAPBOX_VERSION  1u
#define SNAPBOX_CHUNK    (1u << 20)          /* plaintext bytes per chunk */
#define SNAPBOX_HEADER_SIZE 64u
#define SNAPBOX_CHUNK_HEAD  16u
#define SNAPBOX_TAG         16u
#define SNAPBOX_FLAG_LAST_IN_PART 1u
#define SNAPBOX_FLAG_FINAL        2u
/* Bound on a whole file (a snapshot of the largest guest allowed,
 * VM_MAX_MEMORY_MIB of memory, plus state and chunk overhead): anything
 * longer is refused before reading it. */
#define SNAPBOX_MAX_FILE (65ull << 30)

struct snapbox_key {
	uint8_t key[32];
	uint8_t id[8];
};

/*
 * Loads the key at path (NULL: SNAPBOX_KEY_PATH): a regular file of exactly
 * 32 bytes owned by root (our euid), mode 0600, no symlink.  With create and
 * no file: 32 bytes from getrandom, written 0600 atomically (its folder is
 * created 0700 if absent).  0 or -errno, the reason logged.
 */
int snapbox_key_load(const char *path, bool create, struct snapbox_key *k);
/* The id of a key (above), as 16 hex characters + NUL. */
void snapbox_key_id_hex(const struct snapbox_key *k, char out[17]);

enum snapbox_part {
	SNAPBOX_META = 1,
	SNAPBOX_VMSTATE,
	SNAPBOX_VTPM_PERMANENT,
	SNAPBOX_VTPM_VOLATILE,
	SNAPBOX_VTPM_SAVESTATE,
	SNAPBOX_DISKS,
	SNAPBOX_PART_END                    /* not a part: one past the last */
};

struct snapbox;

/* Starts DIR/SNAPBOX_FILE.tmp (DIR must exist; an existing snapshot there is
 * refused with -EEXIST). */
int snapbox_create(const char *dir, const struct snapbox_key *k, struct snapbox **out);
/* Parts in the enum's order; a part may take many puts; skipping a part
 * writes it empty.  -EINVAL for a part out of order. */
int snapbox_put(struct snapbox *b, enum snapbox_part p, const void *buf, size_t n);
/* Ends every remaining part, the FINAL chunk, fsync, rename, fsync DIR; the
 * digest of the file.  Frees b whatever the result (failure: nothing left). */
int snapbox_commit(struct snapbox *b, uint8_t digest[32]);
/* Nothing left on disk; frees b.  NULL is fine. */
void snapbox_abort(struct snapbox *b);

/*
 * Opens DIR/SNAPBOX_FILE and authenticates the whole file first: -EKEYREJECTED
 * for another key (the reason names both key ids), -EBADMSG for anything
 * else wrong (the reason names the chunk and what), -EFBIG past
 * SNAPBOX_MAX_FILE.  digest (may be NULL): SHA-256 of the file.
 */
int snapbox_open(const char *dir, const struct snapbox_key *k,
		 struct snapbox **out, uint8_t digest[32]);
/* Every byte of part p to sink, in order (sink returning non-zero stops,
 * that value returned).  Parts may be read in any order, each any number
 * of times.  0, -EBADMSG (the file changed since open) or -errno. */
int snapbox_read(struct snapbox *b, enum snapbox_part p,
		 int (*sink)(void *ctx, const void *buf, size_t n), void *ctx);
/* Plaintext length of part p (known after open). */
uint64_t snapbox_part_size(const struct snapbox *b, enum snapbox_part p);
void snapbox_close(struct snapbox *b);

/*
 * Re-seals the snapshot in src_dir (under from) into dst_dir (under to):
 * every chunk authenticated first, then written as a new file (new nonce
 * base).  Used by export (host key -> transport key) and import (transport
 * key -> host key).  digest: the new file's.  0 or -errno.
 */
int snapbox_reseal(const char *src_dir, const struct snapbox_key *from,
		   const char *dst_dir, const struct snapbox_key *to, uint8_t digest[32]);

/*
 * The pure parser of a file's bytes (the fuzz target's entry): checks the
 * header and every chunk in buf[0..len) under k as snapbox_open does.
 */
int snapbox_check_buf(const uint8_t *buf, size_t len, const struct snapbox_key *k);

#endif
