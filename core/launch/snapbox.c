/* SPDX-License-Identifier: Apache-2.0 */
/* The sealed snapshot file: AES-256-GCM chunks bound to the header, the part,
 * the index and the end (core/launch/snapbox.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/launch/snapbox.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/path.h"
#include "core/util.h"

#define NONCE_LEN 12
#define CHUNK_MAX_BYTES (SNAPBOX_CHUNK_HEAD + SNAPBOX_CHUNK + SNAPBOX_TAG)
#define NPARTS (SNAPBOX_PART_END - SNAPBOX_META)

static_assert(SNAPBOX_HEADER_SIZE == 8 + 4 + 4 + 8 + NONCE_LEN + 28, "header layout");
static_assert(SNAPBOX_MAX_FILE >= (VM_MAX_MEMORY_MIB << 20) + (1ull << 30),
	      "the largest guest's snapshot fits");

struct snapbox {
	int fd;                          /* the file (temp while writing) */
	const uint8_t *mem;              /* snapbox_check_buf: bytes, no fd */
	uint64_t mem_len;
	int writer;                      /* made by snapbox_create */
	int writing;                     /* and still writable */
	struct snapbox_key key;
	uint8_t header[SNAPBOX_HEADER_SIZE];
	uint64_t index;                  /* next chunk */
	uint64_t off;                    /* next chunk's file offset */
	enum snapbox_part cur;           /* writing: the part being written */
	size_t fill;
	uint8_t *plain, *chunk;          /* SNAPBOX_CHUNK, CHUNK_MAX_BYTES */
	EVP_CIPHER_CTX *cc;
	EVP_MD_CTX *sha;                 /* of the whole file */
	uint64_t part_off[NPARTS], part_idx[NPARTS], part_size[NPARTS];
	char tmp[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];
};

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- objects ----------------------------------------------------------- */

static struct snapbox *box_new(const struct snapbox_key *k)
{
	struct snapbox *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->fd = -1;
	b->key = *k;
	b->plain = malloc(SNAPBOX_CHUNK);
	b->chunk = malloc(CHUNK_MAX_BYTES);
	b->cc = EVP_CIPHER_CTX_new();
	b->sha = EVP_MD_CTX_new();
	if (!b->plain || !b->chunk || !b->cc || !b->sha ||
	    !EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL)) {
		snapbox_close(b);
		return NULL;
	}
	return b;
}

void snapbox_close(struct snapbox *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->plain)
		OPENSSL_cleanse(b->plain, SNAPBOX_CHUNK);
	OPENSSL_cleanse(&b->key, sizeof(b->key));
	free(b->plain);
	free(b->chunk);
	EVP_CIPHER_CTX_free(b->cc);
	EVP_MD_CTX_free(b->sha);
	free(b);
}

/* ---- one chunk ---------------------------------------------------------- */

/* The chunk's nonce and its AAD's tail (index, head). */
static void chunk_nonce(const struct snapbox *b, uint64_t index, uint8_t nonce[NONCE_LEN])
{
	memcpy(nonce, b->header + 24, NONCE_LEN);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(index >> (8 * i));
}

/* GCM over one chunk: enc 1 seals in place into b->chunk, 0 opens it into
 * b->plain.  head: the chunk's first 16 bytes; 0 or -EBADMSG / -EIO. */
static int chunk_gcm(struct snapbox *b, int enc, uint64_t index, const uint8_t *head,
		     uint8_t *in, size_t len, uint8_t *out, uint8_t tag[SNAPBOX_TAG])
{
	uint8_t nonce[NONCE_LEN], idx[8];
	int n = 0, ok;

	chunk_nonce(b, index, nonce);
	put_le(idx, index, 8);
	ok = EVP_CipherInit_ex(b->cc, EVP_aes_256_gcm(), NULL, b->key.key, nonce, enc) &&
	     EVP_CipherUpdate(b->cc, NULL, &n, b->header, SNAPBOX_HEADER_SIZE) &&
	     EVP_CipherUpdate(b->cc, NULL, &n, idx, sizeof(idx)) &&
	     EVP_CipherUpdate(b->cc, NULL, &n, head, SNAPBOX_CHUNK_HEAD) &&
	     (len == 0 || EVP_CipherUpdate(b->cc, out, &n, in, (int)len));
	if (!ok)
		return -EIO;
	if (!enc && !EVP_CIPHER_CTX_ctrl(b->cc, EVP_CTRL_GCM_SET_TAG, SNAPBOX_TAG, tag))
		return -EIO;
	if (!EVP_CipherFinal_ex(b->cc, out + len, &n))
		return enc ? -EIO : -EBADMSG;
	if (enc && !EVP_CIPHER_CTX_ctrl(b->cc, EVP_CTRL_GCM_GET_TAG, SNAPBOX_TAG, tag))
		return -EIO;
	return 0;
}

