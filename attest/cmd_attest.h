/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `bulwark attest` and `bulwark serve` share: a guest's attestation
 * directory and a way to reach its vTPM.
 *
 * Attestation directory (written by `bulwark enroll`, read-only afterwards):
 *   identity       "NAME\nUUID\n"
 *   ak.alg         "rsa2048" or "p256"
 *   ak.crt         AK certificate, DER
 *   ek.crt         EK certificate, DER (copied from swtpm_setup's cert dir)
 *   ek-chain.pem   EK CA intermediates, PEM (swtpm_localca's issuercert.pem)
 *
 * The vTPM: these commands reach swtpm through its test/interop sockets
 * (--tpm PATH: data at PATH, control at PATH.ctrl, attest/swtpm.h).  In
 * production the launcher holds the only channels and calls quote_collect()
 * with its tpmproxy transport instead (BUNDLE.md, "Quotes").
 */
#ifndef BULWARK_ATTEST_CMD_ATTEST_H
#define BULWARK_ATTEST_CMD_ATTEST_H

#include "attest/quote.h"
#include "attest/swtpm.h"

struct attest_source {
	struct quote_guest g;
	struct swtpm ctrl;        /* control channel by path (sock_path mode) */
	int fd;                   /* data channel */
	struct quote_tpm t;
	char name[BUNDLE_NAME_MAX + 1], uuid[37], label[BUNDLE_LABEL_MAX + 1];
};

/* Connects to swtpm's data socket at path; 0 or -errno. */
int attest_tpm_connect(const char *path, int *fd);

/* Loads DIR, the log and the label; connects to the vTPM at tpm_path. */
int attest_source_open(struct attest_source *s, const char *dir, const char *log_path,
		       const char *label, const char *tpm_path);
void attest_source_close(struct attest_source *s);

/* One bundle for nonce (hex) as JSON text (malloc'd); 0 or -errno. */
int attest_source_bundle(struct attest_source *s, const char *nonce_hex, char **json,
			 size_t *len);

#endif
