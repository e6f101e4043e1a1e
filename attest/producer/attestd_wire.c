/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attestd's wire format (attestd.h): the strict request parser the launcher
 * runs on a peer's bytes, the reply header parser and the client.
 *
 * The request grammar is deliberately tiny, so it is parsed by hand rather
 * than by a general JSON library (which would accept duplicate keys by
 * keeping the last one):
 *   ws* '{' ws* pair (ws* ',' ws* pair)* ws* '}' ws* ['\n']
 *   pair = '"' KEY '"' ws* ':' ws* '"' VALUE '"'
 * KEY in {op, nonce}, each at most once; VALUE of [0-9a-z-] only (no
 * escapes), at most 2 * BUNDLE_MAX_NONCE characters.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include "core/log.h"
#include "core/util.h"

#define WIRE_VALUE_MAX (2 * BUNDLE_MAX_NONCE)

struct wire_cur {
	const uint8_t *p, *end;
};

static void wire_ws(struct wire_cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int wire_char(struct wire_cur *c, uint8_t ch)
{
	wire_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return -EINVAL;
	c->p++;
	return 0;
}

/* '"' [0-9a-z-]{1,max} '"' into out (NUL-terminated). */
static int wire_string(struct wire_cur *c, char *out, size_t max)
{
	size_t n = 0;

	if (wire_char(c, '"'))
		return -EINVAL;
	while (c->p < c->end && *c->p != '"') {
		uint8_t ch = *c->p++;

		if (n == max || !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '-'))
			return -EINVAL;
		out[n++] = (char)ch;
	}
	if (c->p >= c->end || !n)
		return -EINVAL;
	c->p++;
	out[n] = '\0';
	return 0;
}

/* The pairs of the object, op and nonce at most once each. */
static int wire_pairs(struct wire_cur *c, char *op, char *nonce, const char **why)
{
	int have_op = 0, have_nonce = 0;
	char key[8];

	do {
		if (wire_string(c, key, sizeof(key) - 1)) {
			*why = "malformed or unknown key";
			return -EINVAL;
		}
		if (!strcmp(key, "op") && !have_op++) {
			if (wire_char(c, ':') || wire_string(c, op, 16))
				goto bad_value;
		} else if (!strcmp(key, "nonce") && !have_nonce++) {
			if (wire_char(c, ':') || wire_string(c, nonce, WIRE_VALUE_MAX))
				goto bad_value;
		} else {
			*why = "unknown or repeated key";
			return -EINVAL;
		}
	} while (!wire_char(c, ','));
	if (!have_op) {
		*why = "missing op";
		return -EINVAL;
	}
	return 0;
bad_value:
	*why = "malformed value (lower-case hex or op name, no escapes)";
	return -EINVAL;
}

static int wire_op(const char *op, const char *nonce, struct attestd_request *req,
		   const char **why)
{
	size_t n = strlen(nonce);

	if (!strcmp(op, "enroll-info")) {
		if (n) {
			*why = "enroll-info takes no nonce";
			return -EINVAL;
		}
		req->op = ATTESTD_OP_ENROLL_INFO;
		return 0;
	}
	if (strcmp(op, "quote")) {
		*why = "unknown op";
		return -EINVAL;
	}
	if (n < 2 * BUNDLE_MIN_NONCE || n > 2 * BUNDLE_MAX_NONCE ||
	    bundle_hex_decode(nonce, n, req->nonce, sizeof(req->nonce), &req->nonce_len)) {
		*why = "nonce must be 16..64 bytes of lower-case hex";
		return -EINVAL;
	}
	req->op = ATTESTD_OP_QUOTE;
	return 0;
}

int attestd_request_parse(const uint8_t *buf, size_t len, struct attestd_request *req,
			  const char **why)
{
	struct wire_cur c = { buf, buf + len };
	char op[17] = "", nonce[WIRE_VALUE_MAX + 1] = "";

	memset(req, 0, sizeof(*req));
	*why = "not one request object";
	if (len > ATTESTD_REQ_MAX) {
		*why = "request too large";
		return -EINVAL;
	}
	if (wire_char(&c, '{') || wire_pairs(&c, op, nonce, why) || wire_char(&c, '}'))
		return -EINVAL;
	wire_ws(&c);
	if (c.p < c.end && *c.p == '\n')
		c.p++;
	if (c.p != c.end) {
		*why = "trailing bytes after the request";
		return -EINVAL;
	}
	return wire_op(op, nonce, req, why);
}

