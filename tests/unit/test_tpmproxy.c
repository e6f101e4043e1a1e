/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest/tpmproxy against the real swtpm (no mock): guest commands through
 * the VMM's end of the socketpair, host transactions between them (and
 * beside a half-received guest command), host objects swept and invisible to
 * the guest, hostile framing (short, oversized, lying, stalled, closed) cut
 * off the VMM side while host commands keep working, refused commands, a
 * dead swtpm reported as -EIO.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <tss2/tss2_tpm2_types.h>

#include "attest/vtpm/swtpm.h"
#include "attest/format/tpm.h"
#include "attest/vtpm/tpmproxy.h"
#include "core/log.h"
#include "core/util.h"

struct fixture {
	char state[128], keys[128], ca[128], certs[128];
	struct swtpm_config cfg;
	struct swtpm tpm;
	struct tpmproxy p;
	int vmm;            /* the VMM's end */
};

static char root[] = "/tmp/bulwark-test-tpmproxy.XXXXXX";

/* ---- commands, marshalled by hand (the bytes a guest driver sends) ------ */

static void be16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void be32(uint8_t *b, uint32_t v) { be16(b, (uint16_t)(v >> 16)); be16(b + 2, (uint16_t)v); }
static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static size_t cmd_getrandom(uint8_t *c, uint16_t n)
{
	be16(c, TPM2_ST_NO_SESSIONS); be32(c + 2, 12); be32(c + 6, TPM2_CC_GetRandom);
	be16(c + 10, n);
	return 12;
}

/* PCR_Read of one sha256 PCR. */
static size_t cmd_pcr_read(uint8_t *c, unsigned pcr)
{
	be16(c, TPM2_ST_NO_SESSIONS); be32(c + 2, 20); be32(c + 6, TPM2_CC_PCR_Read);
	be32(c + 10, 1); be16(c + 14, TPM2_ALG_SHA256); c[16] = 3;
	c[17] = c[18] = c[19] = 0;
	c[17 + pcr / 8] = (uint8_t)(1u << (pcr % 8));
	return 20;
}

/* Empty password session: handle TPM_RS_PW, no nonce, no attributes, no hmac. */
static size_t put_pw(uint8_t *c)
{
	be32(c, 9); be32(c + 4, TPM2_RH_PW); be16(c + 8, 0); c[10] = 0; be16(c + 11, 0);
	return 13;
}

/* PCR_Extend(pcr) with one sha256 digest of byte x. */
static size_t cmd_pcr_extend(uint8_t *c, unsigned pcr, uint8_t x)
{
	size_t o = 10;

	be16(c, TPM2_ST_SESSIONS); be32(c + 6, TPM2_CC_PCR_Extend);
	be32(c + o, pcr); o += 4;
	o += put_pw(c + o);
	be32(c + o, 1); be16(c + o + 4, TPM2_ALG_SHA256); o += 6;
	memset(c + o, x, 32); o += 32;
	be32(c + 2, (uint32_t)o);
	return o;
}

/* GetCapability(HANDLES, first, 16). */
static size_t cmd_handles(uint8_t *c, uint32_t first)
{
	be16(c, TPM2_ST_NO_SESSIONS); be32(c + 2, 22); be32(c + 6, TPM2_CC_GetCapability);
	be32(c + 10, TPM2_CAP_HANDLES); be32(c + 14, first); be32(c + 18, 16);
	return 22;
}

/* CreatePrimary(hierarchy): a keyed-hash (HMAC-SHA256) key, fast to make. */
static size_t cmd_create_primary(uint8_t *c, uint32_t hierarchy)
{
	static const uint8_t pub[] = {
		0x00, 0x08,                    /* type: KEYEDHASH */
		0x00, 0x0B,                    /* nameAlg: SHA256 */
		0x00, 0x04, 0x00, 0x72,        /* fixedTPM|fixedParent|sensitiveDataOrigin|
						  userWithAuth|sign */
		0x00, 0x00,                    /* authPolicy: empty */
		0x00, 0x05, 0x00, 0x0B,        /* scheme HMAC, SHA256 */
		0x00, 0x00,                    /* unique: empty */
	};
	size_t o = 10;

	be16(c, TPM2_ST_SESSIONS); be32(c + 6, TPM2_CC_CreatePrimary);
	be32(c + o, hierarchy); o += 4;
	o += put_pw(c + o);
	be16(c + o, 4); be16(c + o + 2, 0); be16(c + o + 4, 0); o += 6;  /* inSensitive */
	be16(c + o, sizeof(pub)); memcpy(c + o + 2, pub, sizeof(pub)); o += 2 + sizeof(pub);
	be16(c + o, 0); o += 2;                                         /* outsideInfo */
	be32(c + o, 0); o += 4;                                         /* creationPCR */
	be32(c + 2, (uint32_t)o);
	return o;
}

