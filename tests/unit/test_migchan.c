/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The migration channel (core/launch/migchan.c) with real OpenSSL over real
 * unix and TCP sockets, the accepting side in a second thread; credentials
 * made at run time by migkeys (two CAs, four hosts) in a temporary folder.
 * The handshake both ways; a valid chain not listed, refused by either side;
 * another CA; a TLS 1.2-only and a certificate-less client (raw OpenSSL);
 * frames over their bound, of an unknown type, cut short; a byte changed
 * in transit (a relay between the two); timeouts; bad configuration files.  Then the messages (core/launch/migwire.c): round
 * trips, bounds and the order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/launch/migchan.h"
#include "core/launch/migchan_int.h"
#include "core/launch/migkeys.h"
#include "attest/format/bundle_host.h"
#include "core/launch/migwire.h"
#include "core/log.h"

static char tmp[] = "/tmp/test_migchan.XXXXXX";
static char pins[4][MIGKEYS_PIN_LEN + 1];         /* a, b, c, d */
static char sock_path[256];
static int sock_n;

/* Host H ('a'..'d') and its files. */
static char *hp(char h, const char *file)
{
	static char buf[64][512];
	static int i;

	i = (i + 1) % 64;
	snprintf(buf[i], sizeof(buf[i]), "%s/%c/%s", tmp, h, file);
	return buf[i];
}

static struct migchan_conf conf(char h, int timeout_ms)
{
	struct migchan_conf c = { .cert = hp(h, "host.crt"), .key = hp(h, "host.key"),
				  .ca = hp(h, "ca.crt"), .trusted = hp(h, "trusted"),
				  .timeout_ms = timeout_ms };
	return c;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void cat_file(const char *dst, const char *a, const char *b)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", a, b, dst);
	assert_int_equal(system(cmd), 0);
}

/*
 * a, b, c under CA 1, d under CA 2.  a trusts b and cn:host-d; b trusts a;
 * c trusts a and b (but no one lists c); d trusts a, with both CAs.
 */
