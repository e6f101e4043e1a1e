/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest/vtpm with the real swtpm, wired as the launcher and the VMM will be:
 * a thread runs the launcher's poll loop over the proxy, the test plays the
 * VMM with the real CRB device (core/vmm/crb.c) on the VMM's end.  Checked: a
 * guest command through the CRB, every PCR of every bank read by the guest
 * equals the replay of the log, the host file is the same log, the TPM's
 * buffer is the CRB's, the platform hierarchy is closed; a power cycle
 * measures again; each failure leaves no process, no fd and no log behind;
 * the swtpm behind it all runs confined (attest/vtpm/swtpm_jail.c), and a
 * jail that cannot be set up fails the start cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <tss2/tss2_tpm2_types.h>

#include "core/vmm/crb.h"
#include "attest/format/tpm.h"
#include "attest/vtpm/swtpm_priv.h"
#include "attest/vtpm/vtpm.h"
#include "core/log.h"
#include "core/util.h"

static char root[] = "/tmp/bulwark-test-vtpm.XXXXXX";

static struct measure_secstate secstate = {
	.selinux = MEASURE_SELINUX_ENFORCING, .svirt = "dynamic",
	.label = "system_u:system_r:bulwark_vm_t:s0:c1,c2", .seccomp = 1,
};

static struct measure_boot boot_for(const char *cmdline)
{
	static const char id[] = "bulwark-vmm-identity v1\n00 bulwark-vmm\n";
	static const char config[] = "{\"cpus\":1,\"memory\":256}";
	static const char acpi[] = "RSDP XSDT FACP APIC DSDT TPM2";
	static const char kernel[] = "MZ a kernel image";

	return (struct measure_boot){
		.vmm_identity = (const uint8_t *)id, .vmm_identity_len = strlen(id),
		.config = (const uint8_t *)config, .config_len = strlen(config),
		.acpi = (const uint8_t *)acpi, .acpi_len = strlen(acpi),
		.security = &secstate,
		.kernel = { .data = kernel, .len = strlen(kernel), .fd = -1 },
		.initrd = { .data = "initramfs", .len = 9, .fd = -1 },
		.cmdline = cmdline,
	};
}

struct fixture {
	char dir[6][128];          /* state, keys, ca, certs, log file, jail */
	struct vtpm_config cfg;
	struct measure_boot boot;
	struct vtpm v;
	/* the launcher's poll loop */
	pthread_t loop;
	int stop_fd;
	int loop_rc;
};

/* In swtpm's child: it dies with this test, even one that crashes. */
static int die_with_test(void *arg)
{
	(void)arg;
	return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void config_for(struct fixture *f, const char *name, const char *banks)
{
	static const char *const sub[] = { "state", "keys", "ca", "certs", "boot.log",
					   "jail" };

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		snprintf(f->dir[i], sizeof(f->dir[i]), "%s/%s-%s", root, name, sub[i]);
	mkdir(f->dir[1], 0700);
	mkdir(f->dir[5], 0755);
	f->boot = boot_for("console=ttyS0 quiet");
	f->cfg = (struct vtpm_config){
		.tpm = { .name = name, .state_dir = f->dir[0], .key_dir = f->dir[1],
			 .ca_dir = f->dir[2], .cert_dir = f->dir[3], .pcr_banks = banks,
			 .child_setup = die_with_test, .jail_root = f->dir[5] },
		.boot = &f->boot, .log_path = f->dir[4],
	};
}

static void *loop_run(void *arg)
{
	struct fixture *f = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = tpmproxy_fd(&f->v.proxy), .events = tpmproxy_events(&f->v.proxy) },
			{ .fd = f->stop_fd, .events = POLLIN },
		};

		if (poll(pfd, 2, tpmproxy_timeout_ms(&f->v.proxy)) < 0 && errno != EINTR) {
			f->loop_rc = -errno;
			break;
		}
		if (pfd[1].revents)
			break;
		f->loop_rc = tpmproxy_service(&f->v.proxy, pfd[0].revents);
		if (f->loop_rc)
			break;
	}
	return NULL;
}

