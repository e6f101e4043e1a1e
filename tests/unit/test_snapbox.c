/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealed snapshot (core/launch/snapbox.c) on real files in a temporary
 * folder: round trip of every part (many chunks, empty parts), every byte of
 * a small snapshot flipped, truncation at every byte and every chunk
 * boundary, chunks swapped and spliced from another file, another key, parts
 * out of order, nothing left by abort or a failed commit, re-sealing, the
 * key file's rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "core/launch/snapbox.h"
#include "core/log.h"
#include "core/util.h"

#define BIG (2 * SNAPBOX_CHUNK + 12345)   /* three chunks, the last short */

static char root[64], dir[128], dir2[128], keypath[128];
static struct snapbox_key key, other;

static void key_fixed(struct snapbox_key *k, uint8_t fill)
{
	char path[160];
	int fd;

	memset(k->key, fill, sizeof(k->key));
	snprintf(path, sizeof(path), "%s/k%02x", root, fill);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, k->key, 32), 32);
	close(fd);
	assert_int_equal(snapbox_key_load(path, false, k), 0);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERR);
	snprintf(root, sizeof(root), "/tmp/snapbox.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/a", root);
	snprintf(dir2, sizeof(dir2), "%s/b", root);
	snprintf(keypath, sizeof(keypath), "%s/keys/snapshot.key", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(dir2, 0700), 0);
	key_fixed(&key, 0x11);
	key_fixed(&other, 0x22);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void clear(const char *d)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", d, SNAPBOX_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.tmp", d, SNAPBOX_FILE);
	unlink(p);
}

static uint8_t *file_get(const char *d, size_t *len)
{
	char p[256];
	struct stat st;
	uint8_t *buf;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", d, SNAPBOX_FILE);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void file_put(const char *d, const uint8_t *buf, size_t len)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", d, SNAPBOX_FILE);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* A small snapshot: every part a few bytes, VTPM_VOLATILE empty. */
static void make_small(const char *d, const struct snapbox_key *k, uint8_t digest[32])
{
	static const char *const text[] = { "{\"name\":\"g\"}", "vmstate", "perm", "",
					    "save", "[]" };
	struct snapbox *b;

	clear(d);
	assert_int_equal(snapbox_create(d, k, &b), 0);
	for (int p = SNAPBOX_META; p < SNAPBOX_PART_END; p++)
		assert_int_equal(snapbox_put(b, p, text[p - 1], strlen(text[p - 1])), 0);
	assert_int_equal(snapbox_commit(b, digest), 0);
}

static void make_big(const char *d, uint8_t *big, uint8_t digest[32])
{
	struct snapbox *b;

	clear(d);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	assert_int_equal(snapbox_create(d, &key, &b), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_META, "m", 1), 0);
	/* in uneven pieces, across chunk boundaries */
	for (size_t off = 0; off < BIG;) {
		size_t n = BIG - off < 300001 ? BIG - off : 300001;

		assert_int_equal(snapbox_put(b, SNAPBOX_VMSTATE, big + off, n), 0);
		off += n;
	}
	assert_int_equal(snapbox_put(b, SNAPBOX_DISKS, "d", 1), 0);
	assert_int_equal(snapbox_commit(b, digest), 0);
}

struct collect {
	uint8_t *buf;
	size_t len, cap;
};

static int collect(void *ctx, const void *buf, size_t n)
{
	struct collect *c = ctx;

	if (c->len + n > c->cap)
		return -ENOSPC;
	memcpy(c->buf + c->len, buf, n);
	c->len += n;
	return 0;
}

static void sha256(const uint8_t *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	assert_int_equal(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL), 1);
}

static void test_round_trip(void **state)
{
	uint8_t *big = malloc(BIG), *got = malloc(BIG), d1[32], d2[32], d3[32], *file;
	struct collect c = { got, 0, BIG };
	struct snapbox *b;
	size_t flen;

	(void)state;
	make_big(dir, big, d1);
	assert_int_equal(snapbox_open(dir, &key, &b, d2), 0);
	assert_memory_equal(d1, d2, 32);
	file = file_get(dir, &flen);
	sha256(file, flen, d3);
	assert_memory_equal(d1, d3, 32);
	/* 64 + META 1 chunk + VMSTATE 3 + 3 empty + DISKS 1 */
	assert_int_equal(flen, 64 + 8 * 32 + 1 + BIG + 1);
	assert_int_equal(snapbox_part_size(b, SNAPBOX_VMSTATE), BIG);
	assert_int_equal(snapbox_part_size(b, SNAPBOX_VTPM_VOLATILE), 0);
	/* parts in any order, more than once */
	assert_int_equal(snapbox_read(b, SNAPBOX_VMSTATE, collect, &c), 0);
	assert_int_equal(c.len, BIG);
	assert_memory_equal(got, big, BIG);
	c.len = 0;
	assert_int_equal(snapbox_read(b, SNAPBOX_DISKS, collect, &c), 0);
	assert_int_equal(c.len, 1);
	assert_int_equal(got[0], 'd');
	c.len = 0;
	assert_int_equal(snapbox_read(b, SNAPBOX_META, collect, &c), 0);
	assert_int_equal(c.len, 1);
	assert_int_equal(got[0], 'm');
	c.len = 0;
	assert_int_equal(snapbox_read(b, SNAPBOX_VTPM_SAVESTATE, collect, &c), 0);
	assert_int_equal(c.len, 0);
	snapbox_close(b);
	free(file);
	free(big);
	free(got);
}

