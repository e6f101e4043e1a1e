/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measured boot into a real swtpm, checked by peers we did not write:
 * tpm2_eventlog must parse the host log and its replay, Bulwark's replay and
 * tpm2_pcrread on the same vTPM must agree in every PCR of every bank; and
 * with the real TPM, changing one input changes only its PCR.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "attest/format/eventlog.h"
#include "attest/vtpm/measure.h"
#include "attest/vtpm/swtpm.h"
#include "core/log.h"
#include "core/util.h"

struct fixture {
	char root[64], state[128], keys[128], ca[128], certs[128], sock[128];
	char kernel[128], log[128];
	struct swtpm_config cfg;
	struct swtpm tpm;
};

/* PCR values as printed by tpm2-tools: [bank 0 = sha256, 1 = sha384][pcr]. */
struct tool_pcrs {
	uint8_t v[2][EVLOG_NUM_PCRS][48];
	uint32_t seen[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/bulwark-test-mboot.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
#define P(field, name) snprintf(f->field, sizeof(f->field), "%s/" name, f->root)
	P(state, "state"); P(keys, "keys"); P(ca, "ca"); P(certs, "certs");
	P(sock, "swtpm.sock"); P(kernel, "bzImage"); P(log, "boot.log");
#undef P
	if (mkdir(f->keys, 0700))
		return -1;
	fd = open(f->kernel, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "MZ kernel image bytes", 21) != 21 || close(fd))
		return -1;
	f->cfg = (struct swtpm_config){ .name = "mboot", .state_dir = f->state,
		.key_dir = f->keys, .ca_dir = f->ca, .cert_dir = f->certs,
		.sock_path = f->sock };
	log_set_level(LOG_ERR);
	if (swtpm_start(&f->cfg, &f->tpm))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	swtpm_stop(&f->tpm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

/* Reads "  sha256:" / "    N : 0xHEX" lines of a tpm2-tools command. */
static void tool_run(const char *cmd, struct tool_pcrs *out)
{
	char line[512];
	int bank = -1;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), p)) {
		char name[16], hexv[200];
		unsigned pcr;

		if (sscanf(line, " %15[a-z0-9]%[:]", name, hexv) == 2 && line[strlen(line) - 2] == ':')
			bank = !strcmp(name, "sha256") ? 0 : !strcmp(name, "sha384") ? 1 : -1;
		else if (bank >= 0 && sscanf(line, " %u : 0x%199s", &pcr, hexv) == 2 &&
			 pcr < EVLOG_NUM_PCRS) {
			assert_int_equal(strlen(hexv), bank ? 96 : 64);
			assert_int_equal(unhex(hexv, out->v[bank][pcr], bank ? 48 : 32), 0);
			out->seen[bank] |= 1u << pcr;
		}
	}
	assert_int_equal(pclose(p), 0);
}

static struct measure_secstate secstate = {
	.selinux = MEASURE_SELINUX_ENFORCING, .svirt = "dynamic",
	.label = "system_u:system_r:bulwark_vm_t:s0:c7,c9", .seccomp = 1,
};

/* CMD_INIT (a power cycle), then the whole measured boot; log saved. */
static void boot(struct fixture *f, const char *cmdline, int kfd, struct evlog_pcrs *mine)
{
	static const char id[] = "bulwark-vmm-identity v1\n00 bulwark-vmm\n";
	static const char config[] = "{\"cpus\":2,\"memory\":512}";
	static const char acpi[] = "RSDP XSDT FACP APIC DSDT TPM2";
	struct measure_boot b = {
		.vmm_identity = (const uint8_t *)id, .vmm_identity_len = strlen(id),
		.config = (const uint8_t *)config, .config_len = strlen(config),
		.acpi = (const uint8_t *)acpi, .acpi_len = strlen(acpi),
		.security = &secstate, .kernel = { .fd = kfd },
		.initrd = { .data = "initramfs", .len = 9, .fd = -1 }, .cmdline = cmdline,
	};
	struct evlog_writer w;
	uint32_t flags = 0;
	int fd;

	assert_int_equal(swtpm_ctrl(&f->tpm, SWTPM_CMD_INIT, &flags, 4, NULL, 0), 0);
	assert_int_equal(swtpm_open_data(&f->tpm, &fd), 0);
	assert_int_equal(measure_boot_run(fd, NULL, &b, &w), 0);
	close(fd);                  /* swtpm serves one data client at a time */
	assert_int_equal(w.banks.count, 2);
	assert_int_equal(measure_log_save(&w, f->log), 0);
	assert_int_equal(evlog_replay(w.buf, w.len, mine, NULL), 0);
	evlog_writer_free(&w);
}