/* StartAuthSession: unbound, unsalted HMAC session, SHA256. */
static size_t cmd_start_session(uint8_t *c)
{
	size_t o = 10;

	be16(c, TPM2_ST_NO_SESSIONS); be32(c + 6, TPM2_CC_StartAuthSession);
	be32(c + o, TPM2_RH_NULL); be32(c + o + 4, TPM2_RH_NULL); o += 8;
	be16(c + o, 16); memset(c + o + 2, 0xA5, 16); o += 18;       /* nonceCaller */
	be16(c + o, 0); o += 2;                                       /* salt */
	c[o++] = TPM2_SE_HMAC;
	be16(c + o, TPM2_ALG_NULL); o += 2;
	be16(c + o, TPM2_ALG_SHA256); o += 2;
	be32(c + 2, (uint32_t)o);
	return o;
}

/* HierarchyChangeAuth(auth, newAuth empty). */
static size_t cmd_change_auth(uint8_t *c, uint32_t hierarchy)
{
	size_t o = 10;

	be16(c, TPM2_ST_SESSIONS); be32(c + 6, TPM2_CC_HierarchyChangeAuth);
	be32(c + o, hierarchy); o += 4;
	o += put_pw(c + o);
	be16(c + o, 0); o += 2;
	be32(c + 2, (uint32_t)o);
	return o;
}

/* ---- driving the proxy as the launcher's poll loop does --------------- */

/* One poll of the proxy's fd (up to ms) and one tpmproxy_service. */
static int pump(struct fixture *f, int ms)
{
	struct pollfd pfd = { .fd = tpmproxy_fd(&f->p), .events = tpmproxy_events(&f->p) };
	int t = tpmproxy_timeout_ms(&f->p);

	if (t >= 0 && t < ms)
		ms = t;
	if (poll(&pfd, 1, ms) < 0)
		return -errno;
	return tpmproxy_service(&f->p, pfd.revents);
}

static void vmm_write(struct fixture *f, const uint8_t *b, size_t len)
{
	assert_int_equal(write(f->vmm, b, len), (ssize_t)len);
}

/* Reads exactly len bytes on the VMM's end, pumping the proxy meanwhile. */
static void vmm_read(struct fixture *f, uint8_t *b, size_t len)
{
	for (int i = 0; len && i < 200; i++) {
		ssize_t n = recv(f->vmm, b, len, MSG_DONTWAIT);

		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		assert_int_equal(pump(f, 50), 0);
	}
	assert_int_equal(len, 0);
}

/* A guest command through the proxy; returns the response code. */
static uint32_t guest_cmd(struct fixture *f, const uint8_t *cmd, size_t len,
			  uint8_t *rsp, size_t *rlen)
{
	vmm_write(f, cmd, len);
	vmm_read(f, rsp, 10);
	*rlen = rd32(rsp + 2);
	assert_in_range(*rlen, 10, TPMPROXY_MAX_MSG);
	vmm_read(f, rsp + 10, *rlen - 10);
	return rd32(rsp + 6);
}

static uint32_t host_cmd(struct fixture *f, const uint8_t *cmd, size_t len,
			 uint8_t *rsp, size_t *rlen)
{
	assert_int_equal(tpmproxy_host_exec(&f->p, cmd, len, rsp, TPMPROXY_MAX_MSG, rlen), 0);
	return rd32(rsp + 6);
}

/* A host transaction that reads sha256 PCR pcr into out[32]. */
static void host_pcr_read(struct fixture *f, unsigned pcr, uint8_t *out)
{
	uint8_t c[32], r[TPMPROXY_MAX_MSG];
	size_t rlen;

	assert_int_equal(tpmproxy_host_begin(&f->p), 0);
	assert_int_equal(host_cmd(f, c, cmd_pcr_read(c, pcr), r, &rlen), 0);
	assert_int_equal(rlen, 10 + 4 + 10 + 4 + 2 + 32);
	memcpy(out, r + rlen - 32, 32);
	assert_int_equal(tpmproxy_host_end(&f->p), 0);
}

