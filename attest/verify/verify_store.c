/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The used-nonce store shared by verifier runs (--used-nonces STORE): one
 * lower-case hex nonce per line.  A run holds an exclusive flock on
 * STORE.lock from before it reads the store until after it has replaced it,
 * so runs against one store are serialised: of several concurrent runs with
 * one nonce, exactly one sees it unused.  The store is replaced atomically
 * (a temporary file in the same folder, fsync, rename, fsync of the folder),
 * so a crash leaves the old store or the new one, never half a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/verify/verify_priv.h"
#include "core/log.h"

#define STORE_MAX_SIZE (64u << 20)

struct verify_store {
	char *path;
	int lock_fd;
	uint8_t *old;             /* the store's bytes as read (rewritten first) */
	size_t old_len;
};

/* STORE.lock, opened without following a symlink, then locked (blocks). */
static int store_lock(const char *path, int *fd)
{
	char lock[4096];
	struct stat st;
	int n = snprintf(lock, sizeof(lock), "%s.lock", path);

	if (n < 0 || (size_t)n >= sizeof(lock))
		return -ENAMETOOLONG;
	*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return -EINVAL;       /* a FIFO or device where the lock file goes */
	}
	while (flock(*fd, LOCK_EX)) {
		if (errno != EINTR) {
			int rc = -errno;

			close(*fd);
			*fd = -1;
			return rc;
		}
	}
	return 0;
}

/* Every line a nonce of 16..64 bytes; each marked used in ctx. */
static int store_load(struct verify_ctx *ctx, struct verify_store *st)
{
	uint8_t nonce[BUNDLE_MAX_NONCE];
	size_t line = 1;

	for (size_t off = 0; off < st->old_len; line++) {
		const uint8_t *nl = memchr(st->old + off, '\n', st->old_len - off);
		size_t len = nl ? (size_t)(nl - (st->old + off)) : st->old_len - off, n = 0;
		int rc = bundle_hex_decode((const char *)st->old + off, len, nonce, sizeof(nonce), &n);

		if (!nl || rc || n < BUNDLE_MIN_NONCE) {
			log_err("%s: line %zu is not a nonce of 16..64 bytes in lower-case hex",
				st->path, line);
			return -EINVAL;
		}
		rc = verify_ctx_seen_nonce(ctx, nonce, n);
		if (rc)
			return rc;
		off += len + 1;
	}
	return 0;
}

int verify_store_open(const char *path, struct verify_ctx *ctx, struct verify_store **out)
{
	struct verify_store *st = calloc(1, sizeof(*st));
	int rc = st ? 0 : -ENOMEM;

	if (st) {
		st->lock_fd = -1;
		st->path = strdup(path);
		rc = st->path ? store_lock(path, &st->lock_fd) : -ENOMEM;
	}
	rc = rc ? rc : bundle_read_file(path, STORE_MAX_SIZE, &st->old, &st->old_len);
	if (rc == -ENOENT && st->lock_fd >= 0)
		rc = 0;       /* a new store */
	rc = rc ? rc : store_load(ctx, st);
	if (rc) {
		if (rc != -EINVAL)
			log_err("nonce store %s: %s", path, strerror(-rc));
		verify_store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* 1 if res's nonce is to be added: seen in its quote and not a replay. */
static int store_adds(const struct verify_result *res)
{
	if (!res->nonce_hex[0])
		return 0;
	for (size_t i = 0; i < res->nfail; i++)
		if (res->fail[i].reason == VR_NONCE_REPLAYED)
			return 0;
	return 1;
}

static int store_write(int fd, const struct verify_store *st, const struct verify_result *res,
		       size_t n)
{
	FILE *f = fdopen(fd, "w");
	int rc = 0;

	if (!f) {
		close(fd);
		return -errno;
	}
	if (st->old_len && fwrite(st->old, 1, st->old_len, f) != st->old_len)
		rc = -EIO;
	for (size_t i = 0; !rc && i < n; i++)
		if (store_adds(&res[i]) && fprintf(f, "%s\n", res[i].nonce_hex) < 0)
			rc = -EIO;
	if (!rc && (fflush(f) || fsync(fileno(f))))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/* The folder's entry for the new file reaches the disk too. */
static int dir_sync(const char *path)
{
	char *copy = strdup(path);
	int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = fd < 0 || fsync(fd) ? -errno : 0;

	if (fd >= 0)
		close(fd);
	free(copy);
	return copy ? rc : -ENOMEM;
}

int verify_store_commit(struct verify_store *st, const struct verify_result *res, size_t n)
{
	size_t len = strlen(st->path) + sizeof(".XXXXXX");
	char *tmp = malloc(len);
	int fd, rc;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, len, "%s.XXXXXX", st->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	rc = store_write(fd, st, res, n);
	if (!rc && rename(tmp, st->path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	rc = rc ? rc : dir_sync(st->path);
	if (rc)
		log_err("nonce store %s: cannot update: %s", st->path, strerror(-rc));
	free(tmp);
	return rc;
}

void verify_store_close(struct verify_store *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd);      /* releases the flock */
	free(st->old);
	free(st->path);
	free(st);
}
