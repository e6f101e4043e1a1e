/* SPDX-License-Identifier: Apache-2.0 */
/* attest/crb: the ACPI TPM2 table, and the CRB driven like Linux's tpm_crb
 * against the real swtpm, plus hostile accesses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/vmm/crb.h"
#include "attest/vtpm/swtpm.h"
#include "core/log.h"
#include "core/util.h"

static uint32_t rd32(struct crb *c, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(crb_mmio_read(c, off, &v, 4), 0);
	return v;
}

static void wr32(struct crb *c, uint64_t off, uint32_t v)
{
	assert_int_equal(crb_mmio_write(c, off, &v, 4), 0);
}

/* Writes cmd into the buffer with 4-byte accesses and starts it. */
static void crb_run(struct crb *c, const uint8_t *cmd, size_t len)
{
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;

		memcpy(&v, cmd + i, len - i < 4 ? len - i : 4);
		wr32(c, CRB_DATA + i, v);
	}
	wr32(c, CRB_CTRL_START, 1);
	assert_int_equal(rd32(c, CRB_CTRL_START), 0);
}

static void test_driver_flow_real_tpm(void **state)
{
	static const uint8_t startup[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0 };
	static const uint8_t getrandom[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x7b, 0, 16 };
	char root[] = "/tmp/bulwark-test-crb.XXXXXX", d[4][128], cmd[160];
	struct swtpm_config cfg;
	struct swtpm tpm;
	struct crb *c = malloc(sizeof(*c));
	uint8_t rsp[32];
	int fd;

	(void)state;
	assert_non_null(c);
	assert_non_null(mkdtemp(root));
	for (int i = 0; i < 4; i++)
		snprintf(d[i], sizeof(d[i]), "%s/%s", root, (const char *[]){ "s", "k", "ca", "c" }[i]);
	assert_int_equal(mkdir(d[1], 0700), 0);
	cfg = (struct swtpm_config){ .name = "crb", .state_dir = d[0], .key_dir = d[1],
				     .ca_dir = d[2], .cert_dir = d[3] };
	assert_int_equal(swtpm_start(&cfg, &tpm), 0);
	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	crb_init(c, crb_transport_fd, &fd);

	assert_int_equal(rd32(c, CRB_CMD_SIZE), CRB_DATA_SIZE);
	assert_int_equal(rd32(c, CRB_CMD_LADDR), 0xFED40080u);
	/* START before locality and cmdReady: ignored, nothing forwarded. */
	crb_run(c, startup, sizeof(startup));
	assert_int_equal(c->commands, 0);
	wr32(c, CRB_LOC_CTRL, CRB_LOC_CTRL_REQUEST);
	assert_true(rd32(c, CRB_LOC_STATE) & CRB_LOC_STATE_ASSIGNED);
	assert_true(rd32(c, CRB_LOC_STS) & CRB_LOC_STS_GRANTED);
	wr32(c, CRB_CTRL_REQ, CRB_CTRL_REQ_CMD_READY);
	assert_false(rd32(c, CRB_CTRL_STS) & CRB_CTRL_STS_IDLE);
	crb_run(c, startup, sizeof(startup));
	assert_int_equal(c->commands, 1);
	assert_int_equal(crb_mmio_read(c, CRB_DATA, rsp, 8), 0);
	assert_int_equal(crb_mmio_read(c, CRB_DATA + 8, rsp + 8, 2), 0);
	assert_int_equal(rsp[9] | rsp[8] << 8 | rsp[7] << 16, 0);    /* TPM_RC_SUCCESS */
	crb_run(c, getrandom, sizeof(getrandom));
	assert_int_equal(crb_mmio_read(c, CRB_DATA, rsp, 8), 0);
	assert_int_equal(rsp[5], 10 + 2 + 16);                      /* 16 random bytes */

	/* A command claiming more than the buffer: answered locally. */
	{
		uint8_t huge[12] = { 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 1, 0x7b, 0, 8 };

		crb_run(c, huge, sizeof(huge));
		assert_int_equal(c->commands, 2);
		assert_int_equal(crb_mmio_read(c, CRB_DATA + 8, rsp, 2), 0);
		assert_int_equal(rsp[0] << 8 | rsp[1], 0x142);
	}
	/* The TPM goes away: fatal error bit, no hang, no crash. */
	close(fd);
	crb_run(c, getrandom, sizeof(getrandom));
	assert_true(rd32(c, CRB_CTRL_STS) & CRB_CTRL_STS_ERROR);
	swtpm_stop(&tpm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(c);
}

static int never(void *arg, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		 size_t *rsp_len)
{
	(void)arg; (void)cmd; (void)len; (void)rsp; (void)cap; (void)rsp_len;
	fail_msg("transport called");
	return -EIO;
}

static void test_hostile_access(void **state)
{
	struct crb *c = malloc(sizeof(*c));
	uint64_t q = 0;
	uint32_t v = 0x12345678;
	uint8_t b[8];

	(void)state;
	assert_non_null(c);
	crb_init(c, never, NULL);
	assert_int_equal(crb_mmio_write(c, CRB_SIZE - 2, &v, 4), -EINVAL);
	assert_int_equal(crb_mmio_write(c, UINT64_MAX - 1, &v, 4), -EINVAL);
	assert_int_equal(crb_mmio_write(c, CRB_DATA - 2, &v, 4), -EINVAL);  /* straddles */
	assert_int_equal(crb_mmio_write(c, CRB_DATA, &v, 3), -EINVAL);
	assert_int_equal(crb_mmio_read(c, CRB_SIZE, b, 4), -EINVAL);
	assert_int_equal(b[0], 0xFF);
	assert_int_equal(crb_mmio_read(c, CRB_SIZE - 8, &q, 8), 0);
	/* Read-only registers stay put; the guest cannot move the buffer. */
	wr32(c, CRB_CMD_SIZE, 0xFFFFFFFF);
	wr32(c, CRB_CMD_LADDR, 0);
	assert_int_equal(rd32(c, CRB_CMD_SIZE), CRB_DATA_SIZE);
	assert_int_equal(rd32(c, CRB_CMD_LADDR), 0xFED40080u);
	assert_int_equal(crb_mmio_read(c, CRB_RSP_ADDR, &q, 8), 0);
	assert_true(q == 0xFED40080ull);
	/* A tiny command never reaches the transport. */
	wr32(c, CRB_LOC_CTRL, CRB_LOC_CTRL_REQUEST);
	wr32(c, CRB_CTRL_REQ, CRB_CTRL_REQ_CMD_READY);
	wr32(c, CRB_DATA, 0x00000180);            /* size field 0x00000000.. */
	wr32(c, CRB_DATA + 4, 0);
	wr32(c, CRB_CTRL_START, 1);
	assert_int_equal(c->commands, 0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_flow_real_tpm),
		cmocka_unit_test(test_hostile_access),
	};
	log_set_level(LOG_ERR);
	return cmocka_run_group_tests_name("crb", tests, NULL, NULL);
}
