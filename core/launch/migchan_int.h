/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the migration channel (core/launch/migchan.h): its sockets and its
 * trust list, shared by migchan.c, migchan_sock.c and migchan_trust.c. */
#ifndef BULWARK_LAUNCH_MIGCHAN_INT_H
#define BULWARK_LAUNCH_MIGCHAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/launch/migchan.h"

#define MIGCHAN_CN_MAX 64                  /* ub-common-name */
#define MIGCHAN_TRUSTED_FILE_MAX (64u * 1024u)

/* ---- migchan_sock.c: addresses ---- */
/* Connected, non-blocking, close-on-exec socket to ADDR within TIMEOUT_MS. */
int migchan_sock_connect(const char *addr, int timeout_ms, char *why, size_t whylen);
/* One connection from LFD within TIMEOUT_MS (non-blocking, close-on-exec). */
int migchan_sock_accept(int lfd, int timeout_ms, char *why, size_t whylen);
/* poll() on FD for EVENTS at most TIMEOUT_MS: 0, -ETIMEDOUT or -errno. */
int migchan_sock_wait(int fd, short events, int timeout_ms);

/* ---- migchan_trust.c: who may be a peer ---- */
struct migchan_pin {
	bool is_cn;
	uint8_t sha256[32];
	char cn[MIGCHAN_CN_MAX + 1];
};

struct migchan_trust {
	char path[256];                    /* for the reasons */
	size_t n;
	struct migchan_pin pin[MIGCHAN_TRUSTED_MAX];
};

/* A CN as a pin and a certificate may hold it: 1..64 printable ASCII. */
bool migchan_cn_ok(const char *s, size_t n);
/* Reads a trusted-hosts file (the syntax in migchan.h): 0 or -EINVAL /
 * -errno, the reason (file and line) in WHY. */
int migchan_trust_load(const char *path, struct migchan_trust *t, char *why, size_t whylen);
/* Parses the bytes of one (the fuzz target's entry too). */
int migchan_trust_parse(const char *buf, size_t len, struct migchan_trust *t,
			char *why, size_t whylen);
/* 1 when the certificate (its DER's SHA-256, its CN or "" when none or
 * ambiguous) is listed, 0 otherwise. */
int migchan_trust_match(const struct migchan_trust *t, const uint8_t sha[32], const char *cn);
/* A file of the configuration: regular, not a symlink, owned by our euid
 * or root, writable by its owner only; with SECRET (the host key) no
 * group/other bits at all.  An open FILE or NULL with the reason in WHY. */
FILE *migchan_file_open(const char *path, bool secret, char *why, size_t whylen);

#endif
