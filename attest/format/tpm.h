/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal TPM 2.0 command client for the launcher: the handful of commands
 * a measured boot needs, sent over a stream fd (swtpm's data channel).
 * Commands are marshalled with libtss2-mu; every response is read with a
 * bound and a timeout, its header, size and code checked, and its parameters
 * unmarshalled against the response's own length.
 *
 * Why not ESYS: it brings sessions, a context cache and a TCTI loader that
 * the launcher does not need; this file is what an auditor has to read.
 */
#ifndef BULWARK_ATTEST_TPM_H
#define BULWARK_ATTEST_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "attest/format/eventlog.h"

/* Largest command or response exchanged (TPM2 PC Client: 4096). */
#define TPM_MAX_MSG 4096u
/* How long the launcher waits for one response before giving up. */
#define TPM_TIMEOUT_MS 10000

/*
 * Sends cmd and reads one response into rsp (at most cap bytes).  Checks the
 * tag, that the size field is 10..cap and equals what arrives.  *rc gets the
 * response code.  Returns 0, -EPROTO (malformed), -ETIMEDOUT, -EPIPE or -errno.
 */
int tpm_transact(int fd, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		 size_t *rsp_len, uint32_t *rc);

/* TPM2_Startup(TPM_SU_CLEAR); anything but TPM_RC_SUCCESS is -EIO. */
int tpm_startup_clear(int fd);

/* TPM2_Shutdown(TPM_SU_CLEAR), as a guest kernel sends at power-off. */
int tpm_shutdown_clear(int fd);

/*
 * TPM2_GetCapability(TPM_CAP_PCRS): the banks with at least one PCR
 * allocated, in the TPM's order.  An allocated bank that Bulwark cannot
 * extend (an algorithm eventlog.h does not support) is -EOPNOTSUPP: a bank
 * left at its reset value could be forged by the guest, so fail closed.
 */
int tpm_pcr_banks(int fd, struct evlog_banks *banks);

/* TPM2_PCR_Extend(pcr) with one digest per bank (password session, empty). */
int tpm_pcr_extend(int fd, uint32_t pcr, const struct evlog_digest *digests, size_t n);

/* TPM2_PCR_Read of one PCR in one bank; the returned selection is checked. */
int tpm_pcr_read(int fd, uint16_t alg, uint32_t pcr, struct evlog_digest *out);

/* TPM2_GetCapability(TPM_CAP_HANDLES) from first: up to max handles. */
int tpm_handles(int fd, uint32_t first, uint32_t *handles, size_t max, size_t *n);

#endif