/* A decimal of at most 9 digits ending at sep; advances *p past sep. */
static int wire_num(const uint8_t **p, const uint8_t *end, uint8_t sep, size_t *out)
{
	size_t v = 0, n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && n < 9) {
		v = v * 10 + (size_t)(**p - '0');
		(*p)++;
		n++;
	}
	if (!n || *p >= end || **p != sep)
		return -EPROTO;
	(*p)++;
	*out = v;
	return 0;
}

int attestd_reply_parse(const uint8_t *buf, size_t len, size_t *body_off, size_t *body_len,
			char *msg, size_t cap)
{
	const uint8_t *p = buf, *end = buf + len;
	size_t v, n = 0;

	if (cap)
		msg[0] = '\0';
	if (len >= 3 && !memcmp(buf, "OK ", 3)) {
		p += 3;
		if (wire_num(&p, end, '\n', &v) || v > ATTESTD_REPLY_MAX ||
		    (size_t)(end - p) != v)
			return -EPROTO;
		*body_off = (size_t)(p - buf);
		*body_len = v;
		return 0;
	}
	if (len < 4 || memcmp(buf, "ERR ", 4))
		return -EPROTO;
	p += 4;
	if (wire_num(&p, end, ' ', &v) || !v || v > 4095)
		return -EPROTO;
	for (; p < end && *p != '\n'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return -EPROTO;
		if (n + 1 < cap)
			msg[n++] = (char)*p;
	}
	if (p + 1 != end)
		return -EPROTO;
	if (cap)
		msg[n] = '\0';
	return -(int)v;
}

static uint64_t wire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads until EOF, at most cap bytes, before the deadline. */
static int wire_read_all(int fd, uint8_t *buf, size_t cap, size_t *len, uint64_t deadline)
{
	*len = 0;
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		uint64_t now = wire_now_ms();
		ssize_t r;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -errno;
		if (!pfd.revents)
			continue;
		r = read(fd, buf + *len, cap - *len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return 0;
		*len += (size_t)r;
		if (*len == cap)
			return -EFBIG;
	}
}

static int wire_connect(const char *run_dir, const char *name, int *fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", run_dir, name,
			 ATTESTD_SOCK_NAME);

	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	if (connect(*fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int e = -errno;

		close(*fd);
		*fd = -1;
		return e;
	}
	return 0;
}

/* Formats the request line. */
static int wire_format(const struct attestd_request *req, char *out, size_t cap)
{
	char hex[2 * BUNDLE_MAX_NONCE + 1];

	if (req->op == ATTESTD_OP_ENROLL_INFO)
		return snprintf(out, cap, "{\"op\":\"enroll-info\"}\n");
	if (req->op != ATTESTD_OP_QUOTE || req->nonce_len > BUNDLE_MAX_NONCE)
		return -EINVAL;
	hex_encode(req->nonce, req->nonce_len, hex);
	return snprintf(out, cap, "{\"op\":\"quote\",\"nonce\":\"%s\"}\n", hex);
}

static int wire_exchange(int fd, const char *line, size_t n, int timeout_ms, uint8_t *buf,
			 size_t *len)
{
	/* A launcher that refuses us (peer credentials) answers before reading
	 * and closes: a failed send still leaves its reply to read. */
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n && errno != EPIPE &&
	    errno != ECONNRESET)
		return -EIO;
	shutdown(fd, SHUT_WR);
	return wire_read_all(fd, buf, ATTESTD_REPLY_MAX + 32, len,
			     wire_now_ms() + (uint64_t)timeout_ms);
}

int attestd_request(const char *run_dir, const char *name, const struct attestd_request *req,
		    int timeout_ms, char **body, size_t *body_len, char *msg, size_t cap)
{
	char line[ATTESTD_REQ_MAX];
	uint8_t *buf = NULL;
	size_t len = 0, off = 0, blen = 0;
	int n = wire_format(req, line, sizeof(line)), fd = -1, rc;

	*body = NULL;
	snprintf(msg, cap, "%s", "cannot reach the guest's launcher");
	if (n < 0)
		return n;
	rc = wire_connect(run_dir, name, &fd);
	if (rc)
		goto out;
	buf = malloc(ATTESTD_REPLY_MAX + 32);
	rc = buf ? wire_exchange(fd, line, (size_t)n, timeout_ms, buf, &len) : -ENOMEM;
	if (rc) {
		snprintf(msg, cap, "%s", "no complete reply from the launcher");
		goto out;
	}
	rc = attestd_reply_parse(buf, len, &off, &blen, msg, cap);
	if (rc == -EPROTO)
		snprintf(msg, cap, "%s", "malformed reply from the launcher");
	if (rc)
		goto out;
	memmove(buf, buf + off, blen);
	buf[blen] = '\0';
	*body = (char *)buf;
	*body_len = blen;
	buf = NULL;
	msg[0] = '\0';
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