static int group_setup(void **state)
{
	static const char *cn[] = { "host-a", "host-b", "host-c", "host-d" };
	char dir[512], ca[512], why[512], text[512];

	(void)state;
	signal(SIGPIPE, SIG_IGN);               /* as the launcher does */
	log_set_level(LOG_ERR);
	if (!mkdtemp(tmp))
		return -1;
	for (int i = 0; i < 4; i++) {
		snprintf(dir, sizeof(dir), "%s/%c", tmp, 'a' + i);
		snprintf(ca, sizeof(ca), "%s/ca%d", tmp, i == 3 ? 2 : 1);
		if (migkeys_host(ca, dir, cn[i], pins[i], why, sizeof(why))) {
			fprintf(stderr, "migkeys: %s\n", why);
			return -1;
		}
	}
	snprintf(text, sizeof(text), "# a\n%s\n\ncn:host-d  \n", pins[1]);
	put_file(hp('a', "trusted"), text);
	snprintf(text, sizeof(text), "%s\r\n", pins[0]);
	put_file(hp('b', "trusted"), text);
	snprintf(text, sizeof(text), "%s\n%s\n", pins[0], pins[1]);
	put_file(hp('c', "trusted"), text);
	snprintf(text, sizeof(text), "%s\n", pins[0]);
	put_file(hp('d', "trusted"), text);
	snprintf(dir, sizeof(dir), "%s/ca1/ca.crt", tmp);
	cat_file(hp('d', "ca-both.crt"), hp('d', "ca.crt"), dir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}

/* ---- a server in a thread ------------------------------------------------ */

enum srv_then { SRV_NOTHING, SRV_ECHO, SRV_RECV, SRV_IDLE };

struct srv {
	int lfd;
	struct migchan_conf c;
	enum srv_then then;
	size_t max;                         /* SRV_RECV's buffer */
	int rc, rc2;
	uint32_t type;
	size_t len;
	char peer[MIGCHAN_PEER_MAX];
	char why[512];
	pthread_t t;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	static uint8_t buf[1 << 20];
	struct migchan *m = NULL;

	s->rc = migchan_accept(s->lfd, &s->c, &m, s->why, sizeof(s->why));
	if (s->rc)
		return NULL;
	snprintf(s->peer, sizeof(s->peer), "%s", migchan_peer(m));
	if (s->then == SRV_ECHO || s->then == SRV_RECV) {
		s->rc2 = migchan_recv(m, &s->type, buf, s->then == SRV_RECV ? s->max : sizeof(buf),
				      &s->len);
		if (!s->rc2 && s->then == SRV_ECHO)
			s->rc2 = migchan_send(m, s->type, buf, s->len);
		if (s->rc2)
			snprintf(s->why, sizeof(s->why), "%s", migchan_why(m));
	} else if (s->then == SRV_IDLE) {
		usleep(400 * 1000);
	}
	migchan_close(m);
	return NULL;
}

/* A listening unix socket, its address in ADDR. */
static int listen_unix(char *addr, size_t len)
{
	char why[256];
	int lfd;

	snprintf(sock_path, sizeof(sock_path), "%s/s%d", tmp, sock_n++);
	snprintf(addr, len, "unix:%s", sock_path);
	assert_int_equal(migchan_listen(addr, &lfd, why, sizeof(why)), 0);
	return lfd;
}

static void srv_start(struct srv *s, char host, enum srv_then then, char *addr, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->lfd = listen_unix(addr, len);
	s->c = conf(host, 3000);
	s->then = then;
	assert_int_equal(pthread_create(&s->t, NULL, srv_main, s), 0);
}

static void srv_join(struct srv *s)
{
	pthread_join(s->t, NULL);
	close(s->lfd);
}

static const char *hex_of(const char *pin)
{
	return pin + 7;
}

/* ---- the handshake ----------------------------------------------------------- */

static void test_handshake_unix(void **state)
{
	struct mig_progress g = { .round = 3, .bytes = 1 << 20, .dirty_rate = 10,
				  .downtime_ms = 12 }, back;
	struct migchan_conf c = conf('a', 3000);
	struct migchan *m;
	char addr[300], why[512], expect[400];
	uint8_t *p, buf[64];
	size_t n, len;
	uint32_t type;
	struct srv s;

	(void)state;
	srv_start(&s, 'b', SRV_ECHO, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), 0);
	snprintf(expect, sizeof(expect), "cn=host-b sha256=%s", hex_of(pins[1]));
	assert_string_equal(migchan_peer(m), expect);
	assert_int_equal(migwire_progress_encode(&g, &p, &n), 0);
	assert_int_equal(migchan_send(m, MIG_PROGRESS, p, n), 0);
	assert_int_equal(migchan_recv(m, &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, MIG_PROGRESS);
	assert_int_equal(migwire_progress_decode(buf, len, &back, why, sizeof(why)), 0);
	assert_int_equal(back.round, 3);
	assert_int_equal(back.downtime_ms, 12);
	free(p);
	migchan_close(m);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.rc2, 0);
	snprintf(expect, sizeof(expect), "cn=host-a sha256=%s", hex_of(pins[0]));
	assert_string_equal(s.peer, expect);
}

