/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live-migration channel (core/launch/migchan.h): TLS 1.3 only, both
 * sides authenticated by a chain to the CA AND a pin in trusted-hosts, every
 * step bounded by poll(), frames bounded by their type (migwire_max_len).
 */
#include "core/launch/migchan_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/launch/migwire.h"
#include "core/log.h"
#include "core/util.h"

/* Internal frame: the accepting side tells the connecting side that it
 * accepted it too (in TLS 1.3 the client's handshake ends before the server
 * has checked the client's certificate). */
#define MIGCHAN_ACCEPTED 0u
#define FRAME_HEAD MIGWIRE_HEAD

struct migchan {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int timeout_ms;
	bool dead, up;                     /* up: handshake and acceptance done */
	struct migchan_trust trust;
	uint8_t sha[32];
	char peer[MIGCHAN_PEER_MAX];
	char why[512];
};

static void chan_why(struct migchan *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void chan_why(struct migchan *m, const char *fmt, ...)
{
	va_list ap;

	if (m->why[0])                      /* the first reason is the cause */
		return;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
}

/* OpenSSL's last error as text ("" when none). */
static const char *tls_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, len);
	return buf;
}

/* ---- the certificate of the peer ----------------------------------------- */

/* SHA-256 of the DER, the CN ("" when none, or when more than one, or not
 * printable ASCII), and the "cn=NAME sha256=HEX" text into M. */
static int cert_identity(struct migchan *m, X509 *x, char cn[MIGCHAN_CN_MAX + 1])
{
	X509_NAME *nm = X509_get_subject_name(x);
	int i = nm ? X509_NAME_get_index_by_NID(nm, NID_commonName, -1) : -1;
	unsigned int n = 0;
	char hex[65];

	cn[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), m->sha, &n) || n != 32)
		return -EIO;
	if (i >= 0 && X509_NAME_get_index_by_NID(nm, NID_commonName, i) < 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
		unsigned char *u = NULL;
		int ul = d ? ASN1_STRING_to_UTF8(&u, d) : -1;

		if (ul > 0 && migchan_cn_ok((const char *)u, (size_t)ul)) {
			memcpy(cn, u, (size_t)ul);
			cn[ul] = '\0';
		}
		OPENSSL_free(u);
	}
	hex_encode(m->sha, 32, hex);
	snprintf(m->peer, sizeof(m->peer), "cn=%s sha256=%s", cn[0] ? cn : "-", hex);
	return 0;
}

/* The chain as OpenSSL judged it, then, for the leaf, the pinned list. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct migchan *m = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cur = X509_STORE_CTX_get_current_cert(x);
	int depth = X509_STORE_CTX_get_error_depth(x);
	char cn[MIGCHAN_CN_MAX + 1], subj[256] = "?";

	if (!m)
		return 0;
	if (!ok) {
		if (cur)
			X509_NAME_oneline(X509_get_subject_name(cur), subj, sizeof(subj));
		chan_why(m, "certificate verify failed: %s (depth %d, subject %s)",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)), depth, subj);
		return 0;
	}
	if (depth)
		return 1;
	if (!cur || cert_identity(m, cur, cn)) {
		chan_why(m, "cannot read the peer's certificate");
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (!migchan_trust_match(&m->trust, m->sha, cn)) {
		chan_why(m, "peer %s is not in %s", m->peer, m->trust.path);
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/* ---- the configuration --------------------------------------------------- */

static int ctx_key(struct migchan *m, const char *cert, const char *key)
{
	char e[256];
	FILE *f;
	EVP_PKEY *pk;

	if (SSL_CTX_use_certificate_chain_file(m->ctx, cert) != 1) {
		chan_why(m, "%s: cannot load the host certificate: %s", cert, tls_err(e, sizeof(e)));
		return -EINVAL;
	}
	f = migchan_file_open(key, true, m->why, sizeof(m->why));
	if (!f)
		return -EINVAL;
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk || SSL_CTX_use_PrivateKey(m->ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(m->ctx) != 1) {
		chan_why(m, "%s: %s: %s", key, pk ? "not the key of the host certificate" :
			 "not a PEM private key", tls_err(e, sizeof(e)));
		EVP_PKEY_free(pk);
		return -EINVAL;
	}
	EVP_PKEY_free(pk);
	return 0;
}

