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
 * The vTPM.  In production the launcher holds the only channels: `bulwark
 * attest NAME` and `bulwark serve` ask the running launcher of NAME over its
 * attestation socket (attestd.h, RUN_DIR/NAME/attest.sock), which quotes in
 * a proxy host transaction.  For tests and interop, --tpm PATH reaches swtpm
 * through its test sockets instead (data at PATH, control at PATH.ctrl,
 * attest/vtpm/swtpm.h) with the attestation directory, log and label given.
 */
#ifndef BULWARK_ATTEST_CMD_ATTEST_H
#define BULWARK_ATTEST_CMD_ATTEST_H

#include "attest/producer/quote.h"
#include "attest/vtpm/swtpm.h"

struct attest_source {
	struct quote_guest g;
	struct swtpm ctrl;        /* control channel by path (sock_path mode) */
	int fd;                   /* data channel */
	struct quote_tpm t;
	char name[BUNDLE_NAME_MAX + 1], uuid[37], label[BUNDLE_LABEL_MAX + 1];
};

/* Connects to swtpm's data socket at path, or opens a TPM device
 * (attest_tpm_is_device: a path under /dev/); 0 or -errno. */
int attest_tpm_connect(const char *path, int *fd);
int attest_tpm_is_device(const char *path);

/* Loads DIR, the log and the label; connects to the vTPM at tpm_path. */
int attest_source_open(struct attest_source *s, const char *dir, const char *log_path,
		       const char *label, const char *tpm_path);
void attest_source_close(struct attest_source *s);

/*
 * The host TPM's side (issue 15): DIR is the host's attestation directory
 * (`bulwark enroll` run against the host TPM, with the host's own UUID), the
 * TPM reached at tpm_path like a vTPM's test sockets.  No log, no label.
 */
int attest_host_open(struct attest_source *s, const char *dir, const char *tpm_path);

/*
 * Adds the host's evidence to the bundle in *json (replaced by the version 2
 * text): host quote bound to its guest quote, the IMA list of ima_path cut at
 * the quote (host_quote.h).  0 or -errno.
 */
int attest_host_add(const char *dir, const char *tpm_path, const char *ima_path,
		    const char *guest_dir, char **json, size_t *len);

/*
 * Enrollment bound to the host (cmd_enroll_host.c): after the guest AK ak is
 * certified, the host TPM (host_tpm, host_dir as above) quotes PCR 10 bound
 * to ak's Name; the quote, PCR 10 and the IMA prefix go to out_dir as
 * host-enroll.{attest,sig,pcr10,ima}.  0 or -errno.
 */
int enroll_host_bind(const char *out_dir, const char *host_dir, const char *host_tpm,
		     const char *ima_path, const TPMT_PUBLIC *ak);
/*
 * Each host's evidence across live migrations (cmd_attest_hop.c, issue 18):
 * attest_hop_make quotes the host TPM (host_dir, host_tpm as above; ima_path
 * NULL: HOST_IMA_PATH) bound to the migration stream's SHA-256 and encodes
 * the record (bundle_hop_encode; *rec malloc'd).  The target keeps records
 * in guest_dir as hop-1.bin .. hop-BUNDLE_MAX_HOPS.bin, oldest first:
 * attest_hops_clear removes them, attest_hop_put stores record i (0-based)
 * once it decodes (-EBADMSG with why otherwise), attest_hop_read reads it
 * back raw (-ENOENT: none), attest_hops_load decodes all into b->hops.
 * 0 or -errno.
 */
int attest_hop_make(const char *host_dir, const char *host_tpm, const char *ima_path,
		    const uint8_t stream[32], uint8_t **rec, size_t *len);
int attest_hops_clear(const char *guest_dir);
int attest_hop_put(const char *guest_dir, size_t i, const uint8_t *rec, size_t len,
		   char *why, size_t whylen);
int attest_hop_read(const char *guest_dir, size_t i, uint8_t **rec, size_t *len);
int attest_hops_load(const char *guest_dir, struct bundle *b);

/* Those files of guest_dir into e (e->present = 0 when there are none).  0 or -errno. */
int attest_host_enroll_load(const char *guest_dir, struct bundle_host_enroll *e);

/* One bundle for nonce (hex) as JSON text (malloc'd); 0 or -errno. */
int attest_source_bundle(struct attest_source *s, const char *nonce_hex, char **json,
			 size_t *len);

/*
 * From the running launcher of name under run_dir: a bundle for nonce_hex
 * (checked: well formed, that guest, that nonce), or with nonce_hex NULL the
 * enroll-info object.  JSON text (malloc'd) or -errno (the launcher's reason
 * logged).
 */
int attest_launcher_bundle(const char *run_dir, const char *name, const char *nonce_hex,
			   int timeout_ms, char **json, size_t *len);

#define ATTEST_CLIENT_TIMEOUT_MS 30000

#endif