/* The other way round, over TCP on 127.0.0.1 (the kernel's port). */
static void test_handshake_tcp(void **state)
{
	struct migchan_conf c = conf('b', 3000);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct migchan *m;
	char addr[64], why[512];
	uint8_t big[MIGWIRE_STREAM_MAX], back[MIGWIRE_STREAM_MAX];
	uint32_t type;
	size_t len;
	struct srv s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(migchan_listen("tcp:127.0.0.1:0", &s.lfd, why, sizeof(why)), 0);
	assert_int_equal(getsockname(s.lfd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%u", ntohs(sin.sin_port));
	s.c = conf('a', 3000);
	s.then = SRV_ECHO;
	assert_int_equal(pthread_create(&s.t, NULL, srv_main, &s), 0);
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(migchan_send(m, MIG_STREAM, big, sizeof(big)), 0);   /* 1 MiB */
	assert_int_equal(migchan_recv(m, &type, back, sizeof(back), &len), 0);
	assert_int_equal(type, MIG_STREAM);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	migchan_close(m);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.rc2, 0);
}

/* c's chain is good, but b does not list it: b refuses, c is told. */
static void test_untrusted_client(void **state)
{
	struct migchan_conf c = conf('c', 3000);
	struct migchan *m;
	char addr[300], why[512] = "";
	struct srv s;

	(void)state;
	srv_start(&s, 'b', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EACCES);
	assert_null(m);
	assert_non_null(strstr(why, "the peer refused this host"));
	srv_join(&s);
	assert_int_equal(s.rc, -EACCES);
	assert_non_null(strstr(s.why, "peer cn=host-c sha256="));
	assert_non_null(strstr(s.why, hex_of(pins[2])));
	assert_non_null(strstr(s.why, "/b/trusted"));
}

/* a connects to c (valid chain), which a does not list: a refuses. */
static void test_untrusted_server(void **state)
{
	struct migchan_conf c = conf('a', 3000);
	struct migchan *m;
	char addr[300], why[512] = "";
	struct srv s;

	(void)state;
	srv_start(&s, 'c', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EACCES);
	assert_non_null(strstr(why, "peer cn=host-c sha256="));
	assert_non_null(strstr(why, "is not in"));
	srv_join(&s);
	assert_int_not_equal(s.rc, 0);
	assert_non_null(strstr(s.why, "refused"));
}

/* d is listed by a (cn:host-d) but its chain is CA 2's: a refuses it. */
static void test_wrong_ca(void **state)
{
	struct migchan_conf c = conf('d', 3000);
	struct migchan *m;
	char addr[300], why[512] = "";
	struct srv s;

	(void)state;
	c.ca = hp('d', "ca-both.crt");              /* d itself accepts a */
	srv_start(&s, 'a', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EACCES);
	srv_join(&s);
	assert_int_equal(s.rc, -EACCES);
	assert_non_null(strstr(s.why, "certificate verify failed"));
	/* and with its own CA only, d refuses a */
	c.ca = hp('d', "ca.crt");
	srv_start(&s, 'a', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EACCES);
	assert_non_null(strstr(why, "certificate verify failed"));
	srv_join(&s);
	assert_int_not_equal(s.rc, 0);
}

/* ---- raw OpenSSL peers --------------------------------------------------- */

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* A raw client of host H (no certificate when !H) limited to MAXVER; after
 * the handshake and the acceptance, writes OUT and closes (uncleanly when
 * CUT).  1 when the handshake and the acceptance went through. */
static int raw_client(const char *addr, char h, int maxver, const void *out, size_t n,
		      bool cut)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	uint8_t acc[8];
	char why[256];
	SSL *ssl;
	int fd, ok;

	assert_non_null(ctx);
	SSL_CTX_set_max_proto_version(ctx, maxver);
	if (h) {
		assert_int_equal(SSL_CTX_use_certificate_file(ctx, hp(h, "host.crt"),
							      SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, hp(h, "host.key"),
							     SSL_FILETYPE_PEM), 1);
	}
	fd = migchan_sock_connect(addr, 3000, why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(set_blocking(fd), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	ok = SSL_connect(ssl) == 1;
	if (ok && SSL_read(ssl, acc, sizeof(acc)) != (int)sizeof(acc))
		ok = 0;
	if (ok && n)
		SSL_write(ssl, out, (int)n);
	if (ok && !cut)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return ok;
}

static void test_tls12_client(void **state)
{
	char addr[300];
	struct srv s;

	(void)state;
	srv_start(&s, 'b', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(raw_client(addr, 'a', TLS1_2_VERSION, NULL, 0, false), 0);
	srv_join(&s);
	assert_int_equal(s.rc, -EPROTO);
	assert_non_null(strstr(s.why, "not TLS 1.3"));
}

static void test_no_client_cert(void **state)
{
	char addr[300];
	struct srv s;

	(void)state;
	srv_start(&s, 'b', SRV_NOTHING, addr, sizeof(addr));
	assert_int_equal(raw_client(addr, 0, TLS1_3_VERSION, NULL, 0, false), 0);
	srv_join(&s);
	assert_int_not_equal(s.rc, 0);
	assert_non_null(strstr(s.why, "certificate"));
}

/* A trusted peer sends FRAME; the server's recv (buffer MAX) gives RC. */
static void frame_case(const void *frame, size_t n, bool cut, size_t max, int rc,
		       const char *reason)
{
	char addr[300];
	struct srv s;

	srv_start(&s, 'b', SRV_RECV, addr, sizeof(addr));
	s.max = max;
	assert_int_equal(raw_client(addr, 'a', TLS1_3_VERSION, frame, n, cut), 1);
	srv_join(&s);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.rc2, rc);
	if (reason)
		assert_non_null(strstr(s.why, reason));
}

static void test_frames(void **state)
{
	uint8_t f[64] = { 0 };

	(void)state;
	/* PROGRESS is 32 bytes: 33 announced */
	f[0] = MIG_PROGRESS;
	f[4] = 33;
	frame_case(f, 8 + 33, false, 1 << 20, -EBADMSG, "PROGRESS of 33 bytes, over its bound");
	/* STREAM over 1 MiB, only the head sent */
	memset(f, 0, sizeof(f));
	f[0] = MIG_STREAM;
	f[4] = 1, f[6] = 0x10;                /* 0x100001 */
	frame_case(f, 8, false, 2 << 20, -EBADMSG, "over its bound of 1048576");
	/* unknown types: 0 (the internal acceptance) and 99 */
	memset(f, 0, sizeof(f));
	frame_case(f, 8, false, 1 << 20, -EBADMSG, "type 0 is unknown");
	f[0] = 99;
	frame_case(f, 8, false, 1 << 20, -EBADMSG, "type 99 is unknown");
	/* within the bound, over the receiver's buffer */
	memset(f, 0, sizeof(f));
	f[0] = MIG_DONE;
	f[4] = 40;
	frame_case(f, 8 + 40, false, 16, -EBADMSG, "over the 16 this side takes");
	/* cut: 40 announced, 10 sent, closed cleanly and not */
	frame_case(f, 8 + 10, false, 1 << 20, -EBADMSG, "cut short: 10 of its 40 bytes");
	frame_case(f, 8 + 10, true, 1 << 20, -EBADMSG, "cut short");
	/* cut in the head */
	frame_case(f, 5, true, 1 << 20, -EBADMSG, "cut in its header");
	/* a whole frame goes through */
	frame_case(f, 8 + 40, false, 1 << 20, 0, NULL);
	/* the peer closes between frames: not a bad message, a gone peer */
	frame_case(f, 0, false, 1 << 20, -EPIPE, "closed");
}

static void test_send_bounds(void **state)
{
	struct migchan_conf c = conf('a', 3000);
	static uint8_t big[MIGWIRE_STREAM_MAX + 1];
	struct migchan *m;
	char addr[300], why[512];
	struct srv s;

	(void)state;
	srv_start(&s, 'b', SRV_IDLE, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), 0);
	assert_int_equal(migchan_send(m, MIG_STREAM, big, sizeof(big)), -EINVAL);
	assert_int_equal(migchan_send(m, MIG_RUNNING, big, 1), -EINVAL);
	assert_int_equal(migchan_send(m, 0, NULL, 0), -EINVAL);
	assert_int_equal(migchan_send(m, 77, NULL, 0), -EINVAL);
	assert_int_equal(migchan_send(m, MIG_RUNNING, NULL, 0), 0);
	migchan_close(m);
	srv_join(&s);
}

/* ---- a byte changed in transit ------------------------------------------ */

struct relay {
	int lfd;                      /* where the client connects */
	char to[300];                 /* the server's address */
	size_t flip_at;               /* client->server byte changed */
	pthread_t t;
};

/* Copies both ways until either side closes, changing one byte. */
static void *relay_main(void *arg)
{
	struct relay *r = arg;
	static uint8_t buf[65536];
	char why[256];
	int c = accept(r->lfd, NULL, NULL), sfd = migchan_sock_connect(r->to, 3000, why,
								      sizeof(why));
	size_t c2s = 0;

	if (c < 0 || sfd < 0 || set_blocking(sfd))
		return NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = c, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, 5000) <= 0)
			break;
		if (p[0].revents) {
			n = read(c, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (r->flip_at >= c2s && r->flip_at < c2s + (size_t)n)
				buf[r->flip_at - c2s] ^= 0x01;
			c2s += (size_t)n;
			if (write(sfd, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents) {
			n = read(sfd, buf, sizeof(buf));
			if (n <= 0 || write(c, buf, (size_t)n) != n)
				break;
		}
	}
	close(c);
	close(sfd);
	return NULL;
}

static void test_tampered(void **state)
{
	struct migchan_conf c = conf('a', 3000);
	static uint8_t big[MIGWIRE_STREAM_MAX];
	struct migchan *m;
	char addr[300], why[512];
	struct relay r = { .flip_at = 200000 };
	struct srv s;
	int rc;

	(void)state;
	srv_start(&s, 'b', SRV_ECHO, r.to, sizeof(r.to));
	r.lfd = listen_unix(addr, sizeof(addr));
	assert_int_equal(pthread_create(&r.t, NULL, relay_main, &r), 0);
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), 0);
	rc = migchan_send(m, MIG_STREAM, big, sizeof(big));
	assert_true(rc == 0 || rc == -EPIPE);            /* the server may be gone first */
	migchan_close(m);
	srv_join(&s);
	pthread_join(r.t, NULL);
	close(r.lfd);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.rc2, -EBADMSG);             /* the frame cut where TLS refused */
	assert_non_null(strstr(s.why, "bad record mac"));
}