static int ctx_ca(struct migchan *m, const char *ca)
{
	X509_STORE *st = SSL_CTX_get_cert_store(m->ctx);
	STACK_OF(X509_INFO) *inf;
	FILE *f = migchan_file_open(ca, false, m->why, sizeof(m->why));
	int n = 0;

	if (!f)
		return -EINVAL;
	inf = PEM_X509_INFO_read(f, NULL, NULL, NULL);
	fclose(f);
	for (int i = 0; inf && i < sk_X509_INFO_num(inf); i++) {
		X509_INFO *xi = sk_X509_INFO_value(inf, i);

		if (xi->x509 && X509_STORE_add_cert(st, xi->x509) == 1)
			n++;
	}
	sk_X509_INFO_pop_free(inf, X509_INFO_free);
	if (!n) {
		chan_why(m, "%s holds no CA certificate", ca);
		return -EINVAL;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_X509_STRICT);
	return 0;
}

static int chan_new(const struct migchan_conf *c, bool server, struct migchan **out)
{
	struct migchan *m = calloc(1, sizeof(*m));
	const struct migchan_conf dflt = { 0 };
	int rc;

	*out = m;
	if (!m)
		return -ENOMEM;
	c = c ? c : &dflt;
	m->fd = -1;
	m->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : MIGCHAN_DEFAULT_TIMEOUT_MS;
	m->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!m->ctx || !SSL_CTX_set_min_proto_version(m->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(m->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_num_tickets(m->ctx, 0))
		return -ENOMEM;
	SSL_CTX_set_options(m->ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(m->ctx, SSL_SESS_CACHE_OFF);
	rc = ctx_key(m, c->cert ? c->cert : MIGCHAN_DEFAULT_CERT,
		     c->key ? c->key : MIGCHAN_DEFAULT_KEY);
	rc = rc ? rc : ctx_ca(m, c->ca ? c->ca : MIGCHAN_DEFAULT_CA);
	rc = rc ? rc : migchan_trust_load(c->trusted ? c->trusted : MIGCHAN_DEFAULT_TRUSTED,
					  &m->trust, m->why, sizeof(m->why));
	if (rc)
		return rc < 0 && rc != -ENOMEM ? -EINVAL : rc;
	SSL_CTX_set_verify(m->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	m->ssl = SSL_new(m->ctx);
	if (!m->ssl)
		return -ENOMEM;
	SSL_set_app_data(m->ssl, m);
	return 0;
}

/* ---- I/O bounded in time -------------------------------------------------- */

/* After an SSL call returned R: wait for what it wants (0), or the error. */
static int chan_wait(struct migchan *m, int r)
{
	int e = SSL_get_error(m->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return migchan_sock_wait(m->fd, POLLIN, m->timeout_ms);
	if (e == SSL_ERROR_WANT_WRITE)
		return migchan_sock_wait(m->fd, POLLOUT, m->timeout_ms);
	if (e == SSL_ERROR_ZERO_RETURN)
		return -ECONNRESET;                /* close_notify */
	return -EPROTO;
}

/* All N bytes, each wait bounded by timeout_ms. */
static int chan_xfer(struct migchan *m, bool wr, void *buf, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		size_t k = 0;
		int r, rc;

		ERR_clear_error();
		r = wr ? SSL_write_ex(m->ssl, (uint8_t *)buf + *done, n - *done, &k) :
			 SSL_read_ex(m->ssl, (uint8_t *)buf + *done, n - *done, &k);
		if (r == 1) {
			*done += k;
			continue;
		}
		rc = chan_wait(m, r);
		if (rc)
			return rc;
	}
	return 0;
}

/* The channel dies: the reason kept and logged; the errno to return. */
static int chan_fail(struct migchan *m, int rc, const char *doing)
{
	char e[256];

	if (rc == -ETIMEDOUT)
		chan_why(m, "%s: no progress in %d ms", doing, m->timeout_ms);
	else if (rc == -ECONNRESET)
		chan_why(m, "%s: the peer closed the channel", doing);
	else
		chan_why(m, "%s: %s", doing, tls_err(e, sizeof(e))[0] ? e :
			 "the connection was lost");
	if (m->up && !m->dead)
		log_err("migration channel with %s: %s", m->peer, m->why);
	m->dead = true;
	return rc == -ETIMEDOUT ? rc : -EPIPE;
}

/* ---- the handshake --------------------------------------------------------- */

/* The reason of a failed handshake, and its errno. */
static int hs_fail(struct migchan *m, int rc)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);
	long vr = SSL_get_verify_result(m->ssl);
	char t[256];

	tls_err(t, sizeof(t));
	if (rc == -ETIMEDOUT) {
		chan_why(m, "TLS handshake: no answer in %d ms", m->timeout_ms);
	} else if (m->why[0] || vr != X509_V_OK) {
		chan_why(m, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
		rc = -EACCES;
	} else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER ||
		   reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
		   reason == SSL_R_NO_PROTOCOLS_AVAILABLE) {
		chan_why(m, "not TLS 1.3: the peer offers only an older protocol (%s)", t);
		rc = -EPROTO;
	} else if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
		chan_why(m, "the peer refused the handshake (it does not trust this host, "
			 "or its CA differs): %s", t);
		rc = -EACCES;
	} else {
		chan_why(m, "TLS handshake failed: %s", t[0] ? t : "the connection was lost");
		rc = -EPROTO;
	}
	m->dead = true;
	return rc;
}

