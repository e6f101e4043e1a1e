/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict codecs for bundles and manifests: canonical base64 and lower-case
 * hex only, so that one value has exactly one spelling (an auditor comparing
 * two files byte for byte is never fooled by padding or case), and a bounded
 * file reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/format/bundle.h"
#include "core/path.h"
#include "core/util.h"

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* -1 for bytes outside the alphabet; a table: bundles are mostly base64. */
static int b64_value(char c)
{
	static signed char table[256];
	static int ready;

	if (!ready) {
		memset(table, -1, sizeof(table));
		for (int i = 0; i < 64; i++)
			table[(unsigned char)b64_chars[i]] = (signed char)i;
		ready = 1;
	}
	return table[(unsigned char)c];
}

void bundle_b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		v |= i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0;
		v |= i + 2 < len ? in[i + 2] : 0;
		out[o++] = b64_chars[(v >> 18) & 63];
		out[o++] = b64_chars[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
}

/* One 4-character group into up to 3 bytes; pad: number of '=' (0..2). */
static int b64_group(const char *s, int last, uint8_t *o, size_t *n)
{
	int v[4], pad = 0;

	for (int i = 0; i < 4; i++) {
		if (s[i] == '=' && last && i >= 2 && (i == 3 || s[3] == '=')) {
			v[i] = 0;
			pad++;
			continue;
		}
		v[i] = b64_value(s[i]);
		if (v[i] < 0)
			return -EINVAL;
	}
	/* Canonical: the bits dropped by padding must be zero. */
	if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
		return -EINVAL;
	o[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	o[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
	o[2] = (uint8_t)(v[2] << 6 | v[3]);
	*n = 3 - (size_t)pad;
	return 0;
}

int bundle_b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len)
{
	size_t o = 0;

	if (slen % 4)
		return -EINVAL;
	for (size_t i = 0; i < slen; i += 4) {
		uint8_t g[3];
		size_t n;

		if (b64_group(s + i, i + 4 == slen, g, &n))
			return -EINVAL;
		if (n > cap - o)
			return -E2BIG;
		memcpy(out + o, g, n);
		o += n;
	}
	*len = o;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int bundle_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len)
{
	if (slen % 2)
		return -EINVAL;
	if (slen / 2 > cap)
		return -E2BIG;
	for (size_t i = 0; i < slen; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = slen / 2;
	return 0;
}

uint16_t bundle_bank_alg(const char *name)
{
	static const uint16_t algs[] = { EVLOG_ALG_SHA1, EVLOG_ALG_SHA256,
					 EVLOG_ALG_SHA384, EVLOG_ALG_SHA512 };

	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (!strcmp(evlog_alg_name(algs[i]), name))
			return algs[i];
	return 0;
}

int bundle_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t got = 0;
	int fd, rc = 0;

	fd = path_open_regular(path, O_RDONLY, "file", NULL);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}