static void loop_start(struct fixture *f)
{
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(f->stop_fd >= 0);
	f->loop_rc = 0;
	assert_int_equal(pthread_create(&f->loop, NULL, loop_run, f), 0);
}

static void loop_stop(struct fixture *f)
{
	uint64_t one = 1;

	assert_int_equal(write(f->stop_fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	close(f->stop_fd);
	assert_int_equal(f->loop_rc, 0);
}

/* ---- what the test checks ------------------------------------------------ */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Processes whose parent is this one (swtpm, swtpm_setup, ...). */
static int count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], buf[512], *p;
		FILE *fp;
		int ppid;

		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(buf, sizeof(buf), fp) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
			n++;
		fclose(fp);
	}
	closedir(d);
	return n;
}

static uint32_t crb_rd32(struct crb *c, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(crb_mmio_read(c, off, &v, 4), 0);
	return v;
}

static void crb_wr32(struct crb *c, uint64_t off, uint32_t v)
{
	assert_int_equal(crb_mmio_write(c, off, &v, 4), 0);
}

/* GetRandom(16) as Linux's tpm_crb issues it, on the VMM's end. */
static void guest_getrandom_via_crb(struct fixture *f)
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x7b, 0, 16 };
	struct crb *c = malloc(sizeof(*c));
	uint8_t rsp[28];
	int fd = f->v.vmm_fd;

	assert_non_null(c);
	crb_init(c, crb_transport_fd, &fd);
	crb_wr32(c, CRB_LOC_CTRL, CRB_LOC_CTRL_REQUEST);
	crb_wr32(c, CRB_CTRL_REQ, CRB_CTRL_REQ_CMD_READY);
	for (size_t i = 0; i < sizeof(cmd); i += 4) {
		uint32_t v;

		memcpy(&v, cmd + i, 4);
		crb_wr32(c, CRB_DATA + i, v);
	}
	crb_wr32(c, CRB_CTRL_START, 1);
	assert_int_equal(crb_rd32(c, CRB_CTRL_STS) & CRB_CTRL_STS_ERROR, 0);
	for (size_t i = 0; i < sizeof(rsp); i += 4)
		assert_int_equal(crb_mmio_read(c, CRB_DATA + i, rsp + i, 4), 0);
	assert_int_equal(rsp[5], sizeof(rsp));            /* size: 28 */
	assert_int_equal(rsp[6] | rsp[7] | rsp[8] | rsp[9], 0);
	assert_int_equal(c->commands, 1);
	free(c);
}

/* GetCapability(TPM_PROPERTIES, prop, 1) on the VMM's end: the value. */
static uint32_t guest_property(struct fixture *f, uint32_t prop)
{
	uint8_t cmd[22] = { 0x80, 0x01, 0, 0, 0, 22, 0, 0, 0x01, 0x7A, 0, 0, 0, 6 };
	uint8_t rsp[TPM_MAX_MSG];
	size_t rlen;
	uint32_t code;

	for (int i = 0; i < 4; i++)
		cmd[14 + i] = (uint8_t)(prop >> (24 - 8 * i));
	cmd[21] = 1;
	assert_int_equal(tpm_transact(f->v.vmm_fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &rlen,
				      &code), 0);
	assert_int_equal(code, 0);
	assert_int_equal(rlen, 10 + 1 + 4 + 4 + 8);
	assert_int_equal((uint32_t)rsp[19] << 24 | (uint32_t)rsp[20] << 16 |
			 (uint32_t)rsp[21] << 8 | rsp[22], prop);
	return (uint32_t)rsp[23] << 24 | (uint32_t)rsp[24] << 16 | (uint32_t)rsp[25] << 8 |
	       rsp[26];
}

