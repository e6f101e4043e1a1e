/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 of a whole file through a descriptor (core/launch/file_digest.h). */
#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/launch/file_digest.h"

int sha256_fd(int fd, uint8_t out[32])
{
	static __thread uint8_t buf[1 << 16];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	off_t off = 0;
	int rc = 0;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = pread(fd, buf, sizeof(buf), off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (!EVP_DigestUpdate(c, buf, (size_t)r)) {
			rc = -EIO;
			break;
		}
		off += r;
	}
	if (!rc && (!EVP_DigestFinal_ex(c, out, &n) || n != 32))
		rc = -EIO;
	EVP_MD_CTX_free(c);
	return rc;
}
