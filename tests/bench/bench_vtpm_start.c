/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-vtpm-start [RUNS [KERNEL [INITRD]]]
 *
 * What the vTPM adds before a guest's first instruction, measured on this
 * host: vtpm_start() (swtpm spawned, CMD_INIT, buffer size, data channel,
 * TPM2_Startup, every measurement and extend, platform hierarchy closed,
 * proxy, host log written) on an already provisioned state, RUNS times
 * (default 9), median, min and max; beside it swtpm_start() alone, so the
 * measured boot's own share shows.  The first start (manufacturing with EK
 * certificates) is timed once and reported apart: it happens once per guest.
 * KERNEL and INITRD default to 8 MiB and 32 MiB of synthetic bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/vtpm/vtpm.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_RUNS 101

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%-28s median %8.1f ms  min %8.1f  max %8.1f  (%d runs)\n", what,
	       t[n / 2], t[0], t[n - 1], n);
}

static struct measure_blob blob(const char *path, size_t synthetic)
{
	struct measure_blob b = { .fd = -1 };
	void *data;

	if (path) {
		b.fd = open(path, O_RDONLY | O_CLOEXEC);
		if (b.fd < 0) {
			perror(path);
			exit(2);
		}
		return b;
	}
	data = malloc(synthetic);
	if (!data)
		exit(2);
	memset(data, 0x5A, synthetic);
	b.data = data;
	b.len = synthetic;
	return b;
}

static int run_once(const struct vtpm_config *cfg, int full, double *ms)
{
	struct vtpm v;
	struct swtpm t;
	double t0 = now_ms();
	int rc = full ? vtpm_start(cfg, &v) : swtpm_start(&cfg->tpm, &t);

	*ms = now_ms() - t0;
	if (rc)
		return rc;
	return full ? vtpm_stop(&v) : swtpm_stop(&t);
}

int main(int argc, char **argv)
{
	static const char id[] = "bulwark-vmm-identity v1\n00 bulwark-vmm\n";
	static const char config[] = "{\"cpus\":1,\"memory\":256}";
	static struct measure_secstate sec = { .selinux = MEASURE_SELINUX_ENFORCING,
		.svirt = "dynamic", .label = "system_u:system_r:bulwark_vm_t:s0:c1,c2",
		.seccomp = 1 };
	char root[] = "/tmp/bulwark-bench-vtpm.XXXXXX", d[5][128], cmd[160];
	double first, full[MAX_RUNS], bare[MAX_RUNS];
	int runs = argc > 1 ? atoi(argv[1]) : 9, rc = 0;
	struct measure_boot boot = {
		.vmm_identity = (const uint8_t *)id, .vmm_identity_len = strlen(id),
		.config = (const uint8_t *)config, .config_len = strlen(config),
		.acpi = (const uint8_t *)"acpi", .acpi_len = 4, .security = &sec,
		.cmdline = "console=ttyS0 quiet",
	};
	struct vtpm_config cfg;

	if (runs < 1 || runs > MAX_RUNS || !mkdtemp(root))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_ERR);
	boot.kernel = blob(argc > 2 ? argv[2] : NULL, 8u << 20);
	boot.initrd = blob(argc > 3 ? argv[3] : NULL, 32u << 20);
	for (int i = 0; i < 5; i++)
		snprintf(d[i], sizeof(d[i]), "%s/%s", root,
			 (const char *[]){ "state", "keys", "ca", "certs", "boot.log" }[i]);
	mkdir(d[1], 0700);
	cfg = (struct vtpm_config){ .tpm = { .name = "bench", .state_dir = d[0],
		.key_dir = d[1], .ca_dir = d[2], .cert_dir = d[3] },
		.boot = &boot, .log_path = d[4] };
	rc = run_once(&cfg, 1, &first);
	for (int i = 0; !rc && i < runs; i++)
		rc = run_once(&cfg, 0, &bare[i]) ? -1 : run_once(&cfg, 1, &full[i]);
	if (!rc) {
		printf("first start (manufacture + EK certs + measured boot): %.1f ms\n", first);
		report("swtpm_start alone", bare, runs);
		report("vtpm_start (measured)", full, runs);
	} else {
		fprintf(stderr, "bench-vtpm-start: a start failed (%d)\n", rc);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc ? 1 : 0;
}
