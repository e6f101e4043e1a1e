/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM 2.0 CRB interface (TCG PC Client PTP, locality 0 only) as a
 * self-contained register-level state machine for the VMM.  The ACPI TPM2
 * table that points the guest at it is built with the other tables
 * (core/acpi.c).
 *
 * Guest-facing: every MMIO access is hostile.  Offsets and lengths are
 * checked before anything is touched, the command size is taken from the
 * buffer and bounded by it, and a response larger than the buffer is never
 * copied.  Commands run synchronously in crb_mmio_write(CTRL_START).
 */
#ifndef BULWARK_ATTEST_CRB_H
#define BULWARK_ATTEST_CRB_H

#include <stddef.h>
#include <stdint.h>

#include "core/layout.h"

#define CRB_BASE        GUEST_TPM_CRB_ADDR
#define CRB_SIZE        ((uint32_t)GUEST_TPM_CRB_SIZE)
#define CRB_LOC_STATE   0x00u
#define CRB_LOC_CTRL    0x08u
#define CRB_LOC_STS     0x0Cu
#define CRB_INTF_ID     0x30u
#define CRB_INTF_ID2    0x34u
#define CRB_CTRL_REQ    GUEST_TPM_CRB_CTRL_OFF
#define CRB_CTRL_STS    0x44u
#define CRB_CTRL_CANCEL 0x48u
#define CRB_CTRL_START  0x4Cu
#define CRB_CMD_SIZE    0x58u
#define CRB_CMD_LADDR   0x5Cu
#define CRB_CMD_HADDR   0x60u
#define CRB_RSP_SIZE    0x64u
#define CRB_RSP_ADDR    0x68u
#define CRB_DATA        GUEST_TPM_CRB_DATA_OFF
#define CRB_DATA_SIZE   GUEST_TPM_CRB_DATA_SIZE

/* LOC_STATE, LOC_CTRL, LOC_STS, CTRL_REQ, CTRL_STS bits. */
#define CRB_LOC_STATE_ESTABLISHED (1u << 0)
#define CRB_LOC_STATE_ASSIGNED    (1u << 1)
#define CRB_LOC_STATE_VALID       (1u << 7)
#define CRB_LOC_CTRL_REQUEST      (1u << 0)
#define CRB_LOC_CTRL_RELINQUISH   (1u << 1)
#define CRB_LOC_STS_GRANTED       (1u << 0)
#define CRB_CTRL_REQ_CMD_READY    (1u << 0)
#define CRB_CTRL_REQ_GO_IDLE      (1u << 1)
#define CRB_CTRL_STS_ERROR        (1u << 0)
#define CRB_CTRL_STS_IDLE         (1u << 1)

/*
 * Sends one command (len bytes, 10..CRB_DATA_SIZE) to the TPM and stores the
 * response (at most cap bytes) in rsp, its length in *rsp_len.  0 or -errno.
 */
typedef int (*crb_transport_fn)(void *arg, const uint8_t *cmd, size_t len,
				uint8_t *rsp, size_t cap, size_t *rsp_len);

struct crb {
	uint32_t loc_state;
	uint32_t loc_sts;
	uint32_t ctrl_sts;
	uint32_t start;
	uint32_t commands;            /* forwarded so far */
	crb_transport_fn transport;
	void *arg;
	uint8_t buf[CRB_DATA_SIZE];
	uint8_t rsp[CRB_DATA_SIZE];
};

void crb_init(struct crb *crb, crb_transport_fn transport, void *arg);

/*
 * One guest access at offset off (from CRB_BASE) of len 1, 2, 4 or 8 bytes.
 * Returns 0, or -EINVAL for an access outside the device or straddling the
 * registers and the buffer (reads then return all ones, writes are dropped).
 */
int crb_mmio_read(struct crb *crb, uint64_t off, void *data, uint32_t len);
int crb_mmio_write(struct crb *crb, uint64_t off, const void *data, uint32_t len);

/* Transport over a stream fd to swtpm (arg points to the int fd). */
int crb_transport_fd(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp,
		     size_t cap, size_t *rsp_len);

#endif