/* ---- timeouts ------------------------------------------------------------ */

static void test_timeouts(void **state)
{
	struct migchan_conf c = conf('b', 200), ca = conf('a', 200);
	struct migchan *m;
	char addr[300], why[512];
	uint8_t buf[64];
	uint32_t type;
	size_t len;
	struct srv s;
	int lfd;

	(void)state;
	/* no one connects */
	lfd = listen_unix(addr, sizeof(addr));
	assert_int_equal(migchan_accept(lfd, &c, &m, why, sizeof(why)), -ETIMEDOUT);
	assert_non_null(strstr(why, "no source connected in 200 ms"));
	/* connected, but no one accepts: the handshake times out */
	assert_int_equal(migchan_connect(addr, &ca, &m, why, sizeof(why)), -ETIMEDOUT);
	assert_non_null(strstr(why, "no answer in 200 ms"));
	close(lfd);
	/* up, then a peer that says nothing */
	srv_start(&s, 'b', SRV_IDLE, addr, sizeof(addr));
	assert_int_equal(migchan_connect(addr, &ca, &m, why, sizeof(why)), 0);
	assert_int_equal(migchan_readable(m, 50), 0);
	assert_int_equal(migchan_recv(m, &type, buf, sizeof(buf), &len), -ETIMEDOUT);
	assert_non_null(strstr(migchan_why(m), "no progress in 200 ms"));
	assert_int_equal(migchan_recv(m, &type, buf, sizeof(buf), &len), -EPIPE);  /* dead */
	migchan_close(m);
	srv_join(&s);
}