/* Every PCR of every bank, read by the guest, equals the log's replay. */
static void guest_pcrs_match_log(struct fixture *f)
{
	struct evlog_pcrs *replay = calloc(1, sizeof(*replay));
	struct evlog_digest d;

	assert_non_null(replay);
	assert_int_equal(evlog_replay(f->v.log.buf, f->v.log.len, replay, NULL), 0);
	assert_int_equal(replay->banks.count, 2);
	for (uint32_t b = 0; b < replay->banks.count; b++)
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			assert_int_equal(tpm_pcr_read(f->v.vmm_fd, replay->banks.alg[b], pcr,
						      &d), 0);
			if (memcmp(d.bytes, replay->value[b][pcr], d.size))
				fail_msg("bank 0x%x PCR %u: TPM != replay", replay->banks.alg[b],
					 pcr);
		}
	free(replay);
}

/* The host file holds exactly the bytes the guest gets. */
static void host_log_is(struct fixture *f)
{
	uint8_t *buf = malloc(EVLOG_MAX_SIZE + 1);
	FILE *fp = fopen(f->cfg.log_path, "rb");
	size_t n;

	assert_non_null(buf);
	assert_non_null(fp);
	n = fread(buf, 1, EVLOG_MAX_SIZE + 1, fp);
	fclose(fp);
	assert_int_equal(n, f->v.log.len);
	assert_memory_equal(buf, f->v.log.buf, n);
	free(buf);
}

/* PCR_Extend(pcr) of the sha256 bank with a digest of 0x17s. */
static size_t cmd_pcr_extend(uint8_t *c, uint32_t pcr)
{
	static const uint8_t head[] = {
		0x80, 0x02, 0, 0, 0, 0x41, 0, 0, 0x01, 0x82,   /* PCR_Extend, 65 B */
		0, 0, 0, 0,                                     /* pcr, set below */
		0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0,       /* password session */
		0, 0, 0, 1, 0, 0x0B,                            /* 1 digest, sha256 */
	};

	memcpy(c, head, sizeof(head));
	c[13] = (uint8_t)pcr;
	memset(c + sizeof(head), 0x17, 32);
	static_assert(sizeof(head) + 32 == 0x41, "size field");
	return sizeof(head) + 32;
}

/*
 * Host commands run at the locality they set (3: PCR 17 may be extended),
 * and the guest's next command is back at locality 0 (it may not).
 */
static void host_locality_is_scoped(struct fixture *f)
{
	uint8_t c[80], r[TPMPROXY_MAX_MSG];
	struct evlog_digest d = { .alg = EVLOG_ALG_SHA256, .size = 32 };
	size_t rlen;

	assert_int_equal(tpmproxy_host_begin(&f->v.proxy), 0);
	assert_int_equal(tpmproxy_host_set_locality(&f->v.proxy, 4), -EINVAL);
	assert_int_equal(tpmproxy_host_exec(&f->v.proxy, c, cmd_pcr_extend(c, 17), r, sizeof(r),
					    &rlen), 0);
	assert_int_not_equal(r[9] | r[8] << 8, 0);        /* locality 0: refused */
	assert_int_equal(tpmproxy_host_set_locality(&f->v.proxy, 3), 0);
	assert_int_equal(tpmproxy_host_exec(&f->v.proxy, c, cmd_pcr_extend(c, 17), r, sizeof(r),
					    &rlen), 0);
	assert_int_equal(r[6] | r[7] | r[8] | r[9], 0);    /* locality 3: done */
	assert_int_equal(tpmproxy_host_end(&f->v.proxy), 0);
	loop_start(f);
	assert_int_equal(tpm_pcr_extend(f->v.vmm_fd, 17, &d, 1), -EIO);
	loop_stop(f);
}

