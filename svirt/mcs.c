/* SPDX-License-Identifier: Apache-2.0 */
/* Category sets, MCS levels and label strings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

bool svirt_cats_has(const struct svirt_cats *s, uint16_t c)
{
	for (uint16_t i = 0; i < s->n; i++)
		if (s->c[i] == c)
			return true;
	return false;
}

/* Inserts c keeping the set sorted; -E2BIG when full, -ERANGE when invalid. */
int svirt_cats_add(struct svirt_cats *s, uint16_t c)
{
	uint16_t i;

	if (c >= SVIRT_CAT_LIMIT)
		return -ERANGE;
	if (svirt_cats_has(s, c))
		return 0;
	if (s->n >= ARRAY_SIZE(s->c))
		return -E2BIG;
	for (i = s->n; i > 0 && s->c[i - 1] > c; i--)
		s->c[i] = s->c[i - 1];
	s->c[i] = c;
	s->n++;
	return 0;
}

bool svirt_cats_subset(const struct svirt_cats *a, const struct svirt_cats *b)
{
	for (uint16_t i = 0; i < a->n; i++)
		if (!svirt_cats_has(b, a->c[i]))
			return false;
	return true;
}

static int cat_parse(const char *s, const char **end, uint16_t *out)
{
	char *e;
	unsigned long v;

	if (s[0] != 'c' || s[1] < '0' || s[1] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 1, &e, 10);
	if (errno || v >= SVIRT_CAT_LIMIT || (s[1] == '0' && e != s + 2))
		return -EINVAL;
	*out = (uint16_t)v;
	*end = e;
	return 0;
}

/* One element of a category list: "cN" or "cN.cM". */
static int cats_parse_item(const char *p, const char **end,
			   struct svirt_cats *out)
{
	uint16_t a, b;
	int rc;

	rc = cat_parse(p, &p, &a);
	if (rc)
		return rc;
	b = a;
	if (*p == '.') {
		rc = cat_parse(p + 1, &p, &b);
		if (rc || b <= a)
			return -EINVAL;
	}
	for (uint32_t c = a; c <= b; c++) {
		rc = svirt_cats_add(out, (uint16_t)c);
		if (rc)
			return rc;
	}
	*end = p;
	return 0;
}

int svirt_cats_parse_level(const char *level, struct svirt_cats *out)
{
	const char *p;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(level, "s0", 2))
		return -EINVAL;
	p = level + 2;
	if (*p == '\0')
		return 0;
	if (*p++ != ':')
		return -EINVAL;
	for (;;) {
		rc = cats_parse_item(p, &p, out);
		if (rc)
			return rc;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

int svirt_cats_format(const struct svirt_cats *s, char *buf, size_t len)
{
	size_t off;
	int n;

	n = snprintf(buf, len, "s0");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	off = (size_t)n;
	for (uint16_t i = 0; i < s->n; i++) {
		n = snprintf(buf + off, len - off, "%sc%u", i ? "," : ":",
			     (unsigned)s->c[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
	}
	return 0;
}

int svirt_label_compose(const char *user, const char *role, const char *type,
			const struct svirt_cats *s, char *buf, size_t len)
{
	char level[SVIRT_LABEL_MAX];
	int n, rc;

	rc = svirt_cats_format(s, level, sizeof(level));
	if (rc)
		return rc;
	n = snprintf(buf, len, "%s:%s:%s:%s", user, role, type, level);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int svirt_label_split(const char *ctx, char *type, size_t tlen,
		      const char **level)
{
	const char *t, *l;

	t = strchr(ctx, ':');
	t = t ? strchr(t + 1, ':') : NULL;
	l = t ? strchr(t + 1, ':') : NULL;
	if (!l || (size_t)(l - t - 1) >= tlen || l == t + 1)
		return -EINVAL;
	memcpy(type, t + 1, (size_t)(l - t - 1));
	type[l - t - 1] = '\0';
	*level = l + 1;
	return 0;
}

bool svirt_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= SVIRT_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-") == n;
}

/* A context as the kernel prints it: printable, no blanks, bounded. */
bool svirt_label_valid(const char *label)
{
	size_t n = strlen(label);

	if (n == 0 || n >= SVIRT_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (label[i] <= ' ' || label[i] > '~')
			return false;
	return true;
}

int svirt_random_range(uint16_t lo, uint16_t hi, uint16_t *out)
{
	uint32_t span = (uint32_t)hi - lo + 1, limit, v;
	ssize_t n;

	if (hi < lo)
		return -EINVAL;
	/* Rejection sampling: no modulo bias. */
	limit = UINT32_MAX - UINT32_MAX % span;
	do {
		n = getrandom(&v, sizeof(v), 0);
		if (n != (ssize_t)sizeof(v)) {
			log_err("getrandom failed: %s", strerror(errno));
			return -EIO;
		}
	} while (v >= limit);
	*out = (uint16_t)(lo + v % span);
	return 0;
}