static void test_empty_parts(void **state)
{
	struct snapbox *b;
	uint8_t d[32];
	size_t flen;
	uint8_t *file;

	(void)state;
	clear(dir);
	assert_int_equal(snapbox_create(dir, &key, &b), 0);
	assert_int_equal(snapbox_commit(b, d), 0);
	file = file_get(dir, &flen);
	assert_int_equal(flen, 64 + 6 * 32);
	assert_int_equal(snapbox_open(dir, &key, &b, NULL), 0);
	for (int p = SNAPBOX_META; p < SNAPBOX_PART_END; p++)
		assert_int_equal(snapbox_part_size(b, p), 0);
	snapbox_close(b);
	free(file);
}

/* Every single byte changed (three ways), in a small snapshot: refused. */
static void test_every_byte_flipped(void **state)
{
	static const uint8_t xors[] = { 0x01, 0x80, 0xff };
	struct snapbox *b;
	uint8_t d[32], *file;
	size_t flen;

	(void)state;
	make_small(dir, &key, d);
	file = file_get(dir, &flen);
	for (size_t i = 0; i < flen; i++) {
		for (size_t x = 0; x < ARRAY_SIZE(xors); x++) {
			int rc;

			file[i] ^= xors[x];
			file_put(dir, file, flen);
			b = (struct snapbox *)1;
			rc = snapbox_open(dir, &key, &b, NULL);
			if (rc == 0)
				fail_msg("byte %zu ^ 0x%02x accepted", i, xors[x]);
			assert_null(b);
			/* key id bytes: refused as another key; all else: bad message */
			assert_int_equal(rc, i >= 16 && i < 24 ? -EKEYREJECTED : -EBADMSG);
			assert_int_equal(snapbox_check_buf(file, flen, &key), rc);
			file[i] ^= xors[x];
		}
	}
	file_put(dir, file, flen);
	assert_int_equal(snapbox_open(dir, &key, &b, NULL), 0);
	snapbox_close(b);
	free(file);
}

/* Cut at every byte of a small file, and at every chunk boundary of a big one;
 * one byte appended. */
static void test_truncation(void **state)
{
	uint8_t d[32], *file, *big = malloc(BIG);
	struct snapbox *b;
	size_t flen, cut;

	(void)state;
	make_small(dir, &key, d);
	file = file_get(dir, &flen);
	for (size_t n = 0; n < flen; n++)
		assert_int_equal(snapbox_check_buf(file, n, &key), -EBADMSG);
	file = realloc(file, flen + 1);
	file[flen] = 0;
	assert_int_equal(snapbox_check_buf(file, flen + 1, &key), -EBADMSG);
	free(file);

	make_big(dir, big, d);
	file = file_get(dir, &flen);
	/* before each chunk: META, 3 x VMSTATE, 3 empty, DISKS */
	cut = 64;
	for (int k = 0; k < 8; k++) {
		assert_int_equal(snapbox_check_buf(file, cut, &key), -EBADMSG);
		file_put(dir, file, cut);
		assert_int_equal(snapbox_open(dir, &key, &b, NULL), -EBADMSG);
		cut += 32 + (k == 0 || k == 7 ? 1 : k == 1 || k == 2 ? SNAPBOX_CHUNK :
			     k == 3 ? BIG - 2 * SNAPBOX_CHUNK : 0);
	}
	assert_int_equal(cut, flen);
	assert_int_equal(snapbox_check_buf(file, flen, &key), 0);
	free(file);
	free(big);
}

/* Chunks swapped inside a file, or taken from another file of the same key. */
static void test_reorder_splice(void **state)
{
	uint8_t d[32], *a, *c, *big = malloc(BIG);
	size_t alen, clen, c1 = 64 + 33, csz = 32 + SNAPBOX_CHUNK;
	uint8_t *tmp = malloc(csz);

	(void)state;
	make_big(dir, big, d);
	a = file_get(dir, &alen);
	/* swap VMSTATE's first two (full) chunks */
	memcpy(tmp, a + c1, csz);
	memmove(a + c1, a + c1 + csz, csz);
	memcpy(a + c1 + csz, tmp, csz);
	assert_int_equal(snapbox_check_buf(a, alen, &key), -EBADMSG);
	memcpy(tmp, a + c1, csz);             /* back */
	memmove(a + c1, a + c1 + csz, csz);
	memcpy(a + c1 + csz, tmp, csz);
	assert_int_equal(snapbox_check_buf(a, alen, &key), 0);
	/* the same content sealed again: a splice of its chunk is refused */
	make_big(dir2, big, d);
	c = file_get(dir2, &clen);
	assert_int_equal(clen, alen);
	memcpy(a + c1, c + c1, csz);
	assert_int_equal(snapbox_check_buf(a, alen, &key), -EBADMSG);
	/* c's header on a's chunks fails too; c whole is fine */
	assert_int_equal(snapbox_check_buf(c, clen, &key), 0);
	free(a);
	free(c);
	free(tmp);
	free(big);
}

