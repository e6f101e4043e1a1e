/* SPDX-License-Identifier: Apache-2.0 */
/* The one strict JSON reader (json.h): RFC 8259, no duplicate key anywhere. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_NUMBER_MAX 64

struct jp {
	const unsigned char *p;
	size_t len, pos;
	unsigned int depth;
	char *err;
	size_t errlen;
};

static int jp_value(struct jp *j, json_object **out);

static int jp_fail(struct jp *j, const char *why)
{
	if (j->err && j->errlen)
		snprintf(j->err, j->errlen, "byte %zu: %s", j->pos, why);
	return -EINVAL;
}

static void jp_ws(struct jp *j)
{
	while (j->pos < j->len && strchr(" \t\r\n", j->p[j->pos]) && j->p[j->pos])
		j->pos++;
}

static int jp_peek(const struct jp *j)
{
	return j->pos < j->len ? j->p[j->pos] : -1;
}

static int jp_hex4(struct jp *j, unsigned int *cp)
{
	*cp = 0;
	if (j->len - j->pos < 4)
		return jp_fail(j, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int c = j->p[j->pos++], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = (c | 0x20) - 'a' + 10;
		else
			return jp_fail(j, "bad hex digit in \\u escape");
		*cp = (*cp << 4) | (unsigned int)v;
	}
	return 0;
}

static size_t jp_put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A \u escape (the backslash and 'u' consumed), pairs joined; no NUL. */
static int jp_escape_u(struct jp *j, unsigned int *cp)
{
	unsigned int lo;
	int rc = jp_hex4(j, cp);

	if (rc)
		return rc;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return jp_fail(j, "lone low surrogate in \\u escape");
	if (*cp >= 0xD800 && *cp <= 0xDBFF) {
		if (j->len - j->pos < 2 || j->p[j->pos] != '\\' || j->p[j->pos + 1] != 'u')
			return jp_fail(j, "high surrogate without its low half");
		j->pos += 2;
		rc = jp_hex4(j, &lo);
		if (rc)
			return rc;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return jp_fail(j, "high surrogate without its low half");
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (!*cp)
		return jp_fail(j, "NUL (\\u0000) in a string");
	return 0;
}

static int jp_escape(struct jp *j, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned int cp;
	int c = jp_peek(j), rc;

	if (c == 'u') {
		j->pos++;
		rc = jp_escape_u(j, &cp);
		if (rc)
			return rc;
		*n += jp_put_utf8(o + *n, cp);
		return 0;
	}
	hit = c > 0 ? strchr(from, c) : NULL;
	if (!hit)
		return jp_fail(j, "bad escape in a string");
	o[(*n)++] = to[hit - from];
	j->pos++;
	return 0;
}

/* One UTF-8 sequence starting with byte C >= 0x80 (RFC 3629, table 4). */
static int jp_utf8(struct jp *j, char *o, size_t *n)
{
	unsigned char c = j->p[j->pos], lo = 0x80, hi = 0xBF;
	size_t more;

	if (c >= 0xC2 && c <= 0xDF)
		more = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		more = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		more = 3;
	else
		return jp_fail(j, "invalid UTF-8");
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (j->len - j->pos <= more)
		return jp_fail(j, "invalid UTF-8");
	for (size_t i = 1; i <= more; i++) {
		unsigned char b = j->p[j->pos + i];

		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
			return jp_fail(j, "invalid UTF-8");
	}
	memcpy(o + *n, j->p + j->pos, more + 1);
	*n += more + 1;
	j->pos += more + 1;
	return 0;
}

/* A string (at its opening quote) into a malloc()ed NUL-terminated copy. */
static int jp_string(struct jp *j, char **out, size_t *outlen)
{
	size_t end = ++j->pos, n = 0;
	char *o;
	int rc = 0;

	while (end < j->len && j->p[end] != '"')
		end += j->p[end] == '\\' ? 2 : 1;
	if (end >= j->len)
		return jp_fail(j, "unterminated string");
	o = malloc(end - j->pos + 1);
	if (!o)
		return -ENOMEM;
	while (!rc && j->pos < end) {
		unsigned char c = j->p[j->pos];

		if (c < 0x20) {
			rc = jp_fail(j, "control byte in a string");
		} else if (c == '\\') {
			j->pos++;
			rc = jp_escape(j, o, &n);
		} else if (c < 0x80) {
			o[n++] = (char)c;
			j->pos++;
		} else {
			rc = jp_utf8(j, o, &n);
		}
	}
	if (rc) {
		free(o);
		return rc;
	}
	j->pos = end + 1;
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
}

static size_t jp_digits(struct jp *j)
{
	size_t n = 0;

	while (j->pos < j->len && j->p[j->pos] >= '0' && j->p[j->pos] <= '9') {
		j->pos++;
		n++;
	}
	return n;
}

/* RFC 8259 number grammar; integers stay integers (int64, or uint64). */
static int jp_number(struct jp *j, json_object **out)
{
	size_t start = j->pos;
	char text[JSON_NUMBER_MAX + 1], *end;
	int integer = 1, c;

	if (jp_peek(j) == '-')
		j->pos++;
	if (jp_peek(j) == '0')
		j->pos++;
	else if (!jp_digits(j))
		return jp_fail(j, "bad number");
	if (jp_peek(j) == '.') {
		j->pos++;
		integer = 0;
		if (!jp_digits(j))
			return jp_fail(j, "bad number (no digit after '.')");
	}
	c = jp_peek(j);
	if (c == 'e' || c == 'E') {
		j->pos++;
		integer = 0;
		if (jp_peek(j) == '+' || jp_peek(j) == '-')
			j->pos++;
		if (!jp_digits(j))
			return jp_fail(j, "bad number (no digit in exponent)");
	}
	if (j->pos - start > JSON_NUMBER_MAX)
		return jp_fail(j, "number longer than 64 characters");
	memcpy(text, j->p + start, j->pos - start);
	text[j->pos - start] = '\0';
	errno = 0;
	if (!integer) {
		double d = strtod(text, &end);

		if (errno || !isfinite(d))
			return jp_fail(j, "number out of range");
		*out = json_object_new_double_s(d, text);
	} else {
		long long v = strtoll(text, &end, 10);

		if (errno == ERANGE && text[0] != '-') {
			unsigned long long u;

			errno = 0;
			u = strtoull(text, &end, 10);
			if (errno)
				return jp_fail(j, "integer out of range");
			*out = json_object_new_uint64(u);
		} else if (errno) {
			return jp_fail(j, "integer out of range");
		} else {
			*out = json_object_new_int64(v);
		}
	}
	return *out ? 0 : -ENOMEM;
}

static int jp_literal(struct jp *j, json_object **out)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if (j->len - j->pos >= n && !memcmp(j->p + j->pos, words[i], n)) {
			j->pos += n;
			*out = i < 2 ? json_object_new_boolean(i == 0) : NULL;
			return i < 2 && !*out ? -ENOMEM : 0;
		}
	}
	return jp_fail(j, "unexpected byte (not a JSON value)");
}