/* ---- configuration ------------------------------------------------------- */

static void test_bad_files(void **state)
{
	struct migchan_conf c = conf('a', 200);
	struct migchan *m;
	char addr[64] = "unix:/nonexistent/x", why[512];
	char bad[512];

	(void)state;
	assert_int_equal(chmod(hp('a', "host.key"), 0640), 0);
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "mode 0640"));
	assert_int_equal(chmod(hp('a', "host.key"), 0600), 0);
	snprintf(bad, sizeof(bad), "%s/bad-trusted", tmp);
	put_file(bad, "sha256:1234\n");
	c.trusted = bad;
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "bad-trusted line 1"));
	put_file(bad, "# nobody\n\n");
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "lists no host"));
	put_file(bad, "cn:a b\n");
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EINVAL);
	c = conf('a', 200);
	c.key = hp('b', "host.key");           /* not a's certificate's key */
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not the key of the host certificate"));
	c = conf('a', 200);
	assert_int_equal(migchan_connect(addr, &c, &m, why, sizeof(why)), -ENOENT);
	assert_int_equal(migchan_listen("tcp:1.2.3.4", &c.timeout_ms, why, sizeof(why)), -EINVAL);
	assert_int_equal(migchan_listen("tcp:[::1:5", &c.timeout_ms, why, sizeof(why)), -EINVAL);
	assert_int_equal(migchan_listen("udp:x:1", &c.timeout_ms, why, sizeof(why)), -EINVAL);
	assert_int_equal(migchan_connect("tcp:127.0.0.1:0", &c, &m, why, sizeof(why)), -EINVAL);
}