/* Transient objects and loaded sessions the guest can see. */
static uint32_t guest_count_handles(struct fixture *f, uint32_t first)
{
	uint8_t c[32], r[TPMPROXY_MAX_MSG];
	size_t rlen;

	assert_int_equal(guest_cmd(f, c, cmd_handles(c, first), r, &rlen), 0);
	return rd32(r + 15);    /* more u8, capability u32, count u32 */
}

/* ---- fixture ------------------------------------------------------------ */

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);     /* as the launcher does (tpmproxy.h) */
	return mkdtemp(root) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

/* In swtpm's child: it dies with this test, even one that crashes. */
static int die_with_test(void *arg)
{
	(void)arg;
	return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A started swtpm (provisioned once, on the first test), a proxy, a VMM end. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sp[2], fd;

	if (!f)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", root);
	snprintf(f->keys, sizeof(f->keys), "%s/keys", root);
	snprintf(f->ca, sizeof(f->ca), "%s/ca", root);
	snprintf(f->certs, sizeof(f->certs), "%s/certs", root);
	if (mkdir(f->keys, 0700) && errno != EEXIST)
		return -1;
	f->cfg = (struct swtpm_config){ .name = "proxy", .state_dir = f->state,
		.key_dir = f->keys, .ca_dir = f->ca, .cert_dir = f->certs,
		.child_setup = die_with_test };
	log_set_level(LOG_ERR);
	if (swtpm_start(&f->cfg, &f->tpm) || swtpm_open_data(&f->tpm, &fd) ||
	    tpm_startup_clear(fd) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) ||
	    tpmproxy_init(&f->p, sp[0], fd))
		return -1;
	f->vmm = sp[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tpmproxy_free(&f->p);
	if (f->vmm >= 0)
		close(f->vmm);
	swtpm_stop(&f->tpm);
	free(f);
	return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_guest_commands(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], r1[TPMPROXY_MAX_MSG], r2[TPMPROXY_MAX_MSG];
	size_t l1, l2;

	assert_int_equal(guest_cmd(f, c, cmd_getrandom(c, 16), r1, &l1), 0);
	assert_int_equal(l1, 10 + 2 + 16);
	assert_int_equal(guest_cmd(f, c, cmd_getrandom(c, 16), r2, &l2), 0);
	assert_memory_not_equal(r1 + 12, r2 + 12, 16);
	assert_int_equal(guest_cmd(f, c, cmd_pcr_read(c, 16), r1, &l1), 0);
	assert_int_equal(l1, 10 + 4 + 10 + 4 + 2 + 32);
	assert_int_equal(f->p.guest_cmds, 3);
	assert_int_equal(f->p.host_cmds, 0);
}

/*
 * Guest extends, host reads the same PCR between guest commands, also while
 * half of a guest command has arrived: that half is not forwarded, the host's
 * exchange is whole, and the guest's command completes afterwards.
 */
static void test_host_between_guest_commands(void **state)
{
	struct fixture *f = *state;
	uint8_t c[128], r[TPMPROXY_MAX_MSG], host[32], rd[32];
	size_t len, rlen;

	assert_int_equal(guest_cmd(f, c, cmd_pcr_extend(c, 16, 0x42), r, &rlen), 0);
	host_pcr_read(f, 16, host);
	assert_int_equal(guest_cmd(f, c, cmd_pcr_read(c, 16), r, &rlen), 0);
	assert_memory_equal(r + rlen - 32, host, 32);

	len = cmd_pcr_extend(c, 16, 0x43);
	vmm_write(f, c, 7);                       /* half a header */
	assert_int_equal(pump(f, 50), 0);
	vmm_write(f, c + 7, 20);                  /* header done, body begun */
	assert_int_equal(pump(f, 50), 0);
	assert_int_equal(f->p.have, 27);
	host_pcr_read(f, 16, rd);
	assert_memory_equal(rd, host, 32);        /* the extend has not run */
	vmm_write(f, c + 27, len - 27);
	vmm_read(f, r, 10);
	assert_int_equal(rd32(r + 6), 0);
	host_pcr_read(f, 16, rd);
	assert_memory_not_equal(rd, host, 32);    /* now it has */
	assert_int_equal(f->p.guest_cmds, 3);
}

