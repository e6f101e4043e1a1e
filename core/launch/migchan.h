/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live-migration channel between two launchers (issue 18): TLS 1.3 with
 * mutual authentication, OpenSSL 3, in the launcher only (the VMM never
 * touches the network or a key).
 *
 * Trust: each side presents its host certificate (cert + key) and requires
 * of the peer's BOTH a chain to the configured CA AND the peer listed in
 * its trusted-hosts file: "sha256:HEX" (SHA-256 of the leaf certificate's
 * DER, 64 hex digits) or "cn:NAME" (the leaf's subject CN), one per line;
 * '#' starts a comment line, blank lines are ignored, anything else refuses
 * the whole file.  No SNI or hostname check: the pinned list is the model.
 * Anything else is refused with the reason in WHY ("peer cn=X sha256=Y is
 * not in FILE", "certificate verify failed: ...", "peer offered TLSv1.2,
 * only TLS 1.3 is accepted", ...).
 *
 * Addresses: "unix:/path" (a socket path; listen unlinks nothing, an
 * existing path is refused) or "tcp:HOST:PORT" (IPv4 literal, IPv6 literal
 * in brackets "tcp:[::1]:4444", or a name resolved by getaddrinfo).
 *
 * Frames inside TLS, little-endian: u32 type, u32 len, then len bytes of
 * payload; len bounded by the type (migwire_max_len, core/launch/migwire.h);
 * an unknown type or a longer frame is -EBADMSG before its payload is read.
 * Every step (connect, accept, handshake, each wait inside a message) is
 * bounded by timeout_ms.  A channel is used by one thread at a time; the
 * caller ignores SIGPIPE (the launcher does): a peer gone is -EPIPE.
 *
 * Beyond mig-spec.md section 2 (additions only): MIGCHAN_DEFAULT_*,
 * migchan_fd and migchan_readable (to watch for a peer's ABORT while
 * streaming), migchan_why (the last failure's reason).
 */
#ifndef BULWARK_LAUNCH_MIGCHAN_H
#define BULWARK_LAUNCH_MIGCHAN_H

#include <stddef.h>
#include <stdint.h>

#define MIGCHAN_DEFAULT_CERT    "/etc/bulwark/migrate/host.crt"
#define MIGCHAN_DEFAULT_KEY     "/etc/bulwark/migrate/host.key"   /* 0600 */
#define MIGCHAN_DEFAULT_CA      "/etc/bulwark/migrate/ca.crt"
#define MIGCHAN_DEFAULT_TRUSTED "/etc/bulwark/migrate/trusted-hosts"
#define MIGCHAN_DEFAULT_TIMEOUT_MS 30000
#define MIGCHAN_TRUSTED_MAX     256        /* entries in trusted-hosts */
#define MIGCHAN_PEER_MAX        160        /* migchan_peer's text */

struct migchan_conf {
	const char *cert, *key, *ca, *trusted;  /* NULL: the MIGCHAN_DEFAULT_* */
	int timeout_ms;                         /* <= 0: MIGCHAN_DEFAULT_TIMEOUT_MS */
};

struct migchan;

/* A listening socket for ADDR.  0 or -errno, the reason in WHY. */
int migchan_listen(const char *addr, int *lfd, char *why, size_t whylen);
/* Accepts one connection on LFD (waiting at most timeout_ms) and completes
 * the handshake; the peer must pass both checks.  0 or -errno (-ETIMEDOUT,
 * -EACCES for a peer refused, -EPROTO for a TLS failure, -EINVAL for the
 * configuration), the reason in WHY. */
int migchan_accept(int lfd, const struct migchan_conf *c, struct migchan **out,
		   char *why, size_t whylen);
int migchan_connect(const char *addr, const struct migchan_conf *c,
		    struct migchan **out, char *why, size_t whylen);

/* One framed message.  0, -EINVAL (type unknown or N over its bound),
 * -ETIMEDOUT, -EPIPE (peer gone or TLS failed). */
int migchan_send(struct migchan *m, uint32_t type, const void *p, size_t n);
/* One framed message into BUF (MAX bytes).  0, -ETIMEDOUT, -EPIPE (peer
 * gone, closed or TLS failed), -EBADMSG (unknown type, over its bound or
 * over MAX, truncated); the reason logged and kept for migchan_why.
 * After any failure the channel is dead: every later call fails. */
int migchan_recv(struct migchan *m, uint32_t *type, void *buf, size_t max,
		 size_t *len);
/* "cn=NAME sha256=HEX" of the authenticated peer; "cn=-" when its
 * certificate has no CN, more than one, or one not printable ASCII. */
const char *migchan_peer(const struct migchan *m);
/* 32 bytes: SHA-256 of the peer's leaf certificate (DER). */
const uint8_t *migchan_peer_sha256(const struct migchan *m);
/* The socket, to poll(); migchan_readable says whether a recv would not
 * block: 1 yes (bytes buffered in TLS or on the socket), 0 no, -errno. */
int migchan_fd(const struct migchan *m);
int migchan_readable(struct migchan *m, int timeout_ms);
/* The reason of the last failure ("" if none). */
const char *migchan_why(const struct migchan *m);
/* Sends close_notify (best effort, bounded), frees.  NULL is fine. */
void migchan_close(struct migchan *m);

#endif
