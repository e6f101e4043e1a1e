/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical SELinux policy digest (policy_digest.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sepol/debug.h>
#include <sepol/handle.h>
#include <sepol/policydb.h>

#include "attest/vtpm/policy_digest.h"
#include "core/log.h"
#include "core/util.h"

int policy_digest_image(const uint8_t *buf, size_t len, uint8_t out[32])
{
	sepol_policy_file_t *pf = NULL;
	sepol_policydb_t *p = NULL;
	sepol_handle_t *h;
	void *img = NULL;
	size_t img_len = 0;
	int rc = -ENOMEM;

	if (!buf || !len || len > POLICY_DIGEST_MAX_SIZE)
		return -EINVAL;
	h = sepol_handle_create();
	if (!h)
		return -ENOMEM;
	/* Quiet: libsepol would print to stdout; the caller says what failed. */
	sepol_msg_set_callback(h, NULL, NULL);
	if (sepol_policy_file_create(&pf))
		goto out;
	if (sepol_policydb_create(&p))
		goto out_pf;
	sepol_policy_file_set_handle(pf, h);
	sepol_policy_file_set_mem(pf, (char *)(uintptr_t)buf, len);
	rc = -EINVAL;
	if (sepol_policydb_read(p, pf))
		goto out_p;
	rc = -ENOMEM;
	if (sepol_policydb_to_image(h, p, &img, &img_len))
		goto out_p;
	rc = EVP_Digest(img, img_len, out, NULL, EVP_sha256(), NULL) ? 0 : -EIO;
	free(img);
out_p:
	sepol_policydb_free(p);
out_pf:
	sepol_policy_file_free(pf);
out:
	sepol_handle_destroy(h);
	return rc;
}

/* The whole file, read to its end (at most POLICY_DIGEST_MAX_SIZE). */
static int policy_digest_read(int fd, uint8_t **buf, size_t *len)
{
	size_t cap = 1u << 20, n = 0;
	uint8_t *b = malloc(cap), *nb;
	ssize_t r;

	while (b && (r = read(fd, b + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(b);
			return -errno;
		}
		n += (size_t)r;
		if (n == cap) {
			if (cap >= POLICY_DIGEST_MAX_SIZE) {
				free(b);
				return -EFBIG;
			}
			nb = realloc(b, cap * 2);
			if (!nb)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	if (!b)
		return -ENOMEM;
	*buf = b;
	*len = n;
	return 0;
}

int policy_digest_file(const char *path, uint8_t out[32])
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open_busy_retry(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	rc = policy_digest_read(fd, &buf, &len);
	close(fd);
	if (!rc)
		rc = policy_digest_image(buf, len, out);
	if (rc)
		log_err("%s: %s", path,
			rc == -EINVAL ? "not a binary SELinux policy" : strerror(-rc));
	free(buf);
	return rc;
}
