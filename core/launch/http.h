/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one HTTP/1.x request parser of the tree, used by `bulwark serve`
 * (attest/service.c) and by each guest's control socket (core/launch/launch_control.c).
 * Both serve untrusted peers, so it is strict and bounded:
 *   - request line "METHOD SP /target SP HTTP/1.0|1.1" then header lines,
 *     CRLF (or bare LF) line ends, a blank line ends the head;
 *   - the head is at most HEAD_MAX bytes and HTTP_MAX_HEADERS lines; the
 *     body at most BODY_MAX bytes, sized by Content-Length only (no chunked
 *     transfer coding: refused with 501);
 *   - no control byte, no byte >= 0x80, anywhere in the head; one
 *     Content-Length at most, decimal digits only;
 *   - nothing is allocated: the request points into the caller's buffer.
 * The parser is a pure function of the bytes (fuzz target tests/fuzz/fuzz_http.c).
 */
#ifndef BULWARK_HTTP_H
#define BULWARK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS   32
#define HTTP_METHOD_MAX    8
#define HTTP_TARGET_MAX    512

struct http_request {
	char method[HTTP_METHOD_MAX];      /* "GET", "PUT", ... (uppercase) */
	char path[HTTP_TARGET_MAX];        /* "/info": the target up to '?' */
	char query[HTTP_TARGET_MAX];       /* after '?', "" if none */
	int minor;                         /* HTTP/1.minor: 0 or 1 */
	bool close;                        /* "Connection: close" or HTTP/1.0 */
	size_t head_len;                   /* bytes of the head, blank line included */
	size_t body_len;                   /* Content-Length (0 without one) */
	const char *body;                  /* buf + head_len, body_len bytes */
};

/*
 * Parses the request at the start of buf[0, len).  0: complete (head and
 * body), *req filled, head_len + body_len bytes used; -EAGAIN: not complete
 * yet (read more, up to the bounds); otherwise the request is refused:
 *   -EINVAL          malformed                          -> 400
 *   -EMSGSIZE        head larger than head_max or too many header lines -> 431
 *   -EFBIG           Content-Length above body_max      -> 413
 *   -EPROTONOSUPPORT not HTTP/1.0 or HTTP/1.1           -> 505
 *   -ENOSYS          Transfer-Encoding (chunked)        -> 501
 */
int http_parse(const char *buf, size_t len, size_t head_max, size_t body_max,
	       struct http_request *req);

/* The HTTP status for a refusal of http_parse (400 for any other code). */
int http_parse_status(int rc);

/* The reason phrase of status ("OK", "Not Found", ...; "Error" if unknown). */
const char *http_reason(int status);

/*
 * A response head into out[cap]: status line (HTTP/1.minor), Content-Type,
 * Content-Length, "Connection: close" when close.  Its length, or -ENOSPC.
 */
int http_response_head(char *out, size_t cap, int minor, int status, const char *ctype,
		       size_t body_len, bool close);

#endif