static void chunk_head(uint8_t head[SNAPBOX_CHUNK_HEAD], uint32_t part, uint32_t flags,
		       uint32_t len)
{
	memset(head, 0, SNAPBOX_CHUNK_HEAD);
	put_le(head, part, 4);
	put_le(head + 4, flags, 4);
	put_le(head + 8, len, 4);
}

/* Seals b->plain[0..fill) as the next chunk of b->cur and writes it. */
static int chunk_write(struct snapbox *b, uint32_t flags)
{
	uint8_t *c = b->chunk;
	size_t total = SNAPBOX_CHUNK_HEAD + b->fill + SNAPBOX_TAG;
	int rc;

	chunk_head(c, (uint32_t)b->cur, flags, (uint32_t)b->fill);
	rc = chunk_gcm(b, 1, b->index, c, b->plain, b->fill, c + SNAPBOX_CHUNK_HEAD,
		       c + SNAPBOX_CHUNK_HEAD + b->fill);
	rc = rc ? rc : write_all(b->fd, c, total);
	if (!rc && !EVP_DigestUpdate(b->sha, c, total))
		rc = -EIO;
	if (rc)
		return rc;
	b->index++;
	b->off += total;
	b->fill = 0;
	return 0;
}

/* ---- writing ----------------------------------------------------------- */

static int header_make(struct snapbox *b)
{
	uint8_t *h = b->header;

	memset(h, 0, SNAPBOX_HEADER_SIZE);
	memcpy(h, SNAPBOX_MAGIC, 8);
	put_le(h + 8, SNAPBOX_VERSION, 4);
	put_le(h + 12, SNAPBOX_CHUNK, 4);
	memcpy(h + 16, b->key.id, 8);
	if (getrandom(h + 24, NONCE_LEN, 0) != NONCE_LEN)
		return -EIO;
	return 0;
}

static int box_paths(struct snapbox *b, const char *dir)
{
	if (!dir || dir[0] != '/' ||
	    snprintf(b->dir, sizeof(b->dir), "%s", dir) >= (int)sizeof(b->dir) ||
	    snprintf(b->path, sizeof(b->path), "%s/%s", dir, SNAPBOX_FILE) >=
		    (int)sizeof(b->path) ||
	    snprintf(b->tmp, sizeof(b->tmp), "%s/%s.tmp", dir, SNAPBOX_FILE) >=
		    (int)sizeof(b->tmp)) {
		log_err("snapshot folder '%s': not an absolute path that fits", dir ? dir : "");
		return -EINVAL;
	}
	return 0;
}

