/* SPDX-License-Identifier: Apache-2.0 */
/* The host allowlist: strict line parser and sorted lookups (host_allow.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle.h"
#include "attest/format/host_allow.h"
#include "attest/format/imalog.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct host_allow_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	if (x->alg != y->alg)
		return x->alg < y->alg ? -1 : 1;
	return memcmp(x->digest, y->digest, EVLOG_MAX_DIGEST);
}

void host_allow_sort(struct host_allow_entry *e, size_t n)
{
	if (n)
		qsort(e, n, sizeof(*e), entry_cmp);
}

int host_allow_find(const struct host_allow_entry *e, size_t n, const char *path,
		    uint16_t alg, const uint8_t *digest, size_t size)
{
	struct host_allow_entry key = { .path = path, .alg = alg };

	if (!n || size > EVLOG_MAX_DIGEST)
		return 0;
	memcpy(key.digest, digest, size);
	return bsearch(&key, e, n, sizeof(key), entry_cmp) != NULL;
}

/* "ALG:HEX PATH" (NUL-terminated line) into *e; NULL or why not. */
static const char *parse_line(char *line, struct host_allow_entry *e)
{
	static const uint16_t algs[] = { EVLOG_ALG_SHA1, EVLOG_ALG_SHA256, EVLOG_ALG_SHA384,
					 EVLOG_ALG_SHA512 };
	char *colon = strchr(line, ':'), *sp;
	size_t got = 0, plen;

	if (!colon)
		return "not ALG:HEX PATH";
	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if ((size_t)(colon - line) == strlen(evlog_alg_name(algs[i])) &&
		    !memcmp(line, evlog_alg_name(algs[i]), (size_t)(colon - line)))
			e->alg = algs[i];
	if (!e->alg)
		return "unknown digest algorithm";
	sp = strchr(colon + 1, ' ');
	if (!sp || bundle_hex_decode(colon + 1, (size_t)(sp - colon - 1), e->digest,
				     sizeof(e->digest), &got) || got != evlog_alg_size(e->alg))
		return "digest not lower-case hex of the algorithm's size";
	plen = strlen(sp + 1);
	if (!plen || plen > IMALOG_MAX_PATH)
		return "path empty or longer than 4095 bytes";
	e->path = sp + 1;
	return NULL;
}

/* Counts the lines, checks the file's shape (no NUL, last line ended). */
static int shape(const char *t, size_t len, size_t *lines, char *why, size_t cap)
{
	*lines = 0;
	if (len > HOST_ALLOW_MAX_SIZE || memchr(t, 0, len)) {
		snprintf(why, cap, "larger than %u bytes, or a NUL byte", HOST_ALLOW_MAX_SIZE);
		return -EBADMSG;
	}
	if (len && t[len - 1] != '\n') {
		snprintf(why, cap, "the last line has no newline");
		return -EBADMSG;
	}
	for (size_t i = 0; i < len; i++)
		*lines += t[i] == '\n';
	if (*lines > HOST_ALLOW_MAX_ENTRIES) {
		snprintf(why, cap, "more than %u lines", HOST_ALLOW_MAX_ENTRIES);
		return -EBADMSG;
	}
	return 0;
}

int host_allow_parse(const uint8_t *buf, size_t len, struct host_allowlist *out,
		     char *why, size_t cap)
{
	size_t lines, no = 0;
	char *line, *next;
	int rc = shape((const char *)buf, len, &lines, why, cap);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	out->text = malloc(len + 1);
	out->e = calloc(lines ? lines : 1, sizeof(*out->e));
	if (!out->text || !out->e) {
		host_allow_free(out);
		return -ENOMEM;
	}
	memcpy(out->text, buf, len);
	out->text[len] = '\0';
	for (line = out->text; *line; line = next) {
		const char *bad;

		next = strchr(line, '\n');
		*next++ = '\0';
		no++;
		if (!*line || *line == '#')
			continue;
		if ((bad = parse_line(line, &out->e[out->n]))) {
			snprintf(why, cap, "line %zu: %s", no, bad);
			host_allow_free(out);
			return -EBADMSG;
		}
		out->n++;
	}
	host_allow_sort(out->e, out->n);
	return 0;
}

void host_allow_free(struct host_allowlist *l)
{
	free(l->e);
	free(l->text);
	memset(l, 0, sizeof(*l));
}
