/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's restore of a vTPM, end to end with real jailed swtpm
 * (attest/vtpm: vtpm_start, swtpm_state_get/restore, measure_log_load,
 * measure_restore): guest A boots measured; its three blobs and its log are
 * taken; guest B's vTPM starts fresh (its own measured boot), gets A's
 * blobs: every PCR of every bank is then the replay of A's log; the restore
 * event goes in through B's proxy: every PCR is the replay of A's log plus
 * the event, PCR 7 alone changed, the host's log file is that log, and its
 * last event parses as the restore record of the new security state; the
 * platform hierarchy stays closed (phEnable off) in the restored TPM.
 * Refused before anything is extended: A's blobs with B's log (PCRs not its
 * replay), a log on other banks, and the blobs of a TPM whose platform
 * hierarchy is open.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "attest/format/eventlog.h"
#include "attest/format/tpm.h"
#include "attest/vtpm/measure.h"
#include "attest/vtpm/swtpm.h"
#include "attest/vtpm/vtpm.h"
#include "core/log.h"
#include "core/util.h"

static char root[] = "/tmp/bulwark-test-vtpm-restore.XXXXXX";

static struct measure_secstate sec_a = {
	.selinux = MEASURE_SELINUX_ENFORCING, .svirt = "dynamic",
	.label = "system_u:system_r:bulwark_vm_t:s0:c1,c2", .seccomp = 1,
};
static struct measure_secstate sec_b = {
	.selinux = MEASURE_SELINUX_ENFORCING, .svirt = "dynamic",
	.label = "system_u:system_r:bulwark_vm_t:s0:c7,c9", .seccomp = 1,
};

struct side {
	char dir[6][160];
	struct vtpm_config cfg;
	struct measure_boot boot;
	struct vtpm v;
};

static int die_with_test(void *arg)
{
	(void)arg;
	return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void side_init(struct side *s, const char *name, const char *cmdline)
{
	static const char *const sub[] = { "state", "keys", "ca", "certs", "boot.log", "jail" };
	static const char id[] = "bulwark-vmm-identity v1\n00 bulwark-vmm\n";
	static const char config[] = "{\"cpus\":1,\"memory\":256}";
	static const char acpi[] = "RSDP XSDT FACP APIC DSDT TPM2";
	static const char kernel[] = "MZ a kernel image";

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		snprintf(s->dir[i], sizeof(s->dir[i]), "%s/%s-%s", root, name, sub[i]);
	mkdir(s->dir[1], 0700);
	mkdir(s->dir[5], 0755);
	s->boot = (struct measure_boot){
		.vmm_identity = (const uint8_t *)id, .vmm_identity_len = strlen(id),
		.config = (const uint8_t *)config, .config_len = strlen(config),
		.acpi = (const uint8_t *)acpi, .acpi_len = strlen(acpi),
		.security = &sec_a,
		.kernel = { .data = kernel, .len = strlen(kernel), .fd = -1 },
		.initrd = { .fd = -1 }, .cmdline = cmdline,
	};
	s->cfg = (struct vtpm_config){
		.tpm = { .name = name, .state_dir = s->dir[0], .key_dir = s->dir[1],
			 .ca_dir = s->dir[2], .cert_dir = s->dir[3],
			 .child_setup = die_with_test, .jail_root = s->dir[5] },
		.boot = &s->boot, .log_path = s->dir[4],
	};
}

struct pcr_read {
	const struct evlog_pcrs *want;
	int mismatches;
};

/* The guest's own PCR: IMA's (guest kernels extend it at once), in no
 * host log. */
#define GUEST_PCR 10

/* The guest extends GUEST_PCR once in every bank (as IMA would). */
static int guest_extend(void *arg, int tpm_fd)
{
	const struct evlog_banks *banks = arg;
	struct evlog_digest d[EVLOG_MAX_BANKS];

	for (uint32_t b = 0; b < banks->count; b++) {
		d[b].alg = banks->alg[b];
		d[b].size = banks->size[b];
		memset(d[b].bytes, 0x10, sizeof(d[b].bytes));
	}
	return tpm_pcr_extend(tpm_fd, GUEST_PCR, d, banks->count);
}

/* GUEST_PCR of bank 0 into arg (32 bytes kept). */
static int guest_pcr_read(void *arg, int tpm_fd)
{
	struct evlog_digest d;
	int rc = tpm_pcr_read(tpm_fd, EVLOG_ALG_SHA256, GUEST_PCR, &d);

	if (!rc)
		memcpy(arg, d.bytes, 32);
	return rc;
}

/* Every PCR of every bank of the TPM against want, but the guest's own. */
static int pcrs_compare(void *arg, int tpm_fd)
{
	struct pcr_read *r = arg;

	for (uint32_t b = 0; b < r->want->banks.count; b++)
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			struct evlog_digest d;
			int rc = pcr == GUEST_PCR ? 0 :
				 tpm_pcr_read(tpm_fd, r->want->banks.alg[b], pcr, &d);

			if (rc)
				return rc;
			if (pcr != GUEST_PCR &&
			    memcmp(d.bytes, r->want->value[b][pcr], r->want->banks.size[b])) {
				print_message("bank %u PCR %u differs\n", b, pcr);
				r->mismatches++;
			}
		}
	return 0;
}