/* One "key": value member of OBJ; a key already in OBJ is an error. */
static int jp_member(struct jp *j, json_object *obj)
{
	json_object *v = NULL;
	size_t keypos = j->pos, n;
	char *key = NULL;
	int rc;

	if (jp_peek(j) != '"')
		return jp_fail(j, "expected a string key");
	rc = jp_string(j, &key, &n);
	if (rc)
		return rc;
	if (json_object_object_get_ex(obj, key, NULL)) {
		j->pos = keypos;
		rc = jp_fail(j, "duplicate key");
		goto out;
	}
	jp_ws(j);
	if (jp_peek(j) != ':') {
		rc = jp_fail(j, "expected ':' after a key");
		goto out;
	}
	j->pos++;
	jp_ws(j);
	rc = jp_value(j, &v);
	if (rc)
		goto out;
	rc = json_object_object_add(obj, key, v) ? -ENOMEM : 0;
	if (rc)
		json_object_put(v);
out:
	free(key);
	return rc;
}

/* An object or an array (at its opening bracket). */
static int jp_container(struct jp *j, json_object **out)
{
	int is_obj = j->p[j->pos] == '{', rc = 0, c;
	char close = is_obj ? '}' : ']';
	json_object *o, *v;

	if (++j->depth > JSON_STRICT_MAX_DEPTH)
		return jp_fail(j, "nested too deeply");
	o = is_obj ? json_object_new_object() : json_object_new_array();
	if (!o)
		return -ENOMEM;
	j->pos++;
	jp_ws(j);
	if (jp_peek(j) == close)
		goto done;
	for (;;) {
		if (is_obj) {
			rc = jp_member(j, o);
		} else {
			v = NULL;
			rc = jp_value(j, &v);
			if (!rc && json_object_array_add(o, v)) {
				json_object_put(v);
				rc = -ENOMEM;
			}
		}
		if (rc)
			goto fail;
		jp_ws(j);
		c = jp_peek(j);
		if (c == close)
			break;
		if (c != ',') {
			rc = jp_fail(j, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
			goto fail;
		}
		j->pos++;
		jp_ws(j);
	}
done:
	j->pos++;
	j->depth--;
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return rc;
}

static int jp_value(struct jp *j, json_object **out)
{
	int c = jp_peek(j), rc;
	size_t n;
	char *s;

	if (c == '{' || c == '[')
		return jp_container(j, out);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jp_number(j, out);
	if (c != '"')
		return c < 0 ? jp_fail(j, "truncated (value expected)") : jp_literal(j, out);
	rc = jp_string(j, &s, &n);
	if (rc)
		return rc;
	*out = json_object_new_string_len(s, (int)n);
	free(s);
	return *out ? 0 : -ENOMEM;
}

int json_parse_strict(const void *buf, size_t len, size_t max, json_object **out,
		      char *err, size_t errlen)
{
	struct jp j = { .p = buf, .len = len, .err = err, .errlen = errlen };
	json_object *o = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (len > max || len > INT32_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "larger than %zu bytes", max);
		return -EINVAL;
	}
	if (len && memchr(buf, 0, len)) {
		j.pos = (size_t)((const unsigned char *)memchr(buf, 0, len) - j.p);
		return jp_fail(&j, "NUL byte");
	}
	jp_ws(&j);
	if (jp_peek(&j) != '{')
		return jp_fail(&j, "not a JSON object");
	rc = jp_value(&j, &o);
	if (rc)
		return rc;
	jp_ws(&j);
	if (j.pos != len) {
		json_object_put(o);
		return jp_fail(&j, "trailing bytes after the object");
	}
	*out = o;
	return 0;
}