/* A chunk given to another part: the part number is authenticated. */
static void test_part_swap(void **state)
{
	uint8_t d[32], *file;
	size_t flen;

	(void)state;
	make_small(dir, &key, d);
	file = file_get(dir, &flen);
	/* the second chunk's part field (VMSTATE) made PERMANENT */
	file[64 + 32 + strlen("{\"name\":\"g\"}")] = SNAPBOX_VTPM_PERMANENT;
	assert_int_equal(snapbox_check_buf(file, flen, &key), -EBADMSG);
	free(file);
}

static void test_other_key(void **state)
{
	struct snapbox *b;
	uint8_t d[32];

	(void)state;
	make_small(dir, &other, d);
	assert_int_equal(snapbox_open(dir, &key, &b, NULL), -EKEYREJECTED);
	assert_int_equal(snapbox_open(dir, &other, &b, NULL), 0);
	snapbox_close(b);
}

static void test_part_order(void **state)
{
	struct snapbox *b;
	char p[256];
	uint8_t d[32];

	(void)state;
	clear(dir);
	assert_int_equal(snapbox_create(dir, &key, &b), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_VMSTATE, "x", 1), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_META, "y", 1), -EINVAL);
	assert_int_equal(snapbox_put(b, SNAPBOX_PART_END, "y", 1), -EINVAL);
	assert_int_equal(snapbox_put(b, 0, "y", 1), -EINVAL);
	snapbox_abort(b);
	/* nothing left by abort */
	snprintf(p, sizeof(p), "%s/%s.tmp", dir, SNAPBOX_FILE);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/%s", dir, SNAPBOX_FILE);
	assert_int_equal(access(p, F_OK), -1);
	/* never over an existing snapshot; the existing one untouched */
	make_small(dir, &key, d);
	assert_int_equal(snapbox_create(dir, &key, &b), -EEXIST);
	assert_int_equal(snapbox_open(dir, &key, &b, NULL), 0);
	snapbox_close(b);
	assert_int_equal(snapbox_create("relative", &key, &b), -EINVAL);
}

static void test_reseal(void **state)
{
	struct snapbox *b;
	uint8_t d[32], d2[32];
	struct collect c = { malloc(64), 0, 64 };

	(void)state;
	make_small(dir, &key, d);
	clear(dir2);
	assert_int_equal(snapbox_reseal(dir, &key, dir2, &other, d2), 0);
	assert_memory_not_equal(d, d2, 32);
	assert_int_equal(snapbox_open(dir2, &key, &b, NULL), -EKEYREJECTED);
	assert_int_equal(snapbox_open(dir2, &other, &b, NULL), 0);
	assert_int_equal(snapbox_read(b, SNAPBOX_VTPM_PERMANENT, collect, &c), 0);
	assert_int_equal(c.len, 4);
	assert_memory_equal(c.buf, "perm", 4);
	snapbox_close(b);
	/* from the wrong key: refused, nothing written */
	clear(dir2);
	assert_int_equal(snapbox_reseal(dir, &other, dir2, &key, d2), -EKEYREJECTED);
	assert_int_equal(snapbox_open(dir2, &key, &b, NULL), -ENOENT);
	free(c.buf);
}

static void test_key_file(void **state)
{
	struct snapbox_key a, b;
	struct stat st;
	char dirk[160];

	(void)state;
	assert_int_equal(snapbox_key_load(keypath, false, &a), -ENOENT);
	assert_int_equal(snapbox_key_load(keypath, true, &a), 0);
	assert_int_equal(stat(keypath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	snprintf(dirk, sizeof(dirk), "%s/keys", root);
	assert_int_equal(stat(dirk, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(snapbox_key_load(keypath, true, &b), 0);
	assert_memory_equal(a.key, b.key, 32);
	assert_memory_equal(a.id, b.id, 8);
	assert_int_equal(chmod(keypath, 0640), 0);
	assert_int_equal(snapbox_key_load(keypath, false, &b), -EPERM);
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(truncate(keypath, 31), 0);
	assert_int_equal(snapbox_key_load(keypath, false, &b), -EPERM);
	assert_int_equal(snapbox_key_load("rel/key", true, &b), -EINVAL);
	snprintf(dirk, sizeof(dirk), "%s/link.key", root);
	assert_int_equal(symlink(keypath, dirk), 0);
	assert_int_equal(snapbox_key_load(dirk, false, &b), -ELOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_parts),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reorder_splice),
		cmocka_unit_test(test_part_swap),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_part_order),
		cmocka_unit_test(test_reseal),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
