/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot key: 32 random bytes in a root-only file, the launcher's
 * alone (core/launch/snapbox.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/launch/snapbox.h"
#include "core/log.h"
#include "core/util.h"

#define KEY_ID_LABEL "bulwark-snapbox-id"

static int key_id(struct snapbox_key *k)
{
	uint8_t d[32];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(c, KEY_ID_LABEL, sizeof(KEY_ID_LABEL)) &&
		 EVP_DigestUpdate(c, k->key, sizeof(k->key)) &&
		 EVP_DigestFinal_ex(c, d, &n) && n == 32;

	EVP_MD_CTX_free(c);
	if (ok)
		memcpy(k->id, d, sizeof(k->id));
	return ok ? 0 : -EIO;
}

void snapbox_key_id_hex(const struct snapbox_key *k, char out[17])
{
	hex_encode(k->id, sizeof(k->id), out);
}

/* The file at path: ours, 0600, a regular file of 32 bytes; its bytes. */
static int key_read(const char *path, struct snapbox_key *k)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		 (st.st_mode & 07777) != 0600 || st.st_size != (off_t)sizeof(k->key))
		rc = -EPERM;
	if (rc == -EPERM)
		log_err("%s: a snapshot key must be a regular file of %zu bytes, owned "
			"by uid %u, mode 0600", path, sizeof(k->key), (unsigned)geteuid());
	if (!rc) {
		n = read(fd, k->key, sizeof(k->key));
		rc = n == (ssize_t)sizeof(k->key) ? 0 : -EIO;
	}
	close(fd);
	return rc;
}

/* A new key at path, atomically, never over an existing one. */
static int key_make(const char *path)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	uint8_t key[32];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) && errno != EEXIST)
		return -errno;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return -EIO;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = -errno;
	if (!rc && (write_all(fd, key, sizeof(key)) || fsync(fd)))
		rc = -EIO;
	if (fd >= 0)
		close(fd);
	if (!rc && link(tmp, path) && errno != EEXIST)   /* a racing creator won */
		rc = -errno;
	(void)unlink(tmp);
	OPENSSL_cleanse(key, sizeof(key));
	if (!rc)
		log_info("%s: new snapshot key made", path);
	return rc;
}

int snapbox_key_load(const char *path, bool create, struct snapbox_key *k)
{
	int rc;

	path = path ? path : SNAPBOX_KEY_PATH;
	memset(k, 0, sizeof(*k));
	if (path[0] != '/') {
		log_err("snapshot key '%s': not an absolute path", path);
		return -EINVAL;
	}
	rc = key_read(path, k);
	if (rc == -ENOENT && create) {
		rc = key_make(path);
		rc = rc ? rc : key_read(path, k);
	}
	rc = rc ? rc : key_id(k);
	if (rc) {
		if (rc != -EPERM)
			log_err("snapshot key %s: %s", path, strerror(-rc));
		OPENSSL_cleanse(k, sizeof(*k));
	}
	return rc;
}