/*
 * What the host loads is gone before the guest runs again, flushed or not;
 * the guest's own objects survive a host transaction.
 */
static void test_host_objects_invisible(void **state)
{
	struct fixture *f = *state;
	uint8_t c[128], r[TPMPROXY_MAX_MSG];
	uint32_t obj, sess, h;
	size_t rlen;

	assert_int_equal(guest_cmd(f, c, cmd_create_primary(c, TPM2_RH_OWNER), r, &rlen), 0);
	assert_int_equal(guest_count_handles(f, (uint32_t)TPM2_HT_TRANSIENT << 24), 1);

	assert_int_equal(tpmproxy_host_begin(&f->p), 0);
	assert_int_equal(host_cmd(f, c, cmd_create_primary(c, TPM2_RH_ENDORSEMENT), r,
				  &rlen), 0);
	obj = rd32(r + 10);
	assert_int_equal(obj >> 24, TPM2_HT_TRANSIENT);
	assert_int_equal(host_cmd(f, c, cmd_start_session(c), r, &rlen), 0);
	sess = rd32(r + 10);
	assert_int_equal(sess >> 24, TPM2_HT_HMAC_SESSION);
	/* The host flushes its object itself and forgets the session. */
	assert_int_equal(tpmproxy_host_flush(&f->p, &obj, 1), 0);
	h = 0x80FFFFFFu;                          /* no such handle: an error */
	assert_int_not_equal(tpmproxy_host_flush(&f->p, &h, 1), 0);
	assert_int_equal(host_cmd(f, c, cmd_create_primary(c, TPM2_RH_ENDORSEMENT), r,
				  &rlen), 0);
	assert_int_equal(tpmproxy_host_end(&f->p), 0);

	assert_int_equal(guest_count_handles(f, (uint32_t)TPM2_HT_TRANSIENT << 24), 1);   /* its own */
	assert_int_equal(guest_count_handles(f, (uint32_t)TPM2_HT_LOADED_SESSION << 24), 0);
	assert_int_equal(guest_count_handles(f, (uint32_t)TPM2_HT_SAVED_SESSION << 24), 0);
}

static void test_host_api_misuse(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], r[TPMPROXY_MAX_MSG];
	size_t rlen;

	assert_int_equal(tpmproxy_host_exec(&f->p, c, cmd_getrandom(c, 8), r, sizeof(r),
					    &rlen), -EPERM);
	assert_int_equal(tpmproxy_host_end(&f->p), -EPERM);
	assert_int_equal(tpmproxy_host_begin(&f->p), 0);
	assert_int_equal(tpmproxy_host_begin(&f->p), -EBUSY);
	cmd_getrandom(c, 8);
	be32(c + 2, 13);                                    /* size lies */
	assert_int_equal(tpmproxy_host_exec(&f->p, c, 12, r, sizeof(r), &rlen), -EINVAL);
	be32(c + 2, 12);
	assert_int_equal(tpmproxy_host_exec(&f->p, c, 12, r, 11, &rlen), -ENOSPC);
	assert_int_equal(tpmproxy_host_exec(&f->p, c, 12, r, sizeof(r), &rlen), 0);
	assert_int_equal(rlen, 20);
	assert_int_equal(tpmproxy_host_end(&f->p), 0);
}

/* After the VMM side is cut off: host commands still work, swtpm is in step. */
static void assert_cut_off(struct fixture *f, int rc, int want)
{
	uint8_t pcr[32];

	assert_int_equal(rc, want);
	assert_int_equal(tpmproxy_fd(&f->p), -1);
	assert_int_equal(tpmproxy_events(&f->p), 0);
	assert_int_equal(tpmproxy_service(&f->p, POLLIN), -ENOTCONN);
	host_pcr_read(f, 16, pcr);
	assert_int_equal(f->p.guest_cmds, 0);
}

static void test_frame_too_short(void **state)
{
	struct fixture *f = *state;
	uint8_t c[16];

	cmd_getrandom(c, 8);
	be32(c + 2, 9);
	vmm_write(f, c, 12);
	assert_cut_off(f, pump(f, 100), -EPROTO);
}

