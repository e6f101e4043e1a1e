/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swtpm_state_get/set/restore (attest/vtpm/swtpm.c) with two real, jailed
 * swtpm processes (no mock): in the first, tpm2-tools create a signing key
 * (persisted, and a saved context of it), an NV index, and extend PCR 11;
 * the three blobs move to a second, freshly provisioned swtpm; there the
 * PCRs and the NV index read the same, the persisted key signs (checked
 * with the first TPM's public key by OpenSSL) and the saved context loads
 * (a volatile-state object).  A corrupt permanent blob and a restore
 * without one are refused.  Needs root, swtpm and tpm2-tools.
 */
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

#include "attest/vtpm/swtpm.h"
#include "core/log.h"
#include "core/util.h"

struct side {
	char state[128], sock[128], jail[128];
	struct swtpm_config cfg;
	struct swtpm tpm;
};

static char root[64], keys[128], ca[128], certs[128];
static struct side a, b;

static void side_init(struct side *s, const char *name)
{
	snprintf(s->state, sizeof(s->state), "%s/%s.state", root, name);
	snprintf(s->sock, sizeof(s->sock), "%s/%s.sock", root, name);
	snprintf(s->jail, sizeof(s->jail), "%s/%s.jail", root, name);
	assert_int_equal(mkdir(s->jail, 0755), 0);
	s->cfg = (struct swtpm_config){ .name = name, .state_dir = s->state,
		.key_dir = keys, .ca_dir = ca, .cert_dir = certs, .jail_root = s->jail,
		.sock_path = s->sock };
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	snprintf(root, sizeof(root), "/tmp/bulwark-swtpm-state.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(keys, sizeof(keys), "%s/keys", root);
	snprintf(ca, sizeof(ca), "%s/ca", root);
	snprintf(certs, sizeof(certs), "%s/certs", root);
	assert_int_equal(mkdir(keys, 0700), 0);
	side_init(&a, "snapA");
	side_init(&b, "snapB");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	swtpm_stop(&a.tpm);
	swtpm_stop(&b.tpm);
	if (getenv("KEEP"))
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* A shell command against side s's TPM (tpm2-tools' swtpm TCTI), in root. */
static int tpm(const struct side *s, const char *fmt, ...)
{
	char cmd[2048], c[900];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c, sizeof(c), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(c));
	snprintf(cmd, sizeof(cmd), "cd '%s' && TPM2TOOLS_TCTI=swtpm:path=%s sh -ec '%s' "
		 ">>'%s/log' 2>&1", root, s->sock, c, root);
	return system(cmd);
}

/* The output of a TPM command into root/NAME. */
static char *out_of(const struct side *s, const char *name, const char *what)
{
	char path[256], *buf = calloc(1, 8192);
	FILE *f;

	assert_int_equal(tpm(s, "%s > %s", what, name), 0);
	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(buf, 1, 8191, f) > 0);
	fclose(f);
	return buf;
}

#define PCRS "tpm2_pcrread sha256:0,11,16+sha384:11"
#define NVREAD "tpm2_nvread 0x1500016 -C o -s 32 | od -An -tx1"

/* The first TPM: a key (persisted at 0x81000010 and as a saved context),
 * an NV index, PCR 11 and 16 extended. */
static void populate(struct side *s)
{
	assert_int_equal(tpm(s, "tpm2_startup -c"), 0);
	assert_int_equal(tpm(s, "tpm2_createprimary -Q -C o -g sha256 -G ecc -c prim.ctx && "
			    "tpm2_flushcontext -t && "
			    "tpm2_create -Q -C prim.ctx -G ecc -u k.pub -r k.priv && "
			    "tpm2_flushcontext -t && "
			    "tpm2_load -Q -C prim.ctx -u k.pub -r k.priv -c k.ctx && "
			    "tpm2_flushcontext -t && "
			    "tpm2_evictcontrol -Q -C o -c k.ctx 0x81000010 && "
			    "tpm2_flushcontext -t && "
			    "tpm2_readpublic -Q -c 0x81000010 -f pem -o k.pem && "
			    "tpm2_flushcontext -t"), 0);
	assert_int_equal(tpm(s, "tpm2_nvdefine -Q 0x1500016 -C o -s 32 "
			    "-a \"ownerread|ownerwrite\" && head -c 32 /dev/urandom > nv.in && "
			    "tpm2_nvwrite -Q 0x1500016 -C o -i nv.in"), 0);
	assert_int_equal(tpm(s, "tpm2_pcrextend 11:sha256=%064d,sha384=%096d && "
			    "tpm2_pcrextend 16:sha256=%064d", 7, 9, 5), 0);
}

