/* SPDX-License-Identifier: Apache-2.0 */
/* The host allowlist from an installed host (host_allow_build.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


#include "attest/format/imalog.h"
#include "attest/producer/host_allow_build.h"
#include "core/launch/file_digest.h"
#include "core/log.h"
#include "core/util.h"

/* nftw has no context argument: one walk at a time (a CLI command). */
static struct {
	FILE *out;
	size_t root_len;
	size_t count;
	int err;
} walk;

static int file_sha256(const char *path, uint8_t d[32])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc;

	if (fd < 0)
		return -errno;
	rc = sha256_fd(fd, d);
	close(fd);
	return rc;
}

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *name = path + walk.root_len;
	char hex[65];
	uint8_t d[32];
	int rc;

	(void)ftw;
	if (flag == FTW_DNR || flag == FTW_NS) {
		log_err("host allowlist: cannot read %s", path);
		walk.err = -EACCES;
		return 1;
	}
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (!*name || strlen(name) > IMALOG_MAX_PATH || strchr(name, '\n')) {
		log_warn("host allowlist: skipping %s (name IMA cannot log as one line)", path);
		return 0;
	}
	rc = file_sha256(path, d);
	if (rc) {
		log_err("host allowlist: %s: %s", path, strerror(-rc));
		walk.err = rc;
		return 1;
	}
	hex_encode(d, sizeof(d), hex);
	if (fprintf(walk.out, "sha256:%s %s\n", hex, name) < 0) {
		walk.err = -EIO;
		return 1;
	}
	walk.count++;
	return 0;
}

int host_allow_build(const char *root, const char *const *paths, size_t n, FILE *out,
		     size_t *count)
{
	char top[PATH_MAX];
	size_t rl = root ? strlen(root) : 0;

	while (rl && root[rl - 1] == '/')
		rl--;                        /* "/" and "" are this machine */
	memset(&walk, 0, sizeof(walk));
	walk.out = out;
	walk.root_len = rl;
	for (size_t i = 0; i < n && !walk.err; i++) {
		if (paths[i][0] != '/' ||
		    snprintf(top, sizeof(top), "%.*s%s", (int)rl, root ? root : "", paths[i]) >=
		    (int)sizeof(top))
			return -EINVAL;
		if (nftw(top, walk_one, 16, FTW_PHYS) && !walk.err)
			walk.err = -errno ? -errno : -EIO;
	}
	*count = walk.count;
	return walk.err;
}
