/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host credentials for the migration channel (core/launch/migchan.h):
 * `bulwark migrate-keys --out DIR --cn NAME [--ca-dir DIR]`, and the tests,
 * which make their own CA and hosts at run time (no key is checked in).
 *
 * A CA: CADIR/ca.key (EC P-256, 0600) and CADIR/ca.crt (self-signed, 10
 * years, CA:TRUE, keyCertSign), made when absent, used when present.
 * A host: OUT/host.key (EC P-256, 0600, never overwritten), OUT/host.crt
 * (CN=NAME, signed by the CA, 3 years, CA:FALSE, digitalSignature,
 * serverAuth + clientAuth: the same certificate serves both directions) and
 * OUT/ca.crt (a copy of the CA's).  Its pin, "sha256:HEX" of host.crt's DER,
 * is what the other hosts put in their trusted-hosts.
 */
#ifndef BULWARK_LAUNCH_MIGKEYS_H
#define BULWARK_LAUNCH_MIGKEYS_H

#include <stddef.h>

#define MIGKEYS_PIN_LEN (7 + 64)          /* "sha256:" + hex */

/* The CA in DIR (made when absent).  0 or -errno, the reason in WHY. */
int migkeys_ca(const char *dir, char *why, size_t whylen);
/* A host's key and certificate into OUT (made 0700 when absent), signed by
 * the CA in CA_DIR (made when absent); PIN gets "sha256:HEX".  -EEXIST when
 * OUT/host.key exists. */
int migkeys_host(const char *ca_dir, const char *out, const char *cn,
		 char pin[MIGKEYS_PIN_LEN + 1], char *why, size_t whylen);

#endif