static void test_move_state(void **state)
{
	struct swtpm_blobs blobs = { 0 };
	uint8_t *buf[3] = { NULL };
	char *pcr_a, *pcr_b, *nv_a, *nv_b, *fresh;

	(void)state;
	assert_int_equal(swtpm_start(&a.cfg, &a.tpm), 0);
	populate(&a);
	pcr_a = out_of(&a, "pcr.a", PCRS);
	nv_a = out_of(&a, "nv.a", NVREAD);
	for (int w = SWTPM_BLOB_PERMANENT; w <= SWTPM_BLOB_SAVESTATE; w++) {
		assert_int_equal(swtpm_state_get(&a.tpm, w, &buf[w - 1], &blobs.len[w - 1]), 0);
		blobs.data[w - 1] = buf[w - 1];
	}
	assert_true(blobs.len[0] > 1000);         /* seeds, NV, the persisted key */
	assert_true(blobs.len[1] > 100);          /* PCRs, contexts */
	assert_int_equal(blobs.len[2], 0);        /* no TPM2_Shutdown(STATE) */
	assert_int_equal(swtpm_state_get(&a.tpm, 4, &buf[2], &blobs.len[2]), -EINVAL);
	assert_int_equal(swtpm_stop(&a.tpm), 0);

	assert_int_equal(swtpm_start(&b.cfg, &b.tpm), 0);
	assert_int_equal(tpm(&b, "tpm2_startup -c"), 0);
	fresh = out_of(&b, "pcr.fresh", PCRS);
	assert_string_not_equal(fresh, pcr_a);    /* B starts elsewhere */
	assert_int_equal(swtpm_state_restore(&b.tpm, &blobs), 0);

	pcr_b = out_of(&b, "pcr.b", PCRS);
	assert_string_equal(pcr_b, pcr_a);
	nv_b = out_of(&b, "nv.b", NVREAD);
	assert_string_equal(nv_b, nv_a);
	/* the persisted key signs, checked with A's public key */
	assert_int_equal(tpm(&b, "echo restored > msg && tpm2_sign -Q -c 0x81000010 -g sha256 "
			    "-f plain -o sig msg && openssl dgst -sha256 -verify k.pem "
			    "-signature sig msg"), 0);
	/* the saved context of a transient object (volatile state) loads */
	assert_int_equal(tpm(&b, "tpm2_sign -Q -c k.ctx -g sha256 -f plain -o sig2 msg && "
			    "openssl dgst -sha256 -verify k.pem -signature sig2 msg"), 0);
	free(pcr_a);
	free(pcr_b);
	free(nv_a);
	free(nv_b);
	free(fresh);

	/* a corrupt permanent blob is refused; no permanent blob at all too */
	buf[0][blobs.len[0] / 2] ^= 0x5a;
	buf[0][20] ^= 0x5a;
	assert_int_not_equal(swtpm_state_restore(&b.tpm, &blobs), 0);
	blobs.len[1] = 0;
	assert_int_equal(swtpm_state_restore(&b.tpm, &blobs), -EINVAL);
	blobs.len[0] = 0;
	assert_int_equal(swtpm_state_restore(&b.tpm, &blobs), -EINVAL);
	assert_int_equal(swtpm_state_set(&b.tpm, 0, buf[0], 4), -EINVAL);
	assert_int_equal(swtpm_state_set(&b.tpm, SWTPM_BLOB_VOLATILE, buf[0],
					 SWTPM_BLOB_MAX + 1), -EINVAL);
	for (int i = 0; i < 3; i++)
		free(buf[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_state),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