static void check_running_guest(struct fixture *f)
{
	loop_start(f);
	guest_getrandom_via_crb(f);
	guest_pcrs_match_log(f);
	/* The TPM's buffer is the CRB's (CMD_SET_BUFFERSIZE). */
	assert_int_equal(guest_property(f, TPM2_PT_MAX_COMMAND_SIZE), TPMPROXY_MAX_MSG);
	assert_int_equal(guest_property(f, TPM2_PT_MAX_RESPONSE_SIZE), TPMPROXY_MAX_MSG);
	/* phEnable off, storage and endorsement on (TPMA_STARTUP_CLEAR). */
	assert_int_equal(guest_property(f, TPM2_PT_STARTUP_CLEAR) & 7, 6);
	loop_stop(f);
	host_log_is(f);
}

/* ---- tests ---------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);      /* as the launcher does (tpmproxy.h) */
	log_set_level(LOG_ERR);
	return mkdtemp(root) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

static void test_start_and_reboot(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct measure_boot other;
	uint8_t before[EVLOG_MAX_DIGEST];
	struct evlog_digest d;

	(void)state;
	assert_non_null(f);
	config_for(f, "run", NULL);
	assert_int_equal(vtpm_start(&f->cfg, &f->v), 0);
	assert_true(f->v.vmm_fd >= 0);
	assert_int_equal(count_children(), 1);            /* swtpm */
	/* The TPM the guest talks to runs jailed, with an id of its own. */
	assert_true(f->v.swtpm.uid >= JAIL_VTPM_ID_BASE &&
		    f->v.swtpm.uid < JAIL_VTPM_ID_BASE + JAIL_ID_SLOTS);
	assert_int_equal(swtpm_jail_verify("run", f->v.swtpm.pid, f->v.swtpm.uid,
					   f->v.swtpm.gid), 0);
	check_running_guest(f);
	host_locality_is_scoped(f);

	/*
	 * The guest extends PCR 8 (allowed: it only moves away from the log).
	 * A power cycle with another command line: every PCR equals the new
	 * log again, and PCR 8 differs from the first boot's.
	 */
	loop_start(f);
	assert_int_equal(tpm_pcr_read(f->v.vmm_fd, EVLOG_ALG_SHA256, 8, &d), 0);
	memcpy(before, d.bytes, 32);
	assert_int_equal(tpm_pcr_extend(f->v.vmm_fd, 8, &d, 1), 0);
	assert_int_equal(tpm_pcr_read(f->v.vmm_fd, EVLOG_ALG_SHA256, 8, &d), 0);
	assert_memory_not_equal(d.bytes, before, 32);
	loop_stop(f);
	other = boot_for("console=ttyS0 init=/bin/sh");
	assert_int_equal(vtpm_reboot(&f->v, &other), 0);
	check_running_guest(f);
	loop_start(f);
	assert_int_equal(tpm_pcr_read(f->v.vmm_fd, EVLOG_ALG_SHA256, 8, &d), 0);
	assert_memory_not_equal(d.bytes, before, 32);
	loop_stop(f);

	vtpm_vmm_fd_close(&f->v);
	assert_int_equal(vtpm_stop(&f->v), 0);
	assert_int_equal(vtpm_stop(&f->v), 0);            /* idempotent */
	assert_int_equal(count_children(), 0);
	assert_int_equal(access(f->cfg.log_path, F_OK), 0);   /* the record stays */
	free(f);
}

/* TPM2_ReadClock on the VMM's end: clockInfo.safe (TPMS_TIME_INFO's last byte). */
static int guest_clock_safe(struct fixture *f)
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x81 };
	uint8_t rsp[TPM_MAX_MSG];
	size_t rlen;
	uint32_t code;

	loop_start(f);
	assert_int_equal(tpm_transact(f->v.vmm_fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &rlen,
				      &code), 0);
	loop_stop(f);
	assert_int_equal(code, 0);
	assert_int_equal(rlen, 10 + 8 + 8 + 4 + 4 + 1);
	return rsp[rlen - 1];
}

