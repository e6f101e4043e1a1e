/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest8-fixture: real evidence for the CLI test and the benchmark, made at
 * test time (nothing opaque is committed).
 *
 *   attest8-fixture boot DIR LABEL POLICY
 *       starts a real swtpm (swtpm_setup EK certificates from swtpm_localca)
 *       with its test sockets at DIR/tpm (DIR/swtpm.pid: the process that
 *       holds it; the caller stops swtpm with SIGTERM to it), writes artifacts (DIR/kernel, initrd, config, vmm-bin,
 *       acpi.bin; DIR/policy is a copy of the binary SELinux policy POLICY,
 *       whose digest is libsepol's canonical one, attest/vtpm/policy_digest.h)
 *       and runs the launcher's measured boot of them
 *       (attest/vtpm/measure.c) into the vTPM; the log goes to DIR/eventlog.
 *   attest8-fixture export BUNDLE OUTDIR
 *       writes what tpm2_checkquote takes: ak.pem, msg, sig, pcrs (tpm2-tools
 *       "values" format), and prints the nonce in hex.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include "attest/format/bundle.h"
#include "attest/vtpm/measure.h"
#include "attest/vtpm/policy_digest.h"
#include "attest/vtpm/swtpm.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

static const char *const roles[] = { "vcpu", "vmm" };

static int put(const char *dir, const char *name, const void *b, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ok = f && fwrite(b, 1, len, f) == len;
	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

static int artifacts(const char *dir, const char *policy_file)
{
	static const char kernel[] = "fixture kernel image", initrd[] = "fixture initrd";
	static const char config[] = "{\"cpus\":1,\"memory_mib\":128}";
	static const char vmm[] = "fixture vmm binary", acpi[] = "fixture acpi tables";
	uint8_t *policy = NULL;
	size_t plen = 0;
	int rc = bundle_read_file(policy_file, POLICY_DIGEST_MAX_SIZE, &policy, &plen);

	rc = rc ? rc : put(dir, "policy", policy, plen);
	free(policy);
	return rc || put(dir, "kernel", kernel, sizeof(kernel)) ||
	       put(dir, "initrd", initrd, sizeof(initrd)) ||
	       put(dir, "config", config, strlen(config)) ||
	       put(dir, "vmm-bin", vmm, strlen(vmm)) ||
	       put(dir, "acpi.bin", acpi, sizeof(acpi)) ? -EIO : 0;
}

/* Reads DIR/name whole, or its fd for blobs. */
static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];
	uint8_t *b = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bundle_read_file(path, 1u << 24, &b, len) ? NULL : b;
}

/* Seccomp digests: SHA-256 of the role name (stand-ins; printed for the CLI). */
static void filters_fill(struct measure_filter *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		char hex[65];

		f[i].role = roles[i];
		EVP_Digest(roles[i], strlen(roles[i]), f[i].sha256, NULL, EVP_sha256(), NULL);
		hex_encode(f[i].sha256, 32, hex);
		printf("seccomp %s=%s\n", roles[i], hex);
	}
}

struct inputs {
	size_t n[5];
	uint8_t *cfg, *acpi, *k, *ird;
	char ident[MEASURE_MAX_TEXT];
	size_t ilen;
	uint8_t policy_sha[32];
	struct measure_filter filters[ARRAY_SIZE(roles)];
	struct measure_secstate s;
};

static int inputs_load(const char *dir, const char *label, struct inputs *in)
{
	struct measure_identity id = { 0 };
	char path[512];
	int vfd, rc;

	in->cfg = slurp(dir, "config", &in->n[0]);
	in->acpi = slurp(dir, "acpi.bin", &in->n[2]);
	in->k = slurp(dir, "kernel", &in->n[3]);
	in->ird = slurp(dir, "initrd", &in->n[4]);
	snprintf(path, sizeof(path), "%s/vmm-bin", dir);
	vfd = open(path, O_RDONLY | O_CLOEXEC);
	rc = in->cfg && in->acpi && in->k && in->ird && vfd >= 0 ? 0 : -EIO;
	/* The name the CLI gets as --vmm-binary bulwark=DIR/vmm-bin. */
	rc = rc ? rc : measure_identity_add(&id, "bulwark", vfd);
	rc = rc ? rc : measure_identity_encode(&id, in->ident, sizeof(in->ident), &in->ilen);
	if (vfd >= 0)
		close(vfd);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/policy", dir);
	rc = policy_digest_file(path, in->policy_sha);
	if (rc)
		return rc;
	filters_fill(in->filters);
	in->s = (struct measure_secstate){ .selinux = MEASURE_SELINUX_ENFORCING,
		.policy_sha256 = in->policy_sha, .svirt = "dynamic", .label = label,
		.seccomp = 1, .filters = in->filters, .nfilters = ARRAY_SIZE(in->filters) };
	return 0;
}

