/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may be a migration peer (core/launch/migchan.h): the trusted-hosts
 * file, the match of a certificate against it, and the host key's file.
 */
#include "core/launch/migchan_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A CN as the list and the certificate hold it: 1..64 printable ASCII. */
bool migchan_cn_ok(const char *s, size_t n)
{
	if (!n || n > MIGCHAN_CN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* One line (no newline), trailing blanks already cut. */
static int trust_line(struct migchan_trust *t, const char *l, size_t n)
{
	struct migchan_pin *p;

	if (t->n >= ARRAY_SIZE(t->pin))
		return -E2BIG;
	p = &t->pin[t->n];
	memset(p, 0, sizeof(*p));
	if (n == 7 + 64 && !strncmp(l, "sha256:", 7)) {
		for (size_t i = 0; i < 32; i++) {
			int hi = hexval(l[7 + 2 * i]), lo = hexval(l[8 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			p->sha256[i] = (uint8_t)(hi << 4 | lo);
		}
	} else if (n > 3 && !strncmp(l, "cn:", 3) && migchan_cn_ok(l + 3, n - 3)) {
		p->is_cn = true;
		memcpy(p->cn, l + 3, n - 3);
	} else {
		return -EINVAL;
	}
	t->n++;
	return 0;
}

int migchan_trust_parse(const char *buf, size_t len, struct migchan_trust *t,
			char *why, size_t whylen)
{
	size_t off = 0, line = 0;

	t->n = 0;
	while (off < len) {
		const char *l = buf + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off;
		int rc;

		off += n + (nl ? 1 : 0);
		line++;
		while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
			n--;
		if (!n || l[0] == '#')
			continue;
		rc = trust_line(t, l, n);
		if (rc) {
			snprintf(why, whylen, "%s line %zu: %s", t->path, line,
				 rc == -E2BIG ? "more than 256 hosts" :
				 "not \"sha256:<64 hex digits>\" nor \"cn:NAME\"");
			return -EINVAL;
		}
	}
	if (!t->n) {
		snprintf(why, whylen, "%s lists no host: every peer would be refused", t->path);
		return -EINVAL;
	}
	return 0;
}

/* FD is a regular file owned by us (or root) that no one else may write
 * (and, with SECRET, read).  0 or -EPERM with the reason. */
static int file_mode_ok(int fd, const char *path, bool secret, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		return -EPERM;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, whylen, "%s is owned by uid %u, not by us", path,
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & (secret ? 077 : 022))) {
		snprintf(why, whylen, "%s has mode %04o: %s", path, (unsigned)(st.st_mode & 07777),
			 secret ? "a host key must be 0600 or stricter" :
			 "no one but its owner may write it");
		return -EPERM;
	}
	return 0;
}

static int open_checked(const char *path, bool secret, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = file_mode_ok(fd, path, secret, why, whylen);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int migchan_trust_load(const char *path, struct migchan_trust *t, char *why, size_t whylen)
{
	size_t cap = MIGCHAN_TRUSTED_FILE_MAX + 1, len = 0;
	int fd = open_checked(path, false, why, whylen), rc;
	char *buf;

	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap)
			break;
	}
	close(fd);
	if (len > MIGCHAN_TRUSTED_FILE_MAX) {
		snprintf(why, whylen, "%s is larger than %u bytes", path, MIGCHAN_TRUSTED_FILE_MAX);
		rc = -EINVAL;
	} else {
		rc = migchan_trust_parse(buf, len, t, why, whylen);
	}
	free(buf);
	return rc;
}

int migchan_trust_match(const struct migchan_trust *t, const uint8_t sha[32], const char *cn)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct migchan_pin *p = &t->pin[i];

		if (p->is_cn ? (cn && *cn && !strcmp(cn, p->cn)) : !memcmp(sha, p->sha256, 32))
			return 1;
	}
	return 0;
}

FILE *migchan_file_open(const char *path, bool secret, char *why, size_t whylen)
{
	int fd = open_checked(path, secret, why, whylen);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}
