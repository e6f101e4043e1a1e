/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRB is guest-facing: drive it with arbitrary MMIO reads and writes.
 * Each op is 12 bytes: kind (even: read, odd: write), offset u16 (may lie
 * outside the page), length u8, value u64.  The transport answers with a
 * response whose size the input chooses, up to past the buffer.
 */
#include <string.h>

#include "core/vmm/crb.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

static uint32_t next_rsp;

static int transport(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		     size_t *rsp_len)
{
	(void)arg;
	if (len < 10 || len > CRB_DATA_SIZE)
		__builtin_trap();                 /* the CRB must have bounded it */
	*rsp_len = next_rsp % (cap + 64);
	memset(rsp, 0x5A, *rsp_len < cap ? *rsp_len : cap);
	(void)cmd;
	return next_rsp & 0x80000000u ? -5 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct crb crb;

	log_set_level(LOG_ERR);
	crb_init(&crb, transport, NULL);
	for (size_t i = 0; i + 12 <= size; i += 12) {
		uint64_t off = (uint64_t)data[i + 1] | (uint64_t)data[i + 2] << 8;
		uint32_t len = data[i + 3] & 0x0F;
		uint8_t val[16] = { 0 };

		memcpy(val, data + i + 4, 8);
		memcpy(&next_rsp, data + i + 4, 4);
		if (data[i] & 1)
			crb_mmio_write(&crb, off, val, len);
		else
			crb_mmio_read(&crb, off, val, len);
	}
	return 0;
}