/* TPM2_GetCapability(TPM_PROPERTIES, TPM2_PT_STARTUP_CLEAR): its value. */
static int startup_clear(void *arg, int tpm_fd)
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 22, 0, 0, 0x01, 0x7a,
				       0, 0, 0, 6, 0, 0, 0x02, 0x01, 0, 0, 0, 1 };
	uint8_t rsp[64];
	size_t n = 0;
	uint32_t rc = 0;
	int err = tpm_transact(tpm_fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &n, &rc);

	if (err || rc || n < 27)
		return err ? err : -EIO;
	*(uint32_t *)arg = (uint32_t)rsp[23] << 24 | (uint32_t)rsp[24] << 16 |
			   (uint32_t)rsp[25] << 8 | rsp[26];
	return 0;
}

static void pcrs_equal_replay(struct vtpm *v, const uint8_t *log, size_t len)
{
	static struct evlog_pcrs want;
	struct evlog_error err;
	struct pcr_read r = { &want, 0 };

	assert_int_equal(evlog_replay(log, len, &want, &err), 0);
	assert_int_equal(tpmproxy_host_run(&v->proxy, pcrs_compare, &r), 0);
	assert_int_equal(r.mismatches, 0);
}

/* Blobs of a TPM that was started and never closed its platform hierarchy,
 * with the (empty) log that replays to its PCRs: measure_restore refuses. */
