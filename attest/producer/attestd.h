/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attestd: the launcher's attestation control channel, and enrollment at a
 * guest's first start.
 *
 * In production only the launcher holds the guest's swtpm channels (vtpm.h),
 * so `bulwark attest` and `bulwark serve` ask it, over a per-guest unix
 * stream socket:
 *
 *   RUN_DIR/NAME/attest.sock     RUN_DIR = /run/bulwark; mode 0600, in a
 *                                directory 0700, both owned by the launcher
 *   RUN_DIR/NAME/attest.lock     flock()ed by the live launcher
 *
 * Protocol (one request per connection; the client writes one request and
 * then shuts down its write side or ends the request with a newline):
 *
 *   request   {"op":"quote","nonce":"HEX"}     nonce: 16..64 bytes, lower hex
 *             {"op":"enroll-info"}
 *             one JSON object, at most ATTESTD_REQ_MAX bytes, no other keys,
 *             no duplicates, nothing after it but one optional newline
 *   reply     "OK LEN\n" then LEN bytes of JSON: a bundle (BUNDLE.md) for
 *             "quote", an identity object for "enroll-info":
 *               {"name","uuid","label","ak_alg","ak_cert" (base64 DER),
 *                "ek_cert" (base64 DER),"ek_chain":[base64 DER...]}
 *             "ERR ERRNO MESSAGE\n" (ERRNO positive, decimal) on refusal
 *             (bad request, -EBUSY: the guest holds every TPM object slot,
 *             retry later)
 *
 * The launcher's side is non-blocking toward its poll loop except for the
 * one accepted client: its request must arrive within ATTESTD_IO_TIMEOUT_MS
 * of the accept, its reply must be taken within ATTESTD_IO_TIMEOUT_MS, and
 * the quote itself (a proxy host transaction: guest TPM commands wait for
 * it anyway) is bounded by the proxy's TPM timeouts.  A client that is not
 * uid 0 (SO_PEERCRED) is refused before anything is read.  Every refusal is
 * logged with the guest's name and the reason.
 *
 * ---- What the launcher calls, and where (core/launch/launcher.c) -------------
 *
 *   struct attestd_guest id;  struct attestd d;
 *
 *   after vtpm_start(&vcfg, &vtpm) succeeded and the guest's svirt label is
 *   known (before the VMM's first vCPU runs, i.e. before fork/exec or at
 *   least before the poll loop):
 *       rc = attestd_enroll_if_needed(&ecfg, &vtpm, label, &id);
 *       rc = rc ? rc : attestd_open(ATTESTD_RUN_DIR, name, &d);
 *       if (rc) fail closed: vtpm_stop, do not start the guest;
 *
 *   in the poll loop, beside tpmproxy_fd(&vtpm.proxy):
 *       pfd[k] = (struct pollfd){ attestd_fd(&d), POLLIN, 0 };
 *       ... poll ...
 *       if (pfd[k].revents & POLLIN)
 *           rc = attestd_service(&d, &vtpm, &id.g);
 *           // rc == -EIO: the vTPM is unusable (tpmproxy.h): stop the guest.
 *           // any other rc concerns one client only: keep running.
 *
 *   at exit, before vtpm_stop():
 *       attestd_close(&d);  attestd_guest_free(&id);
 *
 * The launcher must ignore SIGPIPE (tpmproxy.h); attestd also writes with
 * MSG_NOSIGNAL.
 *
 * ---- Enrollment and identity (first start) ------------------------------
 *
 *   STATE_DIR/NAME/uuid          the guest's UUID, generated at first start
 *                                (random, version 4), kept with its state
 *   STATE_DIR/NAME/attest/       identity, ak.alg, ak.crt, ek.crt,
 *                                ek-chain.pem (cmd_attest.h's layout)
 *   EK_CERT_DIR/ek-chain.pem     a migrated guest's EK chain (attestd_adopt);
 *                                otherwise EK_CA_DIR/issuercert.pem
 *   CA_DIR/ca.crt, CA_DIR/ca.key the local attestation CA (self-signed,
 *                                P-256), created 0700/0600 on first use
 *
 * attestd_enroll_if_needed() enrolls (quote_vtpm_enroll: credential
 * activation against the EK certificate swtpm_setup made) when there is no
 * enrollment yet or when the stored EK certificate is not the vTPM's current
 * one (state recreated), and otherwise loads what is stored.  The EK
 * certificate must chain to the swtpm_localca anchors (enroll.h).
 */
#ifndef BULWARK_ATTEST_ATTESTD_H
#define BULWARK_ATTEST_ATTESTD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attest/format/bundle.h"
#include "attest/producer/quote.h"
#include "attest/vtpm/vtpm.h"

#define ATTESTD_RUN_DIR       "/run/bulwark"
#define ATTESTD_STATE_DIR     "/var/lib/bulwark"
#define ATTESTD_CA_DIR        "/var/lib/bulwark/attest-ca"
#define ATTESTD_SOCK_NAME     "attest.sock"
#define ATTESTD_LOCK_NAME     "attest.lock"
#define ATTESTD_REQ_MAX       512u
#define ATTESTD_IO_TIMEOUT_MS 1000
#define ATTESTD_REPLY_MAX     (BUNDLE_MAX_SIZE + 64u)

/* ---- enrollment ---------------------------------------------------------- */

struct attestd_enroll_config {
	const char *name;          /* guest name (bundle.h rules) */
	const char *state_dir;     /* NULL: ATTESTD_STATE_DIR "/" name */
	const char *ca_dir;        /* attestation CA; NULL: ATTESTD_CA_DIR */
	const char *ek_cert_dir;   /* = swtpm_config.cert_dir (ek-rsa2048.crt) */
	const char *ek_ca_dir;     /* = swtpm_config.ca_dir (swtpm_localca) */
	enum quote_ak_alg alg;     /* QUOTE_AK_RSA2048 by default (0) */
	int days;                  /* AK certificate validity; 0: 3650 */
	/*
	 * Enrollment bound to the host (issue 15): with host_tpm (the host
	 * TPM, /dev/tpmrm0 or a swtpm socket) and host_dir (the host's own
	 * attestation directory, `bulwark enroll` against that TPM), right
	 * after the AK certificate is issued host_bind (the launcher's
	 * enroll_host_bind, cmd_attest.h) stores a host quote bound to the
	 * AK's Name beside it as host-enroll.*; a failure fails the
	 * enrollment (closed).  A stored enrollment without those files is
	 * enrolled again.  host_ima: NULL for the kernel's IMA list.
	 */
	const char *host_tpm, *host_dir, *host_ima;
	int (*host_bind)(const char *out_dir, const char *host_dir, const char *host_tpm,
			 const char *ima_path, const TPMT_PUBLIC *ak);
};

/* The guest's identity as quotes need it; g points into this struct. */
struct attestd_guest {
	struct quote_guest g;      /* name, uuid, label, alg, ak, ek */
	char name[BUNDLE_NAME_MAX + 1];
	char uuid[37];
	char label[BUNDLE_LABEL_MAX + 1];
};

/*
 * STATE_DIR/uuid: read it, or create it (0600, atomically) on first start.
 * uuid gets the canonical lower-case form.  0 or -errno (-EBADMSG: the file
 * is not one UUID).
 */
int attestd_uuid(const char *state_dir, char uuid[37]);

/*
 * After vtpm_start(): enrolls on first start (above) or loads the stored
 * enrollment, and fills id (label: the guest's SELinux context, as the
 * bundle must report it).  0 or -errno; on failure id holds nothing.
 */
int attestd_enroll_if_needed(const struct attestd_enroll_config *cfg, struct vtpm *v,
			     const char *label, struct attestd_guest *id);
void attestd_guest_free(struct attestd_guest *id);

/* EK_CERT_DIR's files: swtpm_setup's EK certificate (DER) and, for a guest
 * that migrated here, the EK chain that came with it (PEM). */
#define ATTESTD_EK_CERT  "ek-rsa2048.crt"
#define ATTESTD_EK_CHAIN "ek-chain.pem"

/*
 * A live migration's target (issue 18), before the identity moves: EK (leaf
 * and intermediates, DER) chains to EK_CA_DIR's anchors.  0, -EPERM (does
 * not chain), -EBADMSG (not DER) or -EINVAL/-ENOMEM, the reason in WHY.
 */
int attestd_ek_check(const char *ek_ca_dir, const char *name, const struct bundle_chain *ek,
		     char *why, size_t whylen);

/*
 * After the migrated vTPM state replaced the one made here: the source's
 * UUID into STATE/uuid, its EK certificate and chain into EK_CERT_DIR, the
 * enrollment of the TPM made here removed (its AK certificate), so that the
 * next attestd_enroll_if_needed() enrolls the migrated TPM.  0 or -errno.
 */
int attestd_adopt(const struct attestd_enroll_config *cfg, const char *uuid,
		  const struct bundle_chain *ek);

/* ---- the control socket ------------------------------------------------- */

struct attestd {
	int listen_fd;             /* non-blocking, CLOEXEC; -1: closed */
	int lock_fd;               /* flock on attest.lock, held while open */
	int dir_fd;                /* RUN_DIR/NAME, O_PATH */
	uid_t allow_uid;           /* peers allowed: 0 (tests may change it) */
	int io_timeout_ms;         /* ATTESTD_IO_TIMEOUT_MS (tests may lower it) */
	char name[BUNDLE_NAME_MAX + 1];
	char sock_path[108];
	uint64_t served, refused;  /* statistics */
	/* Not "": every request is answered ERR with this reason (a migrated
	 * guest not yet enrolled here, or whose enrollment failed). */
	char refuse[256];
};

/*
 * Creates RUN_DIR/NAME (0700; RUN_DIR itself 0755 if missing), each level
 * opened without following symlinks and checked: a directory owned by us,
 * not writable by group or others.  Takes attest.lock (-EADDRINUSE if
 * another launcher holds it: that guest is running), replaces a stale
 * attest.sock (only a socket; anything else there: -EEXIST), binds, sets
 * 0600, listens.  0 or -errno; on failure nothing is left.
 */
int attestd_open(const char *run_dir, const char *name, struct attestd *d);

/* The fd to poll for POLLIN; -1 once closed. */
int attestd_fd(const struct attestd *d);

/*
 * The listening fd is readable: accepts one client (none waiting: 0),
 * checks its credentials, reads and parses one request, answers it.
 * Returns 0 when the client was answered (also with an "ERR" reply),
 * -EIO when the vTPM became unusable (stop the guest), another -errno when
 * only this client failed (logged; keep running).
 */
int attestd_service(struct attestd *d, struct vtpm *v, const struct quote_guest *g);

/* Removes attest.sock, releases the lock, closes everything.  Idempotent. */
void attestd_close(struct attestd *d);

/* ---- the wire format (shared with the clients; fuzzed) ----------------- */

enum attestd_op { ATTESTD_OP_QUOTE = 1, ATTESTD_OP_ENROLL_INFO };

struct attestd_request {
	enum attestd_op op;
	uint8_t nonce[BUNDLE_MAX_NONCE];
	size_t nonce_len;
};

/*
 * Strict parse of one request (above).  0 or -EINVAL with why set to a
 * short static reason.  Never reads past len; buf need not be terminated.
 */
int attestd_request_parse(const uint8_t *buf, size_t len, struct attestd_request *req,
			  const char **why);

/*
 * The reply header of buf (len bytes): "OK LEN\n" -> 0 and *body_off,
 * *body_len; "ERR ERRNO MESSAGE\n" -> -ERRNO, msg (NUL-terminated, at most
 * cap bytes, printable ASCII only); anything else -EPROTO.
 */
int attestd_reply_parse(const uint8_t *buf, size_t len, size_t *body_off, size_t *body_len,
			char *msg, size_t cap);

/* ---- the client (bulwark attest / serve) --------------------------------- */

/*
 * Connects to RUN_DIR/NAME/attest.sock, sends req, reads the whole reply
 * (bounded by ATTESTD_REPLY_MAX and timeout_ms).  0 with *body (malloc'd,
 * NUL-terminated) or -errno with msg set to the launcher's (or our) reason.
 */
int attestd_request(const char *run_dir, const char *name, const struct attestd_request *req,
		    int timeout_ms, char **body, size_t *body_len, char *msg, size_t cap);

#endif