static void test_frame_too_long(void **state)
{
	struct fixture *f = *state;
	uint8_t c[16];

	cmd_getrandom(c, 8);
	be32(c + 2, TPMPROXY_MAX_MSG + 1);
	vmm_write(f, c, 12);
	assert_cut_off(f, pump(f, 100), -EPROTO);
}

/* The size says 100, 20 bytes come, then nothing: cut off at the deadline. */
static void test_frame_stalled(void **state)
{
	struct fixture *f = *state;
	uint8_t c[32] = { 0 };
	int rc = 0;

	f->p.frame_timeout_ms = 200;
	cmd_getrandom(c, 8);
	be32(c + 2, 100);
	vmm_write(f, c, 20);
	assert_int_equal(pump(f, 50), 0);
	assert_in_range(tpmproxy_timeout_ms(&f->p), 1, 200);
	for (int i = 0; i < 20 && !rc; i++)
		rc = pump(f, 1000);
	assert_cut_off(f, rc, -ETIMEDOUT);
}

static void test_vmm_closes(void **state)
{
	struct fixture *f = *state;
	uint8_t c[16];

	vmm_write(f, c, cmd_getrandom(c, 8) - 3);   /* and closes mid-frame */
	close(f->vmm);
	f->vmm = -1;
	assert_cut_off(f, pump(f, 100), -ECONNRESET);
}

/* Well framed but not for the TPM: answered here, the VMM stays connected. */
static void test_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], r[TPMPROXY_MAX_MSG];
	size_t len, rlen;

	len = cmd_getrandom(c, 8);
	be16(c, 0x00C1);                                     /* TPM 1.2 tag */
	assert_int_equal(guest_cmd(f, c, len, r, &rlen), TPM2_RC_BAD_TAG);
	assert_int_equal(rlen, 10);
	assert_int_equal(guest_cmd(f, c, cmd_change_auth(c, TPM2_RH_ENDORSEMENT), r, &rlen),
			 TPM2_RC_DISABLED);
	assert_int_equal(guest_cmd(f, c, cmd_change_auth(c, TPM2_RH_PLATFORM), r, &rlen),
			 TPM2_RC_DISABLED);
	/* The owner's auth is the guest's business: forwarded, the TPM agrees. */
	assert_int_equal(guest_cmd(f, c, cmd_change_auth(c, TPM2_RH_OWNER), r, &rlen), 0);
	assert_int_equal(f->p.guest_refused, 3);
	assert_int_equal(f->p.guest_cmds, 1);
	assert_int_equal(guest_cmd(f, c, cmd_getrandom(c, 8), r, &rlen), 0);
}

/* Two commands in one write: answered one after the other, in order. */
static void test_pipelined(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], r[TPMPROXY_MAX_MSG];
	size_t a = cmd_getrandom(c, 4), b = cmd_getrandom(c + a, 8);

	vmm_write(f, c, a + b);
	vmm_read(f, r, 10 + 2 + 4);
	assert_int_equal(rd32(r + 2), 16);
	vmm_read(f, r, 10 + 2 + 8);
	assert_int_equal(rd32(r + 2), 20);
	assert_int_equal(f->p.guest_cmds, 2);
}

/* swtpm dies: the next guest command reports -EIO, host commands too. */
static void test_swtpm_dies(void **state)
{
	struct fixture *f = *state;
	uint8_t c[16];

	assert_int_equal(kill(f->tpm.pid, SIGKILL), 0);
	usleep(100 * 1000);
	vmm_write(f, c, cmd_getrandom(c, 8));
	assert_int_equal(pump(f, 1000), -EIO);
	assert_int_equal(tpmproxy_fd(&f->p), -1);
	assert_int_equal(tpmproxy_service(&f->p, POLLIN), -EIO);
	assert_int_equal(tpmproxy_host_begin(&f->p), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_guest_commands),
		T(test_host_between_guest_commands),
		T(test_host_objects_invisible),
		T(test_host_api_misuse),
		T(test_frame_too_short),
		T(test_frame_too_long),
		T(test_frame_stalled),
		T(test_vmm_closes),
		T(test_refused),
		T(test_pipelined),
		T(test_swtpm_dies),
#undef T
	};
	return cmocka_run_group_tests_name("tpmproxy", tests, group_setup, group_teardown);
}