static int chan_handshake(struct migchan *m, int fd, bool server)
{
	X509 *x;
	char cn[MIGCHAN_CN_MAX + 1];
	int rc = 0;

	m->fd = fd;
	if (SSL_set_fd(m->ssl, fd) != 1)
		return -ENOMEM;
	if (server)
		SSL_set_accept_state(m->ssl);
	else
		SSL_set_connect_state(m->ssl);
	for (;;) {
		int r;

		ERR_clear_error();
		r = SSL_do_handshake(m->ssl);
		if (r == 1)
			break;
		rc = chan_wait(m, r);
		if (rc)
			return hs_fail(m, rc);
	}
	/* Checked again on the final state, not only in the callback. */
	x = SSL_get0_peer_certificate(m->ssl);
	if (SSL_version(m->ssl) != TLS1_3_VERSION || !x || cert_identity(m, x, cn) ||
	    SSL_get_verify_result(m->ssl) != X509_V_OK ||
	    !migchan_trust_match(&m->trust, m->sha, cn)) {
		chan_why(m, "the handshake ended without a trusted TLS 1.3 peer");
		m->dead = true;
		return -EACCES;
	}
	return 0;
}

/* The accepting side's word that it accepted; the connecting side waits for
 * it, so that a refusal of its certificate fails migchan_connect. */
static int chan_confirm(struct migchan *m, bool server)
{
	uint8_t h[FRAME_HEAD] = { 0 };
	size_t done;
	int rc;

	if (server) {
		rc = chan_xfer(m, true, h, sizeof(h), &done);
		return rc ? chan_fail(m, rc, "sending the acceptance") : 0;
	}
	rc = chan_xfer(m, false, h, sizeof(h), &done);
	if (rc) {
		char t[256];

		if (rc != -ETIMEDOUT && ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_SSL &&
		    ERR_GET_REASON(ERR_peek_last_error()) >= SSL_AD_REASON_OFFSET) {
			chan_why(m, "the peer refused this host (not in its trusted hosts, or "
				 "another CA): %s", tls_err(t, sizeof(t)));
			m->dead = true;
			return -EACCES;
		}
		return chan_fail(m, rc, "waiting for the peer to accept");
	}
	for (size_t i = 0; i < sizeof(h); i++)
		if (h[i])
			return chan_fail(m, -EBADMSG, "the peer's acceptance is malformed");
	return 0;
}

/* A channel: configured, connected (or accepted), shaken hands, confirmed;
 * or nothing left and the reason in WHY. */
static int chan_open(const struct migchan_conf *c, bool server, int lfd, const char *addr,
		     struct migchan **out, char *why, size_t whylen)
{
	struct migchan *m;
	int rc = chan_new(c, server, &m);

