/* SPDX-License-Identifier: Apache-2.0 */
/* TPM 2.0 CRB device, locality 0, and the ACPI TPM2 table (crb.h). */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/vmm/crb.h"
#include "attest/format/tpm.h"
#include "core/log.h"
#include "core/util.h"

/* INTF_ID: CRB type and selector, version 1, 64-byte transfers, CRB only. */
#define CRB_INTF_ID_VALUE ((1u << 0) | (1u << 4) | (3u << 11) | (1u << 14) | \
			   (1u << 17) | (1u << 19))
#define TPM_HDR 10u
#define TPM_RC_FAILURE 0x101u
#define TPM_RC_COMMAND_SIZE 0x142u

static_assert(CRB_DATA + CRB_DATA_SIZE == CRB_SIZE, "buffer ends the page");

void crb_init(struct crb *crb, crb_transport_fn transport, void *arg)
{
	memset(crb, 0, sizeof(*crb));
	crb->loc_state = CRB_LOC_STATE_VALID | CRB_LOC_STATE_ESTABLISHED;
	crb->ctrl_sts = CRB_CTRL_STS_IDLE;
	crb->transport = transport;
	crb->arg = arg;
}

/* The register page as the guest reads it. */
static void crb_regs(const struct crb *crb, uint8_t regs[CRB_DATA])
{
	memset(regs, 0, CRB_DATA);
	put_le(regs + CRB_LOC_STATE, crb->loc_state, 4);
	put_le(regs + CRB_LOC_STS, crb->loc_sts, 4);
	put_le(regs + CRB_INTF_ID, CRB_INTF_ID_VALUE, 4);
	put_le(regs + CRB_CTRL_STS, crb->ctrl_sts, 4);
	put_le(regs + CRB_CTRL_START, crb->start, 4);
	put_le(regs + CRB_CMD_SIZE, CRB_DATA_SIZE, 4);
	put_le(regs + CRB_CMD_LADDR, (uint32_t)(CRB_BASE + CRB_DATA), 4);
	put_le(regs + CRB_RSP_SIZE, CRB_DATA_SIZE, 4);
	put_le(regs + CRB_RSP_ADDR, CRB_BASE + CRB_DATA, 8);
}

static int access_ok(uint64_t off, uint32_t len)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return 0;
	if (!range_fits(off, len, CRB_SIZE))
		return 0;
	return off >= CRB_DATA || off + len <= CRB_DATA;   /* no straddling */
}

int crb_mmio_read(struct crb *crb, uint64_t off, void *data, uint32_t len)
{
	uint8_t regs[CRB_DATA];

	if (!access_ok(off, len)) {
		if (len <= 8)
			memset(data, 0xFF, len);
		return -EINVAL;
	}
	if (off >= CRB_DATA) {
		memcpy(data, crb->buf + (off - CRB_DATA), len);
		return 0;
	}
	crb_regs(crb, regs);
	memcpy(data, regs + off, len);
	return 0;
}

/* A locally made error response, so the guest driver sees a TPM answer. */
static void crb_error_rsp(struct crb *crb, uint32_t rc)
{
	static const uint8_t hdr[6] = { 0x80, 0x01, 0, 0, 0, TPM_HDR };

	memcpy(crb->buf, hdr, sizeof(hdr));
	crb->buf[6] = (uint8_t)(rc >> 24);
	crb->buf[7] = (uint8_t)(rc >> 16);
	crb->buf[8] = (uint8_t)(rc >> 8);
	crb->buf[9] = (uint8_t)rc;
}

/* CTRL_START: validate the command size, forward, copy back the response. */
static void crb_start(struct crb *crb)
{
	uint32_t size = (uint32_t)crb->buf[2] << 24 | (uint32_t)crb->buf[3] << 16 |
			(uint32_t)crb->buf[4] << 8 | crb->buf[5];
	size_t rsp_len = 0;
	int rc;

	if (!(crb->loc_state & CRB_LOC_STATE_ASSIGNED) ||
	    (crb->ctrl_sts & (CRB_CTRL_STS_IDLE | CRB_CTRL_STS_ERROR)))
		return;                       /* not ready: START is ignored */
	if (size < TPM_HDR || size > CRB_DATA_SIZE) {
		crb_error_rsp(crb, TPM_RC_COMMAND_SIZE);
		return;
	}
	rc = crb->transport ? crb->transport(crb->arg, crb->buf, size, crb->rsp,
					     sizeof(crb->rsp), &rsp_len) : -ENODEV;
	if (rc || rsp_len < TPM_HDR || rsp_len > sizeof(crb->rsp)) {
		/* The TPM is gone or lying: the interface reports a fatal error. */
		log_err("vTPM transport failed (%d): CRB in error state", rc);
		crb->ctrl_sts |= CRB_CTRL_STS_ERROR;
		crb_error_rsp(crb, TPM_RC_FAILURE);
		return;
	}
	memcpy(crb->buf, crb->rsp, rsp_len);
	crb->commands++;
}

static void crb_write_reg(struct crb *crb, uint64_t off, uint32_t v)
{
	switch (off) {
	case CRB_LOC_CTRL:
		if (v & CRB_LOC_CTRL_REQUEST) {
			crb->loc_state |= CRB_LOC_STATE_ASSIGNED;
			crb->loc_sts = CRB_LOC_STS_GRANTED;
		} else if (v & CRB_LOC_CTRL_RELINQUISH) {
			crb->loc_state &= ~CRB_LOC_STATE_ASSIGNED;
			crb->loc_sts = 0;
		}
		break;
	case CRB_CTRL_REQ:
		if (v & CRB_CTRL_REQ_CMD_READY)
			crb->ctrl_sts &= ~CRB_CTRL_STS_IDLE;
		else if (v & CRB_CTRL_REQ_GO_IDLE)
			crb->ctrl_sts |= CRB_CTRL_STS_IDLE;
		break;
	case CRB_CTRL_START:
		if (v & 1)
			crb_start(crb);           /* synchronous: START reads 0 after */
		break;
	default:
		break;                            /* read-only or reserved */
	}
}

int crb_mmio_write(struct crb *crb, uint64_t off, const void *data, uint32_t len)
{
	uint32_t v;

	if (!access_ok(off, len))
		return -EINVAL;
	if (off >= CRB_DATA) {
		memcpy(crb->buf + (off - CRB_DATA), data, len);
		return 0;
	}
	if (len != 4 || (off & 3))
		return 0;                         /* registers are 32-bit: dropped */
	memcpy(&v, data, 4);
	crb_write_reg(crb, off, le32toh(v));
	return 0;
}

int crb_transport_fd(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp,
		     size_t cap, size_t *rsp_len)
{
	uint32_t code;

	return tpm_transact(*(const int *)arg, cmd, len, rsp, cap, rsp_len, &code);
}