static void pcrread(struct fixture *f, struct tool_pcrs *t)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "tpm2_pcrread -T swtpm:path=%s sha256:all+sha384:all "
		 "2>/dev/null", f->sock);
	tool_run(cmd, t);
	assert_int_equal(t->seen[0], 0xFFFFFF);
	assert_int_equal(t->seen[1], 0xFFFFFF);
}

static void test_peers_agree(void **state)
{
	struct fixture *f = *state;
	struct evlog_pcrs *mine = calloc(1, sizeof(*mine));
	struct tool_pcrs tpm, elog;
	char cmd[300];
	int kfd = open(f->kernel, O_RDONLY | O_CLOEXEC);

	assert_non_null(mine);
	assert_true(kfd >= 0);
	boot(f, "console=ttyS0 quiet", kfd, mine);
	pcrread(f, &tpm);
	snprintf(cmd, sizeof(cmd), "tpm2_eventlog %s 2>/dev/null", f->log);
	tool_run(cmd, &elog);
	/* tpm2_eventlog lists exactly the PCRs the log extends. */
	assert_int_equal(elog.seen[0], (1u << 10) - 1);
	assert_int_equal(elog.seen[1], (1u << 10) - 1);
	for (int bank = 0; bank < 2; bank++)
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			size_t n = bank ? 48 : 32;

			if (memcmp(mine->value[bank][pcr], tpm.v[bank][pcr], n))
				fail_msg("bank %d PCR %u: replay != tpm2_pcrread", bank, pcr);
			if ((elog.seen[bank] & (1u << pcr)) &&
			    memcmp(elog.v[bank][pcr], tpm.v[bank][pcr], n))
				fail_msg("bank %d PCR %u: tpm2_eventlog != tpm2_pcrread", bank, pcr);
		}
	close(kfd);
	free(mine);
}

/* With the real vTPM: another kernel, another cmdline, each moves one PCR. */
static void test_one_input_one_pcr(void **state)
{
	struct fixture *f = *state;
	struct evlog_pcrs *mine = calloc(1, sizeof(*mine));
	struct tool_pcrs base, t;
	int kfd = open(f->kernel, O_RDWR | O_CLOEXEC);

	assert_non_null(mine);
	assert_true(kfd >= 0);
	boot(f, "console=ttyS0", kfd, mine);
	pcrread(f, &base);
	assert_int_equal(pwrite(kfd, "X", 1, 5), 1);          /* kernel changed */
	boot(f, "console=ttyS0", kfd, mine);
	pcrread(f, &t);
	for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++)
		assert_int_equal(!memcmp(base.v[0][pcr], t.v[0][pcr], 32), pcr != 4);
	boot(f, "console=ttyS1", kfd, mine);                  /* cmdline changed */
	pcrread(f, &base);
	for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++)
		assert_int_equal(!memcmp(base.v[1][pcr], t.v[1][pcr], 48), pcr != 8);
	close(kfd);
	free(mine);
}

/* A second measured boot without a power cycle is refused: Startup fails. */
static void test_no_second_startup(void **state)
{
	struct fixture *f = *state;
	struct evlog_pcrs *mine = calloc(1, sizeof(*mine));
	struct measure_boot b = { 0 };
	struct evlog_writer w;
	int kfd = open(f->kernel, O_RDONLY | O_CLOEXEC), fd;

	assert_non_null(mine);
	boot(f, "console=ttyS0", kfd, mine);
	b = (struct measure_boot){ .vmm_identity = (const uint8_t *)"x", .vmm_identity_len = 1,
		.config = (const uint8_t *)"x", .config_len = 1,
		.acpi = (const uint8_t *)"x", .acpi_len = 1, .security = &secstate,
		.kernel = { .fd = kfd }, .initrd = { .fd = -1 }, .cmdline = "" };
	assert_int_equal(swtpm_open_data(&f->tpm, &fd), 0);
	assert_int_equal(measure_boot_run(fd, NULL, &b, &w), -EIO);
	assert_null(w.buf);
	close(fd);
	close(kfd);
	free(mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peers_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_input_one_pcr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_second_startup, setup, teardown),
	};
	return cmocka_run_group_tests_name("measure_vtpm", tests, NULL, NULL);
}