int snapbox_create(const char *dir, const struct snapbox_key *k, struct snapbox **out)
{
	struct snapbox *b = box_new(k);
	struct stat st;
	int dfd, rc;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	rc = box_paths(b, dir);
	if (rc)
		goto fail;
	dfd = path_open_dir(dir, "snapshot folder", &st);
	if (dfd < 0) {
		rc = dfd;
		goto fail;
	}
	close(dfd);
	if (lstat(b->path, &st) == 0) {
		log_err("%s: a snapshot is already there", b->path);
		rc = -EEXIST;
		goto fail;
	}
	(void)unlink(b->tmp);               /* a stale one of a crashed writer */
	b->fd = open(b->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	rc = b->fd < 0 ? -errno : header_make(b);
	rc = rc ? rc : write_all(b->fd, b->header, SNAPBOX_HEADER_SIZE);
	if (!rc && !EVP_DigestUpdate(b->sha, b->header, SNAPBOX_HEADER_SIZE))
		rc = -EIO;
	if (rc)
		goto fail_tmp;
	b->writer = b->writing = 1;
	b->off = SNAPBOX_HEADER_SIZE;
	b->cur = SNAPBOX_META;
	*out = b;
	return 0;
fail_tmp:
	log_err("%s: cannot start the snapshot: %s", b->tmp, strerror(-rc));
	if (b->fd >= 0)
		(void)unlink(b->tmp);
fail:
	snapbox_close(b);
	return rc;
}

/* Ends the parts before p (each with its LAST chunk, maybe empty). */
static int parts_advance(struct snapbox *b, enum snapbox_part p)
{
	int rc = 0;

	while (!rc && b->cur < p) {
		uint32_t flags = SNAPBOX_FLAG_LAST_IN_PART;

		if (b->cur + 1 == SNAPBOX_PART_END)
			flags |= SNAPBOX_FLAG_FINAL;
		rc = chunk_write(b, flags);
		b->cur++;
	}
	return rc;
}

int snapbox_put(struct snapbox *b, enum snapbox_part p, const void *buf, size_t n)
{
	const uint8_t *s = buf;
	int rc;

	if (!b || !b->writing || p < b->cur || p >= SNAPBOX_PART_END || (n && !buf)) {
		log_err("snapshot part %d out of order or invalid", (int)p);
		return -EINVAL;
	}
	rc = parts_advance(b, p);
	while (!rc && n) {
		size_t k = SNAPBOX_CHUNK - b->fill;

		if (k == 0) {            /* full, and more follows: not the last */
			rc = chunk_write(b, 0);
			continue;
		}
		k = k < n ? k : n;
		memcpy(b->plain + b->fill, s, k);
		b->fill += k;
		s += k;
		n -= k;
	}
	if (rc)
		b->writing = 0;          /* a failed put spoils the file */
	return rc;
}

static int dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

int snapbox_commit(struct snapbox *b, uint8_t digest[32])
{
	unsigned int n = 0;
	int rc = b && b->writing ? 0 : -EINVAL;

	rc = rc ? rc : parts_advance(b, SNAPBOX_PART_END);
	if (!rc && (!EVP_DigestFinal_ex(b->sha, digest, &n) || n != 32))
		rc = -EIO;
	if (!rc && fsync(b->fd))
		rc = -errno;
	if (!rc && link(b->tmp, b->path))    /* never over an existing snapshot */
		rc = -errno;
	if (!rc && (unlink(b->tmp) || dir_sync(b->dir))) {
		rc = -EIO;
		(void)unlink(b->path);         /* not known to be durable: none */
	}
	if (rc && b) {
		log_err("%s: the snapshot could not be written: %s", b->path, strerror(-rc));
		(void)unlink(b->tmp);
	}
	snapbox_close(b);
	return rc;
}

void snapbox_abort(struct snapbox *b)
{
	if (!b)
		return;
	if (b->writer)
		(void)unlink(b->tmp);
	snapbox_close(b);
}

/* ---- reading ------------------------------------------------------------ */

/* n bytes at off from the file (or the buffer); -EBADMSG when it ends. */
static int src_read(struct snapbox *b, uint64_t off, void *buf, size_t n)
{
	size_t got = 0;

	if (b->mem) {
		if (!range_fits(off, n, b->mem_len))
			return -EBADMSG;
		memcpy(buf, b->mem + off, n);
		return 0;
	}
	while (got < n) {
		ssize_t r = pread(b->fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EBADMSG;
		got += (size_t)r;
	}
	return 0;
}

static int header_check(struct snapbox *b, uint64_t size)
{
	static const uint8_t zero[SNAPBOX_HEADER_SIZE];
	const uint8_t *h = b->header;
	char have[17], want[17];

	if (size < SNAPBOX_HEADER_SIZE || src_read(b, 0, b->header, SNAPBOX_HEADER_SIZE)) {
		log_err("snapshot: shorter than its header (%llu bytes)",
			(unsigned long long)size);
		return -EBADMSG;
	}
	if (memcmp(h, SNAPBOX_MAGIC, 8)) {
		log_err("snapshot: not a sealed Bulwark snapshot (bad magic)");
		return -EBADMSG;
	}
	if (get_le32(h + 8) != SNAPBOX_VERSION || get_le32(h + 12) != SNAPBOX_CHUNK ||
	    memcmp(h + 36, zero, SNAPBOX_HEADER_SIZE - 36)) {
		log_err("snapshot: version %u, chunk size %u or reserved bytes not ours "
			"(version %u, chunk %u)", get_le32(h + 8), get_le32(h + 12),
			SNAPBOX_VERSION, SNAPBOX_CHUNK);
		return -EBADMSG;
	}
	if (memcmp(h + 16, b->key.id, 8)) {
		hex_encode(h + 16, 8, have);
		snapbox_key_id_hex(&b->key, want);
		log_err("snapshot: sealed under key id %s, not under the key given (id %s); "
			"a snapshot from another host needs snapshot-export there and "
			"snapshot-import here", have, want);
		return -EKEYREJECTED;
	}
	return EVP_DigestUpdate(b->sha, h, SNAPBOX_HEADER_SIZE) ? 0 : -EIO;
}

/* The chunk at b->off: head bounds, read, tag; part, flags and len set. */
static int chunk_open(struct snapbox *b, uint32_t *part, uint32_t *flags, uint32_t *len)
{
	uint8_t *c = b->chunk;
	int rc = src_read(b, b->off, c, SNAPBOX_CHUNK_HEAD);

	if (rc) {
		log_err("snapshot: cut short before chunk %llu (no final chunk)",
			(unsigned long long)b->index);
		return rc;
	}
	*part = get_le32(c);
	*flags = get_le32(c + 4);
	*len = get_le32(c + 8);
	if (*len > SNAPBOX_CHUNK) {
		log_err("snapshot: chunk %llu claims %u bytes (at most %u)",
			(unsigned long long)b->index, *len, SNAPBOX_CHUNK);
		return -EBADMSG;
	}
	rc = src_read(b, b->off + SNAPBOX_CHUNK_HEAD, c + SNAPBOX_CHUNK_HEAD,
		      *len + SNAPBOX_TAG);
	if (rc) {
		log_err("snapshot: chunk %llu cut short", (unsigned long long)b->index);
		return rc;
	}
	rc = chunk_gcm(b, 0, b->index, c, c + SNAPBOX_CHUNK_HEAD, *len, b->plain,
		       c + SNAPBOX_CHUNK_HEAD + *len);
	if (rc == -EBADMSG)
		log_err("snapshot: chunk %llu fails authentication (changed, moved or "
			"from another file)", (unsigned long long)b->index);
	return rc;
}

/* The shape of an authenticated chunk: parts in order, full chunks except the
 * last of a part, FINAL only on the last part's last chunk. */
static int chunk_shape(struct snapbox *b, uint32_t part, uint32_t flags, uint32_t len)
{
	uint32_t last = flags & SNAPBOX_FLAG_LAST_IN_PART, fin = flags & SNAPBOX_FLAG_FINAL;
	const char *why = NULL;

	if (part != (uint32_t)b->cur)
		why = "belongs to another part than expected";
	else if (get_le32(b->chunk + 12))
		why = "has reserved bytes set";
	else if (flags & ~(uint32_t)(SNAPBOX_FLAG_LAST_IN_PART | SNAPBOX_FLAG_FINAL))
		why = "has unknown flags";
	else if (!last && len != SNAPBOX_CHUNK)
		why = "is short but not its part's last";
	else if (fin != ((last && part + 1 == SNAPBOX_PART_END) ? SNAPBOX_FLAG_FINAL : 0))
		why = "has a final marker where none belongs, or lacks it";
	if (why) {
		log_err("snapshot: chunk %llu (part %u) %s", (unsigned long long)b->index,
			part, why);
		return -EBADMSG;
	}
	return 0;
}

/* Every chunk, start to end, authenticated; the parts' places recorded. */
static int box_verify(struct snapbox *b, uint64_t size, uint8_t digest[32])
{
	uint32_t part, flags, len;
	unsigned int n = 0;
	int rc = header_check(b, size), start = 1;

	b->off = SNAPBOX_HEADER_SIZE;
	b->cur = SNAPBOX_META;
	while (!rc && b->cur < SNAPBOX_PART_END) {
		rc = chunk_open(b, &part, &flags, &len);
		rc = rc ? rc : chunk_shape(b, part, flags, len);
		if (rc)
			break;
		if (start) {
			b->part_off[b->cur - 1] = b->off;
			b->part_idx[b->cur - 1] = b->index;
		}
		b->part_size[b->cur - 1] += len;
		start = !!(flags & SNAPBOX_FLAG_LAST_IN_PART);
		if (!EVP_DigestUpdate(b->sha, b->chunk, SNAPBOX_CHUNK_HEAD + len + SNAPBOX_TAG))
			rc = -EIO;
		b->off += SNAPBOX_CHUNK_HEAD + len + SNAPBOX_TAG;
		b->index++;
		b->cur += start;
	}
	if (!rc && b->off != size) {
		log_err("snapshot: %llu bytes after the final chunk",
			(unsigned long long)(size - b->off));
		rc = -EBADMSG;
	}
	if (!rc && digest && (!EVP_DigestFinal_ex(b->sha, digest, &n) || n != 32))
		rc = -EIO;
	OPENSSL_cleanse(b->plain, SNAPBOX_CHUNK);
	return rc;
}

int snapbox_open(const char *dir, const struct snapbox_key *k, struct snapbox **out,
		 uint8_t digest[32])
{
	struct snapbox *b = box_new(k);
	uint8_t d[32];
	struct stat st;
	int rc;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	rc = box_paths(b, dir);
	if (rc)
		goto fail;
	b->fd = path_open_regular(b->path, O_RDONLY, "snapshot", &st);
	if (b->fd < 0) {
		rc = b->fd;
		goto fail;
	}
	if ((uint64_t)st.st_size > SNAPBOX_MAX_FILE) {
		log_err("%s: %lld bytes, more than a snapshot may hold", b->path,
			(long long)st.st_size);
		rc = -EFBIG;
		goto fail;
	}
	rc = box_verify(b, (uint64_t)st.st_size, d);
	if (rc)
		goto fail;
	if (digest)
		memcpy(digest, d, 32);
	*out = b;
	return 0;
fail:
	log_err("%s: refused: %s", b->path[0] ? b->path : "snapshot", strerror(-rc));
	snapbox_close(b);
	return rc;
}

int snapbox_check_buf(const uint8_t *buf, size_t len, const struct snapbox_key *k)
{
	struct snapbox *b = box_new(k);
	int rc;

	if (!b)
		return -ENOMEM;
	b->mem = buf;
	b->mem_len = len;
	rc = box_verify(b, len, NULL);
	snapbox_close(b);
	return rc;
}

uint64_t snapbox_part_size(const struct snapbox *b, enum snapbox_part p)
{
	if (!b || p < SNAPBOX_META || p >= SNAPBOX_PART_END)
		return 0;
	return b->part_size[p - 1];
}

int snapbox_read(struct snapbox *b, enum snapbox_part p,
		 int (*sink)(void *ctx, const void *buf, size_t n), void *ctx)
{
	uint32_t part, flags = 0, len;
	int rc = 0;

	if (!b || b->writer || p < SNAPBOX_META || p >= SNAPBOX_PART_END || !sink)
		return -EINVAL;
	b->off = b->part_off[p - 1];
	b->index = b->part_idx[p - 1];
	b->cur = p;
	while (!rc && !(flags & SNAPBOX_FLAG_LAST_IN_PART)) {
		rc = chunk_open(b, &part, &flags, &len);
		rc = rc ? rc : chunk_shape(b, part, flags, len);
		if (!rc && len)
			rc = sink(ctx, b->plain, len);
		b->off += SNAPBOX_CHUNK_HEAD + len + SNAPBOX_TAG;
		b->index++;
	}
	OPENSSL_cleanse(b->plain, SNAPBOX_CHUNK);
	return rc;
}

/* ---- re-sealing (export/import) ---------------------------------------- */

struct reseal {
	struct snapbox *to;
	enum snapbox_part part;
};

static int reseal_sink(void *ctx, const void *buf, size_t n)
{
	struct reseal *r = ctx;

	return snapbox_put(r->to, r->part, buf, n);
}

int snapbox_reseal(const char *src_dir, const struct snapbox_key *from,
		   const char *dst_dir, const struct snapbox_key *to, uint8_t digest[32])
{
	struct snapbox *in = NULL;
	struct reseal r = { 0 };
	int rc;

	rc = snapbox_open(src_dir, from, &in, NULL);
	rc = rc ? rc : snapbox_create(dst_dir, to, &r.to);
	for (r.part = SNAPBOX_META; !rc && r.part < SNAPBOX_PART_END; r.part++) {
		rc = snapbox_put(r.to, r.part, NULL, 0);
		rc = rc ? rc : snapbox_read(in, r.part, reseal_sink, &r);
	}
	snapbox_close(in);
	if (rc) {
		snapbox_abort(r.to);
		return rc;
	}
	return snapbox_commit(r.to, digest);
}