static int boot(const char *dir, const char *label, int fd)
{
	struct inputs *in = calloc(1, sizeof(*in));
	struct measure_boot b;
	struct evlog_writer log;
	char path[512];
	int rc = in ? inputs_load(dir, label, in) : -ENOMEM;

	if (!rc) {
		b = (struct measure_boot){ .vmm_identity = (uint8_t *)in->ident,
			.vmm_identity_len = in->ilen, .config = in->cfg, .config_len = in->n[0],
			.acpi = in->acpi, .acpi_len = in->n[2], .security = &in->s,
			.kernel = { in->k, in->n[3], -1 }, .initrd = { in->ird, in->n[4], -1 },
			.cmdline = "console=ttyS0 quiet" };
		rc = measure_boot_run(fd, NULL, &b, &log);
	}
	if (!rc) {
		snprintf(path, sizeof(path), "%s/eventlog", dir);
		rc = measure_log_save(&log, path);
		evlog_writer_free(&log);
	}
	if (in) {
		free(in->cfg);
		free(in->acpi);
		free(in->k);
		free(in->ird);
	}
	free(in);
	return rc;
}

/*
 * The keeper: swtpm runs jailed with a parent-death signal (attest/vtpm/
 * swtpm_jail.c), so the process that starts it must outlive the command.
 * cmd_boot forks first; the child starts swtpm, measures the boot, writes
 * its own pid to DIR/swtpm.pid, tells the parent, and then holds swtpm
 * until SIGTERM or SIGINT, when it stops it.
 */
static int keeper_run(const char *dir, const char *label, struct swtpm_config *cfg,
		      int ready)
{
	struct swtpm tpm;
	char pid[32];
	sigset_t set;
	int fd = -1, rc, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rc = swtpm_start(cfg, &tpm);
	if (rc)
		return rc;
	rc = swtpm_open_data(&tpm, &fd);
	rc = rc ? rc : boot(dir, label, fd);
	if (fd >= 0)
		close(fd);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	rc = rc ? rc : put(dir, "swtpm.pid", pid, strlen(pid)) ? -EIO : 0;
	if (rc) {
		swtpm_stop(&tpm);
		return rc;
	}
	fflush(NULL);
	if (write_all(ready, "1", 1))
		rc = -EIO;
	close(ready);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	while (!rc && sigwait(&set, &sig))
		;
	swtpm_stop(&tpm);
	return rc;
}

static int cmd_boot(const char *dir, const char *label, const char *policy)
{
	char state[512], keys[512], ca[512], certs[512], sock[512], c = 0;
	struct swtpm_config cfg = { .name = "fixture", .state_dir = state, .key_dir = keys,
		.ca_dir = ca, .cert_dir = certs, .sock_path = sock };
	int pfd[2], rc;
	pid_t child;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(ca, sizeof(ca), "%s/ca", dir);
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	snprintf(sock, sizeof(sock), "%s/tpm", dir);
	if ((mkdir(keys, 0700) && errno != EEXIST) || artifacts(dir, policy) || pipe(pfd))
		return 1;
	fflush(NULL);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(pfd[0]);
		rc = keeper_run(dir, label, &cfg, pfd[1]);
		if (rc)
			fprintf(stderr, "attest8-fixture: %s\n", strerror(-rc));
		_exit(rc ? 1 : 0);
	}
	close(pfd[1]);
	/* Ready when the keeper wrote one byte; EOF means it failed. */
	rc = read(pfd[0], &c, 1) == 1 ? 0 : 1;
	close(pfd[0]);
	if (rc)
		waitpid(child, NULL, 0);
	return rc;     /* swtpm keeps running under the keeper: DIR/swtpm.pid */
}

static int cmd_export(const char *file, const char *dir)
{
	struct bundle b;
	struct bundle_error err;
	TPMS_ATTEST a;
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	char path[512], nonce[2 * BUNDLE_MAX_NONCE + 1];
	const unsigned char *p;
	X509 *x;
	FILE *f;
	int rc = bundle_read_file(file, BUNDLE_MAX_SIZE, &buf, &len);

	rc = rc ? rc : bundle_parse(buf, len, &b, &err);
	free(buf);
	if (rc)
		return 1;
	rc = Tss2_MU_TPMS_ATTEST_Unmarshal(b.attest.data, b.attest.len, &off, &a) ? -EINVAL : 0;
	snprintf(path, sizeof(path), "%s/pcrs", dir);
	rc = rc ? rc : attest_fixture_pcrs_file(path, &b, &a.attested.quote.pcrSelect);
	rc = rc ? rc : put(dir, "msg", b.attest.data, b.attest.len);
	rc = rc ? rc : put(dir, "sig", b.signature.data, b.signature.len);
	p = b.ak.cert.data;
	x = d2i_X509(NULL, &p, (long)b.ak.cert.len);
	snprintf(path, sizeof(path), "%s/ak.pem", dir);
	f = fopen(path, "w");
	if (!rc && (!x || !f || !PEM_write_PUBKEY(f, X509_get0_pubkey(x))))
		rc = -EIO;
	if (f)
		fclose(f);
	X509_free(x);
	hex_encode(b.nonce, b.nonce_len, nonce);
	if (!rc)
		printf("%s\n", nonce);
	bundle_free(&b);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	log_set_level(LOG_WARN);
	if (argc == 5 && !strcmp(argv[1], "boot"))
		return cmd_boot(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "export"))
		return cmd_export(argv[2], argv[3]);
	fprintf(stderr, "usage: attest8-fixture boot DIR LABEL POLICY | export BUNDLE OUTDIR\n");
	return 2;
}
