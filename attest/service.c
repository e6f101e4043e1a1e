/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark serve`: the attestation service.  HTTP/1.0 on the address the
 * administrator chooses (loopback in tests), TLS when --cert/--key are
 * given.  One request per connection, one connection at a time (each quote
 * holds the vTPM anyway), every read bounded in size and time:
 *
 *   GET /attest?nonce=HEX   ->  200 application/json, an evidence bundle
 *   anything else           ->  400, 404 or 405, and the connection closes
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

#include "attest/cmd_attest.h"
#include "core/commands.h"
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

/* Reads the request head (to the blank line) within the size bound. */
static int request_read(struct conn *c, char *buf, size_t cap)
{
	size_t have = 0;

	while (have < cap - 1) {
		ssize_t n = conn_read(c, buf + have, cap - 1 - have);

		if (n <= 0)
			return -EIO;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return 0;
	}
	return -E2BIG;
}

/* "GET /attest?nonce=HEX HTTP/1.x": the nonce into out; an HTTP status. */
static int request_parse(char *req, char *nonce, size_t cap)
{
	static const char pre[] = "GET /attest?nonce=";
	char *end;

	if (strncmp(req, "GET ", 4))
		return 405;
	if (strncmp(req, pre, strlen(pre)))
		return 404;
	req += strlen(pre);
	end = strchr(req, ' ');
	if (!end || (size_t)(end - req) >= cap || (size_t)(end - req) < 2 * BUNDLE_MIN_NONCE ||
	    strncmp(end, " HTTP/1.", 8))
		return 400;
	memcpy(nonce, req, (size_t)(end - req));
	nonce[end - req] = '\0';
	return strspn(nonce, "0123456789abcdef") == strlen(nonce) ? 200 : 400;
}

static void respond(struct conn *c, int status, const char *body, size_t len)
{
	const char *why = status == 200 ? "OK" : status == 400 ? "Bad Request" :
		status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed" :
		"Internal Server Error";
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, why,
			 status == 200 ? "application/json" : "text/plain", len);

	if (!conn_write(c, head, (size_t)n))
		conn_write(c, body, len);
}

static void serve_one(struct attest_source *s, struct conn *c)
{
	char req[SERVE_MAX_REQUEST], nonce[2 * BUNDLE_MAX_NONCE + 1], *json = NULL;
	size_t len = 0;
	int status = request_read(c, req, sizeof(req)) ? 400 : 0;

	status = status ? status : request_parse(req, nonce, sizeof(nonce));
	if (status == 200 && attest_source_bundle(s, nonce, &json, &len))
		status = 500;
	if (status == 200)
		respond(c, 200, json, len);
	else
		respond(c, status, "no evidence\n", 12);
	log_info("attestation request: %d", status);
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

static void serve_conn(struct attest_source *s, SSL_CTX *tls, int fd)
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
	serve_one(s, &c);
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
}

struct serve_args {
	const char *listen, *dir, *log, *label, *tpm, *cert, *key;
	long max;
};

static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	static const struct option o[] = {
		{ "listen", 1, NULL, 'L' }, { "dir", 1, NULL, 'd' }, { "log", 1, NULL, 'l' },
		{ "label", 1, NULL, 'b' }, { "tpm", 1, NULL, 't' }, { "cert", 1, NULL, 'c' },
		{ "key", 1, NULL, 'k' }, { "max-requests", 1, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

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
		default: return -EINVAL;
		}
	}
	if (optind != argc || !a->listen || !a->dir || !a->log || !a->label || !a->tpm ||
	    !a->cert != !a->key || a->max < 0)
		return -EINVAL;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct attest_source s;
	SSL_CTX *tls = NULL;
	int lfd, rc;

	if (serve_parse(argc, argv, &a)) {
		fprintf(stderr, "usage: bulwark serve --listen ADDR:PORT --dir ATTESTDIR --log "
			"EVENTLOG --label CONTEXT --tpm SOCK [--cert PEM --key PEM] "
			"[--max-requests N]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);      /* a client going away is an error return */
	if (a.cert && !(tls = tls_ctx(a.cert, a.key)))
		return 1;
	rc = attest_source_open(&s, a.dir, a.log, a.label, a.tpm);
	lfd = rc ? rc : listen_on(a.listen);
	if (lfd < 0) {
		fprintf(stderr, "bulwark serve: %s: %s\n", a.listen, strerror(-lfd));
		if (!rc)
			attest_source_close(&s);
		SSL_CTX_free(tls);
		return 1;
	}
	log_info("attestation service on %s (%s)", a.listen, tls ? "TLS" : "plain HTTP");
	for (long n = 0; !a.max || n < a.max; n++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR) {
			n--;
			continue;
		}
		if (fd < 0) {
			log_err("accept: %s", strerror(errno));
			break;
		}
		serve_conn(&s, tls, fd);
		close(fd);
	}
	close(lfd);
	attest_source_close(&s);
	SSL_CTX_free(tls);
	return 0;
}
