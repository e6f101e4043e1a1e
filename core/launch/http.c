/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.x request parser and response heads (core/launch/http.h). */
#include "core/launch/http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/*
 * Where the head ends (just past its blank line) within head_max bytes.
 * Refuses at the first bad byte, so garbage is refused before the bound:
 * a control byte other than TAB, CR not before LF, a byte >= 0x7F.
 */
static int http_head_end(const char *b, size_t len, size_t head_max, size_t *end)
{
	size_t n = len < head_max ? len : head_max, start = 0, lines = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c == '\n') {
			size_t ll = i - start - (i > start && b[i - 1] == '\r');

			if (!ll) {
				if (!start)
					return -EINVAL;      /* no request line */
				*end = i + 1;
				return 0;
			}
			if (++lines > HTTP_MAX_HEADERS + 1)
				return -EMSGSIZE;
			start = i + 1;
		} else if (c == '\r') {
			if (i + 1 < n && b[i + 1] != '\n')
				return -EINVAL;
		} else if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			return -EINVAL;
		}
	}
	return len >= head_max ? -EMSGSIZE : -EAGAIN;
}

/* The line at b (checked by http_head_end): its length without CR LF. */
static size_t http_line_len(const char *b, size_t left, const char **next)
{
	const char *nl = memchr(b, '\n', left);
	size_t n = (size_t)(nl - b);

	*next = nl + 1;
	return n && b[n - 1] == '\r' ? n - 1 : n;
}

/* "METHOD SP /target SP HTTP/1.x" */
static int http_request_line(const char *l, size_t n, struct http_request *r)
{
	size_t m = 0, t, q;
	const char *tgt;

	while (m < n && l[m] >= 'A' && l[m] <= 'Z')
		m++;
	if (!m || m >= HTTP_METHOD_MAX || m >= n || l[m] != ' ')
		return -EINVAL;
	memcpy(r->method, l, m);
	tgt = l + m + 1;
	n -= m + 1;
	for (t = 0; t < n && tgt[t] != ' ' && tgt[t] != '\t'; t++)
		;
	if (!t || t >= n || tgt[0] != '/' || t >= HTTP_TARGET_MAX)
		return -EINVAL;
	for (q = 0; q < t && tgt[q] != '?'; q++)
		;
	if (memchr(tgt, '#', t))
		return -EINVAL;
	memcpy(r->path, tgt, q);
	if (q < t)
		memcpy(r->query, tgt + q + 1, t - q - 1);
	l = tgt + t + 1;
	n -= t + 1;
	if (n != 8 || strncmp(l, "HTTP/", 5))
		return -EINVAL;
	if (strncmp(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1'))
		return -EPROTONOSUPPORT;
	r->minor = l[7] - '0';
	r->close = r->minor == 0;
	return 0;
}

static int http_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Content-Length: decimal digits only, at most body_max. */
static int http_content_length(const char *v, size_t n, size_t body_max, size_t *out)
{
	size_t x = 0;

	if (!n || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (size_t)(v[i] - '0');
	}
	if (x > body_max)
		return -EFBIG;
	*out = x;
	return 0;
}

/* One "Name: value" line. */
static int http_header(const char *l, size_t n, size_t body_max, struct http_request *r,
		       int *have_len)
{
	size_t k = 0, v, e;

	while (k < n && http_token_char(l[k]))
		k++;
	if (!k || k >= n || l[k] != ':')
		return -EINVAL;                 /* also obs-fold (leading space) */
	for (v = k + 1; v < n && (l[v] == ' ' || l[v] == '\t'); v++)
		;
	for (e = n; e > v && (l[e - 1] == ' ' || l[e - 1] == '\t'); e--)
		;
	if (k == 14 && !strncasecmp(l, "Content-Length", k)) {
		if ((*have_len)++)
			return -EINVAL;
		return http_content_length(l + v, e - v, body_max, &r->body_len);
	}
	if (k == 17 && !strncasecmp(l, "Transfer-Encoding", k))
		return -ENOSYS;
	if (k == 10 && !strncasecmp(l, "Connection", k) && e - v == 5 &&
	    !strncasecmp(l + v, "close", 5))
		r->close = true;
	return 0;
}

int http_parse(const char *buf, size_t len, size_t head_max, size_t body_max,
	       struct http_request *req)
{
	const char *l = buf, *next;
	size_t end, n;
	int rc, have_len = 0;

	memset(req, 0, sizeof(*req));
	rc = http_head_end(buf, len, head_max, &end);
	if (rc)
		return rc;
	n = http_line_len(l, end, &next);
	rc = http_request_line(l, n, req);
	for (l = next; !rc && (size_t)(l - buf) < end; l = next) {
		n = http_line_len(l, end - (size_t)(l - buf), &next);
		if (n)
			rc = http_header(l, n, body_max, req, &have_len);
	}
	if (rc)
		return rc;
	req->head_len = end;
	if (len - end < req->body_len)
		return -EAGAIN;
	req->body = buf + end;
	return 0;
}

int http_parse_status(int rc)
{
	switch (rc) {
	case -EMSGSIZE: return 431;
	case -EFBIG: return 413;
	case -EPROTONOSUPPORT: return 505;
	case -ENOSYS: return 501;
	default: return 400;
	}
}

const char *http_reason(int status)
{
	static const struct { int s; const char *why; } t[] = {
		{ 200, "OK" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 400, "Bad Request" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 413, "Content Too Large" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].s == status)
			return t[i].why;
	return "Error";
}

int http_response_head(char *out, size_t cap, int minor, int status, const char *ctype,
		       size_t body_len, bool close)
{
	int n = snprintf(out, cap, "HTTP/1.%d %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%s\r\n", minor ? 1 : 0, status,
			 http_reason(status), ctype, body_len,
			 close ? "Connection: close\r\n" : "");

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
