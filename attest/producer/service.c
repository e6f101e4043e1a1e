/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark serve`: the attestation service.  HTTP/1.x (core/launch/http.h, the
 * tree's one request parser; answers are HTTP/1.0) on the address the
 * administrator chooses (loopback in tests), TLS when --cert/--key are
 * given.  One request per connection, one connection at a time (each quote
 * holds the vTPM anyway), every read bounded in size and time:
 *
 *   GET /attest/NAME?nonce=HEX  ->  200 application/json, an evidence bundle
 *                                   of guest NAME, from its running launcher
 *                                   (attestd.h; --guest NAME: that one only)
 *   GET /attest?nonce=HEX       ->  the same for the one guest of --guest or
 *                                   of --tpm (test sockets)
 *   no such guest running       ->  404; the guest busy (-EBUSY) -> 503
 *   anything else               ->  400, 404, 405 (or the parser's 413, 431,
 *                                   501, 505), and the connection closes
 *
 * The nonce is the verifier's: 16..64 bytes, lower-case hex.  The service
 * adds nothing a verifier must trust: the bundle is verified offline.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "attest/producer/attestd.h"
#include "attest/producer/cmd_attest.h"
#include "core/launch/commands.h"
#include "core/args.h"
#include "core/launch/http.h"
#include "core/log.h"
#include "core/util.h"

#define SERVE_MAX_REQUEST 2048
#define SERVE_TIMEOUT_S   5

struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_read(struct conn *c, char *b, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, b, (int)n);

		return r > 0 ? r : -1;
	}
	return read(c->fd, b, n);
}

static int conn_write(struct conn *c, const char *b, size_t n)
{
	while (n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, b, (int)n) : write(c->fd, b, n);

		if (w <= 0)
			return -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one request (core/launch/http.h) within the size bound; 0 or an HTTP status. */
static int request_read(struct conn *c, char *buf, size_t cap, struct http_request *req)
{
	size_t have = 0;
	int rc = -EAGAIN;

	while (rc == -EAGAIN && have < cap) {
		ssize_t n = conn_read(c, buf + have, cap - have);

		if (n <= 0)
			return 400;
		have += (size_t)n;
		rc = http_parse(buf, have, cap, 0, req);
	}
	return rc ? http_parse_status(rc == -EAGAIN ? -EMSGSIZE : rc) : 0;
}

/* Where bundles come from: the test sockets, or the guests' launchers. */
struct serve_source {
	struct attest_source *direct;   /* --tpm */
	const char *run_dir;            /* launchers' sockets */
	const char *only;               /* --guest NAME, or NULL: any guest */
};

/* "/NAME" (bundle.h name rules) at req: its length, 0 if none, -1 if bad. */
static int request_name(const char *req, char *name, size_t cap)
{
	size_t n;

	if (*req != '/')
		return 0;
	n = strspn(req + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
	if (!n || n >= cap || n > BUNDLE_NAME_MAX || req[1] == '.')
		return -1;
	memcpy(name, req + 1, n);
	name[n] = '\0';
	return (int)n + 1;
}

/* GET /attest[/NAME]?nonce=HEX: name (or "") and nonce; an HTTP status. */
static int request_route(const struct http_request *req, char *name, size_t ncap, char *nonce,
			 size_t cap)
{
	static const char pre[] = "/attest", q[] = "nonce=";
	const char *p = req->path, *v = req->query;
	size_t len;
	int n;

	name[0] = '\0';
	if (strcmp(req->method, "GET"))
		return 405;
	if (strncmp(p, pre, strlen(pre)))
		return 404;
	p += strlen(pre);
	n = request_name(p, name, ncap);
	if (n < 0 || p[n] || strncmp(v, q, strlen(q)))
		return 404;
	v += strlen(q);
	len = strlen(v);
	if (len >= cap || len < 2 * BUNDLE_MIN_NONCE)
		return 400;
	memcpy(nonce, v, len + 1);
	return strspn(nonce, "0123456789abcdef") == len ? 200 : 400;
}

/* The bundle for name (may be "") from src; an HTTP status. */
static int serve_bundle(const struct serve_source *src, const char *name, const char *nonce,
			char **json, size_t *len)
{
	int rc;

	if (!name[0] && src->only)
		name = src->only;
	if (src->direct) {
		if (name[0] && strcmp(name, src->direct->name))
			return 404;
		return attest_source_bundle(src->direct, nonce, json, len) ? 500 : 200;
	}
	if (!name[0] || (src->only && strcmp(name, src->only)))
		return 404;
	rc = attest_launcher_bundle(src->run_dir, name, nonce, ATTEST_CLIENT_TIMEOUT_MS, json,
				    len);
	return !rc ? 200 : rc == -ENOENT || rc == -ECONNREFUSED ? 404 :
	       rc == -EBUSY ? 503 : rc == -EINVAL ? 400 : 500;
}

static void respond(struct conn *c, int status, const char *body, size_t len)
{
	char head[256];
	int n = http_response_head(head, sizeof(head), 0, status,
				   status == 200 ? "application/json" : "text/plain", len, true);

	if (n > 0 && !conn_write(c, head, (size_t)n))
		conn_write(c, body, len);
}

static void serve_one(const struct serve_source *src, struct conn *c)
{
	char req[SERVE_MAX_REQUEST], nonce[2 * BUNDLE_MAX_NONCE + 1], *json = NULL;
	char name[BUNDLE_NAME_MAX + 1] = "";
	struct http_request hr;
	size_t len = 0;
	int status = request_read(c, req, sizeof(req), &hr);

	status = status ? status : request_route(&hr, name, sizeof(name), nonce, sizeof(nonce));
	if (status == 200)
		status = serve_bundle(src, name, nonce, &json, &len);
	if (status == 200)
		respond(c, 200, json, len);
	else
		respond(c, status, "no evidence\n", 12);
	log_info("attestation request%s%s: %d", name[0] ? " for " : "", name, status);
	free(json);
}

/* ADDR:PORT (an IPv6 address in brackets) -> a listening socket. */
static int listen_on(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	char host[128];
	const char *colon = strrchr(addr, ':');
	int fd = -1, one = 1;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
	} else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		   bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 8)) {
		int e = errno;

		close(fd);
		fd = -e;
	}
	freeaddrinfo(ai);
	return fd;
}

static SSL_CTX *tls_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_err("TLS certificate %s / key %s unusable", cert, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void serve_conn(const struct serve_source *src, SSL_CTX *tls, int fd)
{
	struct timeval tv = { SERVE_TIMEOUT_S, 0 };
	struct conn c = { fd, NULL };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (tls) {
		c.ssl = SSL_new(tls);
		if (!c.ssl || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
			log_warn("TLS handshake failed");
			SSL_free(c.ssl);
			ERR_clear_error();
			return;
		}
	}
	serve_one(src, &c);
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
}

struct serve_args {
	const char *listen, *dir, *log, *label, *tpm, *cert, *key, *run_dir, *guest;
	long max;
};

static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	static const struct option o[] = {
		{ "listen", 1, NULL, 'L' }, { "dir", 1, NULL, 'd' }, { "log", 1, NULL, 'l' },
		{ "label", 1, NULL, 'b' }, { "tpm", 1, NULL, 't' }, { "cert", 1, NULL, 'c' },
		{ "key", 1, NULL, 'k' }, { "max-requests", 1, NULL, 'm' },
		{ "run-dir", 1, NULL, 'r' }, { "guest", 1, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (args_once(argc, argv, o, ""))
		return -EINVAL;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'L': a->listen = optarg; break;
		case 'd': a->dir = optarg; break;
		case 'l': a->log = optarg; break;
		case 'b': a->label = optarg; break;
		case 't': a->tpm = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'k': a->key = optarg; break;
		case 'm': a->max = strtol(optarg, NULL, 10); break;
		case 'r': a->run_dir = optarg; break;
		case 'g': a->guest = optarg; break;
		default: return -EINVAL;
		}
	}
	if (optind != argc || !a->listen || !a->cert != !a->key || a->max < 0)
		return -EINVAL;
	if (!a->run_dir)
		a->run_dir = ATTESTD_RUN_DIR;
	/* Direct (test) mode: all of --tpm --dir --log --label. */
	if (a->tpm || a->dir || a->log || a->label)
		return a->tpm && a->dir && a->log && a->label ? 0 : -EINVAL;
	return 0;
}

/* Accepts until max requests (0: forever) or an accept error. */
static void serve_loop(const struct serve_source *src, SSL_CTX *tls, int lfd, long max)
{
	for (long n = 0; !max || n < max; n++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR) {
			n--;
			continue;
		}
		if (fd < 0) {
			log_err("accept: %s", strerror(errno));
			break;
		}
		serve_conn(src, tls, fd);
		close(fd);
	}
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct attest_source s;
	struct serve_source src = { 0 };
	SSL_CTX *tls = NULL;
	int lfd, rc = 0;

	if (serve_parse(argc, argv, &a)) {
		fprintf(stderr, "usage: bulwark serve --listen ADDR:PORT [--guest NAME] "
			"[--run-dir DIR] [--cert PEM --key PEM] [--max-requests N]\n"
			"       bulwark serve --listen ADDR:PORT --tpm SOCK --dir ATTESTDIR "
			"--log EVENTLOG --label CONTEXT [...]   (test sockets)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);      /* a client going away is an error return */
	if (a.cert && !(tls = tls_ctx(a.cert, a.key)))
		return 1;
	src = (struct serve_source){ .run_dir = a.run_dir, .only = a.guest };
	if (a.tpm) {
		rc = attest_source_open(&s, a.dir, a.log, a.label, a.tpm);
		src.direct = rc ? NULL : &s;
	}
	lfd = rc ? rc : listen_on(a.listen);
	if (lfd < 0) {
		fprintf(stderr, "bulwark serve: %s: %s\n", a.listen, strerror(-lfd));
		if (src.direct)
			attest_source_close(&s);
		SSL_CTX_free(tls);
		return 1;
	}
	log_info("attestation service on %s (%s), %s", a.listen, tls ? "TLS" : "plain HTTP",
		 a.tpm ? "test sockets" : "guests' launchers");
	serve_loop(&src, tls, lfd, a.max);
	close(lfd);
	if (src.direct)
		attest_source_close(&s);
	SSL_CTX_free(tls);
	return 0;
}