	*out = NULL;
	if (!rc) {
		int fd = server ? migchan_sock_accept(lfd, m->timeout_ms, why, whylen) :
				  migchan_sock_connect(addr, m->timeout_ms, why, whylen);

		rc = fd < 0 ? fd : chan_handshake(m, fd, server);
		if (fd >= 0 && m->fd < 0)
			close(fd);
		rc = rc ? rc : chan_confirm(m, server);
	}
	if (rc) {
		if (m && m->why[0])
			snprintf(why, whylen, "%s", m->why);
		else if (!why[0])
			snprintf(why, whylen, "%s", strerror(-rc));
		log_err("migration channel: %s", why);
		migchan_close(m);
		return rc;
	}
	m->up = true;
	log_info("migration channel: TLS 1.3 with %s (%s)", m->peer, SSL_get_cipher(m->ssl));
	*out = m;
	return 0;
}

int migchan_accept(int lfd, const struct migchan_conf *c, struct migchan **out,
		   char *why, size_t whylen)
{
	why[0] = '\0';
	return chan_open(c, true, lfd, NULL, out, why, whylen);
}

int migchan_connect(const char *addr, const struct migchan_conf *c, struct migchan **out,
		    char *why, size_t whylen)
{
	why[0] = '\0';
	return chan_open(c, false, -1, addr, out, why, whylen);
}

/* ---- frames ----------------------------------------------------------------- */

int migchan_send(struct migchan *m, uint32_t type, const void *p, size_t n)
{
	uint8_t h[FRAME_HEAD];
	size_t done;
	int rc;

	if (m->dead)
		return -EPIPE;
	if (!migwire_known(type) || n > migwire_max_len(type) || (n && !p))
		return -EINVAL;
	put_le(h, type, 4);
	put_le(h + 4, n, 4);
	rc = chan_xfer(m, true, h, sizeof(h), &done);
	if (!rc && n)
		rc = chan_xfer(m, true, (void *)p, n, &done);
	return rc ? chan_fail(m, rc, "sending") : 0;
}

/* A frame refused: the reason (after the peer), and the channel dies. */
static int frame_bad(struct migchan *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int frame_bad(struct migchan *m, const char *fmt, ...)
{
	char t[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	chan_why(m, "from %s: %s", m->peer, t);
	log_err("migration channel: %s", m->why);
	m->dead = true;
	return -EBADMSG;
}

int migchan_recv(struct migchan *m, uint32_t *type, void *buf, size_t max, size_t *len)
{
	uint8_t h[FRAME_HEAD];
	char t[200];
	uint32_t n;
	size_t done;
	int rc;

	*len = 0;
	if (m->dead)
		return -EPIPE;
	rc = chan_xfer(m, false, h, sizeof(h), &done);
	if (rc && done && rc != -ETIMEDOUT)
		return frame_bad(m, "a frame cut in its header (%zu of %zu bytes)", done, sizeof(h));
	if (rc)
		return chan_fail(m, rc, "receiving");
	if (migwire_head_check(h, max, type, &n, t, sizeof(t)))
		return frame_bad(m, "%s", t);
	rc = chan_xfer(m, false, buf, n, &done);
	if (rc == -ETIMEDOUT)
		return chan_fail(m, rc, "receiving");
	if (rc)                              /* closed, lost, or TLS refused a record */
		return frame_bad(m, "%s cut short: %zu of its %u bytes%s%s", migwire_name(*type),
				 done, n, tls_err(t, sizeof(t))[0] ? ": " : "", t);
	*len = n;
	return 0;
}

/* ---- the rest ---------------------------------------------------------------- */

const char *migchan_peer(const struct migchan *m)
{
	return m->peer;
}

const uint8_t *migchan_peer_sha256(const struct migchan *m)
{
	return m->sha;
}

int migchan_fd(const struct migchan *m)
{
	return m->fd;
}

int migchan_readable(struct migchan *m, int timeout_ms)
{
	int rc;

	if (m->dead)
		return -EPIPE;
	if (SSL_has_pending(m->ssl))
		return 1;
	rc = migchan_sock_wait(m->fd, POLLIN, timeout_ms);
	return rc == -ETIMEDOUT ? 0 : rc ? rc : 1;
}

const char *migchan_why(const struct migchan *m)
{
	return m->why;
}

void migchan_close(struct migchan *m)
{
	if (!m)
		return;
	if (m->ssl && !m->dead && SSL_is_init_finished(m->ssl))
		SSL_shutdown(m->ssl);              /* one try: the socket is non-blocking */
	SSL_free(m->ssl);
	SSL_CTX_free(m->ctx);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}