/*
 * A guest stopped without its own TPM2_Shutdown (killed, or stopped hard
 * after the power button) must not leave the next start's clock "unsafe":
 * verifiers warn on clockInfo.safe == NO (clock-not-safe).  The launcher
 * shuts the vTPM down orderly once the guest is gone, and a guest that did
 * shut it down itself changes nothing.
 */
static void test_stop_is_orderly(void **state)
{
	static const uint8_t shutdown[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0 };
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t rsp[TPM_MAX_MSG];
	size_t rlen;
	uint32_t code;

	(void)state;
	assert_non_null(f);
	config_for(f, "clock", NULL);
	assert_int_equal(vtpm_start(&f->cfg, &f->v), 0);
	assert_int_equal(guest_clock_safe(f), 1);
	vtpm_vmm_fd_close(&f->v);
	assert_int_equal(vtpm_stop(&f->v), 0);            /* no guest shutdown */
	assert_int_equal(vtpm_start(&f->cfg, &f->v), 0);  /* same state, restarted */
	assert_int_equal(guest_clock_safe(f), 1);
	loop_start(f);                                     /* the guest's own shutdown */
	assert_int_equal(tpm_transact(f->v.vmm_fd, shutdown, sizeof(shutdown), rsp,
				      sizeof(rsp), &rlen, &code), 0);
	loop_stop(f);
	assert_int_equal(code, 0);
	vtpm_vmm_fd_close(&f->v);
	assert_int_equal(vtpm_stop(&f->v), 0);
	assert_int_equal(vtpm_start(&f->cfg, &f->v), 0);
	assert_int_equal(guest_clock_safe(f), 1);
	vtpm_vmm_fd_close(&f->v);
	assert_int_equal(vtpm_stop(&f->v), 0);
	assert_int_equal(count_children(), 0);
	free(f);
}

/* Each failure, early or late, leaves no process, fd or log file. */
static void expect_clean_failure(struct fixture *f, int want)
{
	int fds = count_fds();

	assert_int_equal(vtpm_start(&f->cfg, &f->v), want);
	assert_int_equal(count_children(), 0);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(f->v.vmm_fd, -1);
	assert_int_equal(f->v.swtpm.pid, 0);
	assert_null(f->v.log.buf);
	if (f->cfg.log_path)
		assert_int_not_equal(access(f->cfg.log_path, F_OK), 0);
}

static void test_failures_unwind(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char bad_log[200];

	(void)state;
	assert_non_null(f);
	/* swtpm_setup refuses the banks: nothing was started. */
	config_for(f, "badbanks", "md5");
	expect_clean_failure(f, -EIO);

	/* Measured boot fails after swtpm started (no kernel): swtpm stopped. */
	config_for(f, "badboot", NULL);
	f->boot.kernel = (struct measure_blob){ .fd = -1 };
	expect_clean_failure(f, -EINVAL);

	/* The last step (the host log) fails: everything before it unwound. */
	config_for(f, "badlog", NULL);
	snprintf(bad_log, sizeof(bad_log), "%s/no-such-dir/boot.log", root);
	f->cfg.log_path = bad_log;
	expect_clean_failure(f, -ENOENT);

	/* swtpm's jail cannot be set up (no mount point for its root): no
	 * swtpm runs unconfined, nothing is left. */
	config_for(f, "nojail", NULL);
	rmdir(f->dir[5]);
	expect_clean_failure(f, -ENOENT);

	/* Refused before anything runs. */
	config_for(f, "badlog", NULL);
	f->cfg.log_path = "relative.log";
	expect_clean_failure(f, -EINVAL);
	f->cfg.log_path = bad_log;
	f->cfg.boot = NULL;
	expect_clean_failure(f, -EINVAL);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_and_reboot),
		cmocka_unit_test(test_failures_unwind),
		cmocka_unit_test(test_stop_is_orderly),
	};
	return cmocka_run_group_tests_name("vtpm", tests, group_setup, group_teardown);
}