static void platform_open_refused(struct side *c)
{
	static struct side raw;
	static const uint8_t digest[32] = { 1 };
	struct swtpm tpm;
	struct swtpm_blobs blobs = { 0 };
	uint8_t *buf[3] = { NULL };
	struct evlog_banks banks;
	int fd = -1;

	side_init(&raw, "guestRaw", "console=ttyS0 quiet");
	assert_int_equal(swtpm_start(&raw.cfg.tpm, &tpm), 0);
	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	assert_int_equal(tpm_startup_clear(fd), 0);
	assert_int_equal(tpm_pcr_banks(fd, &banks), 0);
	for (int w = SWTPM_BLOB_PERMANENT; w <= SWTPM_BLOB_SAVESTATE; w++) {
		assert_int_equal(swtpm_state_get(&tpm, w, &buf[w - 1], &blobs.len[w - 1]), 0);
		blobs.data[w - 1] = buf[w - 1];
	}
	close(fd);
	assert_int_equal(swtpm_stop(&tpm), 0);
	assert_int_equal(vtpm_start(&c->cfg, &c->v), 0);
	assert_int_equal(swtpm_state_restore(&c->v.swtpm, &blobs), 0);
	evlog_writer_free(&c->v.log);
	assert_int_equal(evlog_writer_init(&c->v.log, banks.alg, banks.count, EVLOG_MAX_SIZE), 0);
	assert_int_equal(measure_restore(&c->v, digest, &sec_b), -EPERM);
	assert_int_equal(vtpm_stop(&c->v), 0);
	for (int i = 0; i < 3; i++)
		free(buf[i]);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_restore(void **state)
{
	static struct side a, b, c;
	static struct evlog_pcrs before, after;
	static const uint8_t digest[32] = { 0x5a, [31] = 0xa5 };
	static uint8_t guest_a[32];
	struct swtpm_blobs blobs = { 0 };
	uint8_t *buf[3] = { NULL }, *alog, *blog, *file;
	size_t alen, blen, flen;
	struct evlog_parser p;
	struct evlog_event ev, last = { 0 };
	struct measure_restore_view rv;
	struct evlog_error err;
	FILE *f;
	double t0;

	(void)state;
	/* A: a measured boot, the guest extends its own PCR (IMA), then its
	 * state and its log are taken */
	side_init(&a, "guestA", "console=ttyS0 quiet");
	assert_int_equal(vtpm_start(&a.cfg, &a.v), 0);
	assert_int_equal(tpmproxy_host_run(&a.v.proxy, guest_extend, &a.v.log.banks), 0);
	assert_int_equal(tpmproxy_host_run(&a.v.proxy, guest_pcr_read, guest_a), 0);
	for (int w = SWTPM_BLOB_PERMANENT; w <= SWTPM_BLOB_SAVESTATE; w++) {
		assert_int_equal(swtpm_state_get(&a.v.swtpm, w, &buf[w - 1], &blobs.len[w - 1]), 0);
		blobs.data[w - 1] = buf[w - 1];
	}
	alen = a.v.log.len;
	alog = malloc(alen);
	assert_non_null(alog);
	memcpy(alog, a.v.log.buf, alen);
	assert_int_equal(vtpm_stop(&a.v), 0);

	/* B: started fresh with another command line (other PCRs), then A's state */
	side_init(&b, "guestB", "console=ttyS0 other");
	assert_int_equal(vtpm_start(&b.cfg, &b.v), 0);
	assert_int_equal(evlog_replay(b.v.log.buf, b.v.log.len, &before, &err), 0);
	blen = b.v.log.len;
	blog = malloc(blen);
	assert_non_null(blog);
	memcpy(blog, b.v.log.buf, blen);
	assert_int_equal(swtpm_state_restore(&b.v.swtpm, &blobs), 0);
	pcrs_equal_replay(&b.v, alog, alen);           /* A's PCRs, not B's boot */
	{
		uint8_t now[32];

		/* and the guest's own PCR is A's, not a reset one */
		assert_int_equal(tpmproxy_host_run(&b.v.proxy, guest_pcr_read, now), 0);
		assert_memory_equal(now, guest_a, 32);
	}
	/* the platform hierarchy stays closed (A's boot closed it), storage
	 * and endorsement on: the restored TPM is not a fresh one */
	{
		uint32_t sc = 0xffffffff;

		assert_int_equal(tpmproxy_host_run(&b.v.proxy, startup_clear, &sc), 0);
		assert_int_equal(sc & 7, 6);
	}

	/* the launcher's restore: A's log back, the restore event measured
	 * (PCR 10 is not in A's log: not checked, not refused) */
	evlog_writer_free(&b.v.log);
	assert_int_equal(measure_log_load(&b.v.log, alog, alen), 0);
	t0 = now_ms();
	assert_int_equal(measure_restore(&b.v, digest, &sec_b), 0);
	print_message("measure_restore (PCR check, extend, log saved): %.1f ms\n",
		      now_ms() - t0);
	pcrs_equal_replay(&b.v, b.v.log.buf, b.v.log.len);
	assert_int_equal(evlog_replay(alog, alen, &before, &err), 0);
	assert_int_equal(evlog_replay(b.v.log.buf, b.v.log.len, &after, &err), 0);
	for (uint32_t bank = 0; bank < after.banks.count; bank++)
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++)
			assert_int_equal(!memcmp(before.value[bank][pcr], after.value[bank][pcr],
						 after.banks.size[bank]), pcr != MEASURE_PCR_SECURITY);
	/* the host's copy is the log; its last event is the restore record */
	f = fopen(b.dir[4], "r");
	assert_non_null(f);
	file = malloc(EVLOG_MAX_SIZE);
	flen = fread(file, 1, EVLOG_MAX_SIZE, f);
	fclose(f);
	assert_int_equal(flen, b.v.log.len);
	assert_memory_equal(file, b.v.log.buf, flen);
	assert_int_equal(evlog_parse_begin(&p, file, flen), 0);
	while (evlog_parse_next(&p, &ev) == 1)
		last = ev;
	assert_int_equal(last.pcr, MEASURE_PCR_SECURITY);
	assert_int_equal(last.type, EV_EVENT_TAG);
	assert_int_equal(measure_restore_parse(last.data, last.data_size, &rv), 0);
	assert_memory_equal(rv.snapshot_sha256, digest, 32);
	assert_non_null(memmem(rv.secstate, rv.secstate_len, "s0:c7,c9", 8));
	/* a log whose banks are not the TPM's is refused, nothing extended */
	evlog_writer_free(&b.v.log);
	{
		uint16_t one[] = { EVLOG_ALG_SHA256 };

		assert_int_equal(evlog_writer_init(&b.v.log, one, 1, EVLOG_MAX_SIZE), 0);
	}
	assert_int_not_equal(measure_restore(&b.v, digest, &sec_b), 0);
	assert_int_equal(vtpm_stop(&b.v), 0);
	/* C gets A's blobs but B's log: the PCRs are not its replay, refused
	 * before anything is extended or written */
	side_init(&c, "guestC", "console=ttyS0 quiet");
	assert_int_equal(vtpm_start(&c.cfg, &c.v), 0);
	assert_int_equal(swtpm_state_restore(&c.v.swtpm, &blobs), 0);
	evlog_writer_free(&c.v.log);
	assert_int_equal(measure_log_load(&c.v.log, blog, blen), 0);
	assert_int_equal(measure_restore(&c.v, digest, &sec_b), -EPROTO);
	assert_int_equal(c.v.log.len, blen);
	assert_int_equal(vtpm_stop(&c.v), 0);
	platform_open_refused(&c);
	free(blog);
	free(file);
	free(alog);
	for (int i = 0; i < 3; i++)
		free(buf[i]);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