static void test_migkeys(void **state)
{
	char pin[MIGKEYS_PIN_LEN + 1], why[512], ca[512], out[512];
	struct stat st;

	(void)state;
	assert_int_equal(stat(hp('a', "host.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(ca, sizeof(ca), "%s/ca1", tmp);
	snprintf(out, sizeof(out), "%s/a", tmp);
	assert_int_equal(migkeys_host(ca, out, "host-a", pin, why, sizeof(why)), -EEXIST);
	assert_int_equal(migkeys_host(ca, out, "a b", pin, why, sizeof(why)), -EINVAL);
	assert_int_equal(strlen(pins[0]), MIGKEYS_PIN_LEN);
}

/* ---- the messages ---------------------------------------------------------- */

static const char cfg[] = "{\"name\":\"g1\"}";
static const uint8_t evl[] = { 1, 2, 3 };
static const char sec[] = "bulwark-security-state v1\nselinux=enforcing\n";

static void hello_fill(struct mig_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = MIGWIRE_VERSION;
	h->flags = MIG_HELLO_F_VTPM;
	strcpy(h->name, "g1");
	h->config = (const uint8_t *)cfg;
	h->config_len = sizeof(cfg) - 1;
	strcpy(h->host_id, "host-a \xc3\xa9");
	h->secstate = (const uint8_t *)sec;
	h->secstate_len = sizeof(sec) - 1;
	h->log = evl;
	h->log_len = sizeof(evl);
	h->ndisks = 2;
	strcpy(h->disks[0].path, "/var/lib/g1.img");
	h->disks[0].size = 1 << 30;
	h->disks[0].flags = MIG_DISK_F_SHARED;
	strcpy(h->disks[1].path, "/srv/ro.img");
	h->disks[1].flags = MIG_DISK_F_READONLY;
	strcpy(h->uuid, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
	h->ek_cert = evl;
	h->ek_cert_len = sizeof(evl);
	h->nchain = 2;
	h->ek_chain[0] = evl;
	h->ek_chain_len[0] = 1;
	h->ek_chain[1] = (const uint8_t *)sec;
	h->ek_chain_len[1] = sizeof(sec) - 1;
}

/* HELLO of H with one byte at AT (from the end when negative) set to V:
 * the decoder's answer. */
static int hello_poke(const struct mig_hello *h, long at, uint8_t v, char *why, size_t n)
{
	static struct mig_hello back;
	uint8_t *p;
	size_t len;
	int rc;

	assert_int_equal(migwire_hello_encode(h, &p, &len), 0);
	p[at < 0 ? (long)len + at : at] = v;
	rc = migwire_hello_decode(p, len, &back, why, n);
	free(p);
	return rc;
}

/* The identity: with a vTPM a UUID, an EK certificate and 1..4 chain
 * certificates; without, none; each refused otherwise, on both sides. */
static void test_hello_identity(void **state)
{
	static struct mig_hello h, back;
	static uint8_t big[MIGWIRE_CERT_MAX + 1];
	char why[256];
	uint8_t *p;
	size_t n;

	(void)state;
	/* the encoder (test_hello decodes the valid one) */
	hello_fill(&h);
	strcpy(h.uuid, "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9");   /* upper case */
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.ek_cert_len = 0;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.ek_cert = big;
	h.ek_cert_len = sizeof(big);
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.nchain = 0;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.nchain = MIGWIRE_CHAIN_MAX + 1;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.flags = 0;                                   /* an identity, no vTPM */
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	h.uuid[0] = '\0';
	h.ek_cert_len = 0;
	h.nchain = 0;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), 0);
	assert_int_equal(migwire_hello_decode(p, n, &back, why, sizeof(why)), 0);
	free(p);
	/* the decoder: the last chain certificate is 0x80 + "..." (sec); the
	 * chain count's reserved word and count precede the chain */
	hello_fill(&h);
	n = 4 + 1 + 4 + sizeof(sec) - 1;               /* both chain strings */
	assert_int_equal(hello_poke(&h, -(long)n - 4, 1, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "reserved"));
	assert_int_equal(hello_poke(&h, -(long)n - 8, 5, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "EK chain"));
	assert_int_equal(hello_poke(&h, -(long)n - 8, 0, why, sizeof(why)), -EBADMSG);
	n += 8 + 4 + sizeof(evl);                      /* and the EK certificate */
	assert_int_equal(hello_poke(&h, -(long)n - 1, 'G', why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "UUID"));
}

static void test_hello(void **state)
{
	static struct mig_hello h, back;
	char why[256];
	uint8_t *p;
	size_t n;

	(void)state;
	hello_fill(&h);
	assert_int_equal(migwire_hello_encode(&h, &p, &n), 0);
	assert_true(n <= migwire_max_len(MIG_HELLO));
	assert_int_equal(migwire_hello_decode(p, n, &back, why, sizeof(why)), 0);
	assert_string_equal(back.name, "g1");
	assert_string_equal(back.host_id, h.host_id);
	assert_int_equal(back.config_len, h.config_len);
	assert_int_equal(back.ndisks, 2);
	assert_int_equal(back.disks[0].size, 1 << 30);
	assert_int_equal(back.disks[1].flags, MIG_DISK_F_READONLY);
	assert_string_equal(back.uuid, h.uuid);
	assert_int_equal(back.ek_cert_len, sizeof(evl));
	assert_memory_equal(back.ek_cert, evl, sizeof(evl));
	assert_int_equal(back.nchain, 2);
	assert_int_equal(back.ek_chain_len[1], sizeof(sec) - 1);
	assert_memory_equal(back.ek_chain[1], sec, sizeof(sec) - 1);
	/* every prefix refused */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(migwire_hello_decode(p, i, &back, why, sizeof(why)), -EBADMSG);
	free(p);
	/* fields out of bounds refused by the encoder */
	hello_fill(&h);
	strcpy(h.name, "../x");
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.ndisks = CONFIG_MAX_DISKS + 1;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	strcpy(h.host_id, "a\nb");
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	strcpy(h.host_id, "\xc0\xaf");                 /* overlong '/' */
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	strcpy(h.disks[0].path, "relative");
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.log_len = MIGWIRE_LOG_MAX + 1;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	hello_fill(&h);
	h.version = 1;
	assert_int_equal(migwire_hello_encode(&h, &p, &n), -EINVAL);
	/* and by the decoder: a byte changed in the version, a trailing byte */
	hello_fill(&h);
	assert_int_equal(migwire_hello_encode(&h, &p, &n), 0);
	p[0] = 1;
	assert_int_equal(migwire_hello_decode(p, n, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "protocol version"));
	p[0] = 2;
	p[4] = 0x80;                                     /* unknown flag */
	assert_int_equal(migwire_hello_decode(p, n, &back, why, sizeof(why)), -EBADMSG);
	free(p);
}

static void test_small_messages(void **state)
{
	struct mig_vtpm v = { .blob = { evl, NULL, evl }, .len = { 3, 0, 1 } }, vb;
	struct mig_done d = { .bytes = 99 }, db;
	char text[MIGWIRE_REASON_MAX + 1], why[256];
	uint8_t *p;
	size_t n;

	(void)state;
	assert_int_equal(migwire_text_encode(MIG_ABORT, "disk label refused", &p, &n), 0);
	assert_int_equal(migwire_text_decode(MIG_ABORT, p, n, text, sizeof(text), why,
					     sizeof(why)), 0);
	assert_string_equal(text, "disk label refused");
	free(p);
	assert_int_equal(migwire_text_encode(MIG_ABORT, "", &p, &n), -EINVAL);
	assert_int_equal(migwire_text_encode(MIG_REFUSE, "a\x1b[2J", &p, &n), -EINVAL);
	assert_int_equal(migwire_text_encode(MIG_READY, "", &p, &n), 0);
	assert_int_equal(n, 4);
	free(p);
	assert_int_equal(migwire_text_encode(MIG_HELLO, "x", &p, &n), -EINVAL);
	assert_int_equal(migwire_vtpm_encode(&v, &p, &n), 0);
	assert_int_equal(migwire_vtpm_decode(p, n, &vb, why, sizeof(why)), 0);
	assert_int_equal(vb.len[0], 3);
	assert_int_equal(vb.len[1], 0);
	assert_memory_equal(vb.blob[2], evl, 1);
	assert_int_equal(migwire_vtpm_decode(p, n - 1, &vb, why, sizeof(why)), -EBADMSG);
	free(p);
	v.len[1] = MIGWIRE_BLOB_MAX + 1;
	v.blob[1] = evl;
	assert_int_equal(migwire_vtpm_encode(&v, &p, &n), -EINVAL);
	memset(d.sha256, 0xab, sizeof(d.sha256));
	assert_int_equal(migwire_done_encode(&d, &p, &n), 0);
	assert_int_equal(n, migwire_max_len(MIG_DONE));
	assert_int_equal(migwire_done_decode(p, n, &db, why, sizeof(why)), 0);
	assert_int_equal(db.bytes, 99);
	assert_memory_equal(db.sha256, d.sha256, 32);
	free(p);
	/* ACK: round, reserved zero, bytes, the target's estimate (<= 60 s) */
	{
		struct mig_ack a = { .round = 4, .bytes = 1234, .handover_ms = 150 }, ab;

		assert_int_equal(migwire_ack_encode(&a, &p, &n), 0);
		assert_int_equal(n, migwire_max_len(MIG_ACK));
		assert_int_equal(migwire_ack_decode(p, n, &ab, why, sizeof(why)), 0);
		assert_true(ab.round == 4 && ab.bytes == 1234 && ab.handover_ms == 150);
		p[4] = 1;
		assert_int_equal(migwire_ack_decode(p, n, &ab, why, sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "reserved"));
		p[4] = 0;
		p[16] = 0x61;                   /* 60001 ms */
		p[17] = 0xea;
		assert_int_equal(migwire_ack_decode(p, n, &ab, why, sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "over 60 s"));
		assert_int_equal(migwire_ack_decode(p, n - 1, &ab, why, sizeof(why)), -EBADMSG);
		free(p);
		a.handover_ms = MIGWIRE_HANDOVER_MAX_MS + 1;
		assert_int_equal(migwire_ack_encode(&a, &p, &n), -EINVAL);
	}
}

static void test_order(void **state)
{
	static const struct { bool src; uint32_t t; } ok[] = {
		{ true, MIG_HELLO }, { false, MIG_READY }, { true, MIG_STREAM },
		{ true, MIG_PROGRESS }, { true, MIG_STREAM }, { true, MIG_PROGRESS },
		{ false, MIG_ACK }, { true, MIG_STREAM }, { false, MIG_ACK }, { true, MIG_VTPM },
		{ true, MIG_DONE }, { false, MIG_RUNNING },
	};
	struct migwire_seq s = { 0 };
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(migwire_seq_next(&s, ok[i].src, ok[i].t, why, sizeof(why)), 0);
	assert_true(migwire_seq_over(&s));
	assert_int_equal(migwire_seq_next(&s, true, MIG_ABORT, why, sizeof(why)), -EPROTO);
	/* after RUNNING: the source's host records, at most MIGWIRE_HOSTS_MAX,
	 * nothing from the target, nothing else (issue 18 item 4) */
	for (size_t n = 0; n < 3; n++) {
		memset(&s, 0, sizeof(s));
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			migwire_seq_next(&s, ok[i].src, ok[i].t, why, sizeof(why));
		for (uint32_t k = 0; n == 0 && k < MIGWIRE_HOSTS_MAX; k++)
			assert_int_equal(migwire_seq_next(&s, true, MIG_HOST, why, sizeof(why)), 0);
		if (n == 0)
			assert_int_equal(migwire_seq_next(&s, true, MIG_HOST, why, sizeof(why)),
					 -EPROTO);
		else
			assert_int_equal(migwire_seq_next(&s, n == 1, n == 1 ? MIG_STREAM : MIG_HOST,
							  why, sizeof(why)), -EPROTO);
		assert_non_null(strstr(why, "out of order"));
	}
	assert_int_equal(migwire_max_len(MIG_HOST), BUNDLE_HOP_WIRE_MAX);
	/* HOST before RUNNING */
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, true, MIG_HOST, why, sizeof(why)), -EPROTO);
	/* out of order: stream before READY, READY from the source, two VTPMs,
	 * STREAM after VTPM, RUNNING before DONE */
	memset(&s, 0, sizeof(s));
	assert_int_equal(migwire_seq_next(&s, true, MIG_STREAM, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "STREAM from the source is out of order"));
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, true, MIG_READY, why, sizeof(why)), -EPROTO);
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	migwire_seq_next(&s, true, MIG_VTPM, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, true, MIG_STREAM, why, sizeof(why)), -EPROTO);
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, false, MIG_RUNNING, why, sizeof(why)), -EPROTO);
	/* ACK: only the target's, one per PROGRESS, none owed at VTPM or DONE,
	 * none after VTPM */
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, false, MIG_ACK, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "ACK from the target is out of order"));
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	migwire_seq_next(&s, true, MIG_PROGRESS, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, true, MIG_ACK, why, sizeof(why)), -EPROTO);
	for (int k = 0; k < 2; k++) {
		memset(&s, 0, sizeof(s));
		migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
		migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
		migwire_seq_next(&s, true, MIG_PROGRESS, why, sizeof(why));
		assert_int_equal(migwire_seq_next(&s, true, k ? MIG_DONE : MIG_VTPM, why,
						  sizeof(why)), -EPROTO);
	}
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	migwire_seq_next(&s, false, MIG_READY, why, sizeof(why));
	migwire_seq_next(&s, true, MIG_PROGRESS, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, false, MIG_ACK, why, sizeof(why)), 0);
	assert_int_equal(migwire_seq_next(&s, false, MIG_ACK, why, sizeof(why)), -EPROTO);
	/* REFUSE ends it; ABORT from either side at any point */
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, false, MIG_REFUSE, why, sizeof(why)), 0);
	assert_true(migwire_seq_over(&s));
	memset(&s, 0, sizeof(s));
	migwire_seq_next(&s, true, MIG_HELLO, why, sizeof(why));
	assert_int_equal(migwire_seq_next(&s, false, MIG_ABORT, why, sizeof(why)), 0);
	assert_true(migwire_seq_over(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_unix),
		cmocka_unit_test(test_handshake_tcp),
		cmocka_unit_test(test_untrusted_client),
		cmocka_unit_test(test_untrusted_server),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_tls12_client),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_send_bounds),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_migkeys),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_identity),
		cmocka_unit_test(test_small_messages),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
