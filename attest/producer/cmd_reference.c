/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark reference`: a manifest from the artifacts alone (reference.h).
 * The VMM identity must list the binaries in the launcher's order, with its
 * names (--vmm-binary NAME=PATH, repeated), so that the identity text, and
 * so its digest, is the launcher's.  The configuration is either the
 * canonical bytes (--config) or the VM's config file as `bulwark run
 * --config` reads it (--vm-config: defaults, then the file, validated and
 * made canonical by the launcher's own code, core/config.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/vtpm/policy_digest.h"
#include "attest/producer/host_allow_build.h"
#include "attest/producer/reference.h"
#include "core/args.h"
#include "core/config.h"
#include "core/launch/config_file.h"
#include "core/launch/commands.h"
#include "core/log.h"
#include "core/path.h"
#include "core/util.h"

struct ref_args {
	const char *kernel, *initrd, *cmdline, *config, *policy, *acpi, *id, *out;
	const char *label_rule, *banks, *vm_config;
	const char *vmm[MEASURE_MAX_IDENTITY];
	size_t nvmm;
	struct measure_filter filters[MEASURE_MAX_FILTERS];
	char roles[MEASURE_MAX_FILTERS][MANIFEST_WORD_MAX + 1];
	size_t nfilters;
	unsigned svirt_allowed;       /* --allow-svirt static|off, beyond dynamic */
	int guest_only;               /* --guest-only: accept bundles without host evidence */
	int allow_restore;            /* --allow-restore: a guest restored from a snapshot
				       * may be affirming (issue 17; default no) */
	int allow_migrate;            /* --allow-migrate: one that arrived by live
				       * migration (issue 18; default no) */
};

/* --allow-svirt MODE: static or off also affirm (never by default). */
static int svirt_arg(struct ref_args *a, const char *arg)
{
	unsigned mode = manifest_svirt_mode(arg, strlen(arg));

	if (!mode || (a->svirt_allowed & mode))
		return -EINVAL;
	a->svirt_allowed |= mode;
	return 0;
}

/* ROLE=HEX (64 hex digits). */
static int filter_arg(struct ref_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t n = 0;

	if (!eq || a->nfilters == ARRAY_SIZE(a->filters) || eq == arg ||
	    (size_t)(eq - arg) > MANIFEST_WORD_MAX)
		return -EINVAL;
	memcpy(a->roles[a->nfilters], arg, (size_t)(eq - arg));
	a->roles[a->nfilters][eq - arg] = '\0';
	if (bundle_hex_decode(eq + 1, strlen(eq + 1), a->filters[a->nfilters].sha256, 32, &n) ||
	    n != 32)
		return -EINVAL;
	a->filters[a->nfilters].role = a->roles[a->nfilters];
	a->nfilters++;
	return 0;
}

static int ref_parse(int argc, char **argv, struct ref_args *a)
{
	static const struct option o[] = {
		{ "kernel", 1, NULL, 'k' }, { "initrd", 1, NULL, 'i' },
		{ "cmdline", 1, NULL, 'c' }, { "config", 1, NULL, 'C' },
		{ "policy", 1, NULL, 'p' }, { "acpi", 1, NULL, 'a' }, { "id", 1, NULL, 'I' },
		{ "out", 1, NULL, 'o' }, { "label-rule", 1, NULL, 'l' },
		{ "banks", 1, NULL, 'b' }, { "vmm-binary", 1, NULL, 'v' },
		{ "seccomp", 1, NULL, 's' }, { "vm-config", 1, NULL, 'V' },
		{ "allow-svirt", 1, NULL, 'S' }, { "guest-only", 0, NULL, 'G' },
		{ "allow-restore", 0, NULL, 'R' }, { "allow-migrate", 0, NULL, 'M' }, { NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	a->label_rule = "system_u:system_r:bulwark_vmm_t:s0";
	a->svirt_allowed = MANIFEST_SVIRT_DYNAMIC;
	a->banks = "sha256,sha384";
	/* Only --vmm-binary and --seccomp repeat (one per binary, filter). */
	rc = args_once(argc, argv, o, "vs");
	while (!rc && (c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'k': a->kernel = optarg; break;
		case 'i': a->initrd = optarg; break;
		case 'c': a->cmdline = optarg; break;
		case 'C': a->config = optarg; break;
		case 'p': a->policy = optarg; break;
		case 'a': a->acpi = optarg; break;
		case 'I': a->id = optarg; break;
		case 'o': a->out = optarg; break;
		case 'l': a->label_rule = optarg; break;
		case 'b': a->banks = optarg; break;
		case 'v': rc = a->nvmm < ARRAY_SIZE(a->vmm) ? 0 : -E2BIG;
			a->vmm[a->nvmm++ % ARRAY_SIZE(a->vmm)] = optarg; break;
		case 's': rc = filter_arg(a, optarg); break;
		case 'V': a->vm_config = optarg; break;
		case 'S': rc = svirt_arg(a, optarg); break;
		case 'G': a->guest_only = 1; break;
		case 'R': a->allow_restore = 1; break;
		case 'M': a->allow_migrate = 1; break;
		default: rc = -EINVAL; break;
		}
	}
	if (rc || optind != argc || !a->kernel || !a->cmdline || !a->config == !a->vm_config ||
	    !a->policy || !a->id || !a->nvmm || !a->nfilters)
		return -EINVAL;
	return 0;
}

static int banks_parse(const char *list, struct evlog_banks *b)
{
	char copy[64], *save = NULL;

	if (strlen(list) >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", list);
	memset(b, 0, sizeof(*b));
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint16_t alg = bundle_bank_alg(t);

		if (!alg || b->count == EVLOG_MAX_BANKS)
			return -EINVAL;
		b->alg[b->count] = alg;
		b->size[b->count++] = evlog_alg_size(alg);
	}
	return b->count ? 0 : -EINVAL;
}

/* The VMM identity text, as the launcher builds it. */
static int identity(const struct ref_args *a, char *out, size_t cap, size_t *len)
{
	struct measure_identity id = { 0 };
	int rc = 0;

	for (size_t i = 0; !rc && i < a->nvmm; i++) {
		char name[64];
		const char *eq = strchr(a->vmm[i], '=');
		int fd;

		if (!eq || (size_t)(eq - a->vmm[i]) >= sizeof(name))
			return -EINVAL;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a->vmm[i]), a->vmm[i]);
		fd = path_open_regular(eq + 1, O_RDONLY, "--vmm", NULL);
		rc = fd < 0 ? fd : measure_identity_add(&id, name, fd);
		if (fd >= 0)
			close(fd);
	}
	return rc ? rc : measure_identity_encode(&id, out, cap, len);
}

struct ref_inputs {
	char ident[MEASURE_MAX_TEXT], label[160];
	size_t ident_len;
	uint8_t *config, *acpi, policy[32];
	size_t config_len, acpi_len;
	int kernel_fd, initrd_fd;
	struct evlog_banks banks;
	struct measure_secstate sec;
	struct measure_boot boot;
};

/* --vm-config: the launcher's defaults, the file, validated, canonical. */
static int vm_config_canonical(const char *path, uint8_t **out, size_t *len)
{
	struct vm_config cfg;
	char *text = NULL;
	int rc;

	config_init(&cfg);
	rc = config_load_file(&cfg, path);
	rc = rc ? rc : config_validate(&cfg);
	rc = rc ? rc : config_canonical(&cfg, &text, len);
	*out = (uint8_t *)text;
	return rc;
}

static int reference_check_policy_path(const char *path)
{
	int fd = path_open_regular(path, O_RDONLY, "--policy", NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int inputs_load(const struct ref_args *a, struct ref_inputs *in)
{
	static const uint8_t no_acpi[] = "acpi not pinned";
	int rc = banks_parse(a->banks, &in->banks);

	in->kernel_fd = path_open_regular(a->kernel, O_RDONLY, "--kernel", NULL);
	in->initrd_fd = a->initrd ? path_open_regular(a->initrd, O_RDONLY, "--initrd", NULL) : -1;
	if (in->kernel_fd < 0)
		rc = rc ? rc : in->kernel_fd;
	if (a->initrd && in->initrd_fd < 0)
		rc = rc ? rc : in->initrd_fd;
	rc = rc ? rc : identity(a, in->ident, sizeof(in->ident), &in->ident_len);
	if (a->vm_config)
		rc = rc ? rc : vm_config_canonical(a->vm_config, &in->config, &in->config_len);
	else
		rc = rc ? rc : bundle_read_file(a->config, MEASURE_MAX_TEXT, &in->config,
						&in->config_len);
	rc = rc ? rc : a->acpi ? bundle_read_file(a->acpi, 1u << 20, &in->acpi, &in->acpi_len) : 0;
	/* The policy file is an operator's path too: refused here if it is a
	 * symlink anywhere, a FIFO or a device (policy_digest_file() also
	 * reads the kernel's /sys/fs/selinux/policy for the launcher). */
	rc = rc ? rc : reference_check_policy_path(a->policy);
	rc = rc ? rc : policy_digest_file(a->policy, in->policy);
	snprintf(in->label, sizeof(in->label), "%s:c0,c1", a->label_rule);
	in->sec = (struct measure_secstate){ .selinux = MEASURE_SELINUX_ENFORCING,
		.policy_sha256 = in->policy, .svirt = "dynamic", .label = in->label,
		.seccomp = 1, .filters = a->filters, .nfilters = a->nfilters };
	in->boot = (struct measure_boot){ .vmm_identity = (uint8_t *)in->ident,
		.vmm_identity_len = in->ident_len, .config = in->config,
		.config_len = in->config_len, .acpi = in->acpi ? in->acpi : no_acpi,
		.acpi_len = in->acpi ? in->acpi_len : sizeof(no_acpi), .security = &in->sec,
		.kernel = { NULL, 0, in->kernel_fd }, .initrd = { NULL, 0, in->initrd_fd },
		.cmdline = a->cmdline };
	return rc;
}

static int ref_write(const char *out, const struct manifest *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc = manifest_write(m, &text, &len);

	f = !rc && out ? fopen(out, "we") : stdout;
	if (!rc && (!f || fwrite(text, 1, len, f) != len))
		rc = -EIO;
	if (f && f != stdout && fclose(f))
		rc = -errno;
	free(text);
	return rc;
}

/*
 * bulwark reference --host-allowlist OUT [--root DIR] [--boot-aggregate HEX]
 *                   [PATH...]      (default PATH: /usr)
 */
static int cmd_reference_host(int argc, char **argv)
{
	static const struct option o[] = {
		{ "host-allowlist", 1, NULL, 'H' }, { "root", 1, NULL, 'r' },
		{ "boot-aggregate", 1, NULL, 'B' }, { NULL, 0, NULL, 0 },
	};
	static const char *const usr[] = { "/usr" };
	const char *out = NULL, *root = "", *agg = NULL;
	uint8_t d[32];
	size_t n = 0, count = 0;
	FILE *f = NULL;
	int c, rc = args_once(argc, argv, o, "");

	while (!rc && (c = getopt_long(argc, argv, "", o, NULL)) != -1)
		switch (c) {
		case 'H': out = optarg; break;
		case 'r': root = optarg; break;
		case 'B': agg = optarg;
			rc = bundle_hex_decode(agg, strlen(agg), d, sizeof(d), &n) || n != 32 ?
			     -EINVAL : 0;
			break;
		default: rc = -EINVAL; break;
		}
	if (rc || !out) {
		fprintf(stderr, "usage: bulwark reference --host-allowlist OUT [--root DIR] "
			"[--boot-aggregate SHA256HEX] [PATH...]\n");
		return 2;
	}
	f = fopen(out, "wxe");
	rc = f ? 0 : -errno;
	if (!rc && agg && fprintf(f, "sha256:%s boot_aggregate\n", agg) < 0)
		rc = -EIO;
	rc = rc ? rc : optind < argc ?
	     host_allow_build(root, (const char *const *)argv + optind, (size_t)(argc - optind),
			      f, &count) :
	     host_allow_build(root, usr, ARRAY_SIZE(usr), f, &count);
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "bulwark reference --host-allowlist %s: %s\n", out, strerror(-rc));
		if (f)
			unlink(out);            /* no partial list left behind */
		return 1;
	}
	fprintf(stderr, "%s: %zu files\n", out, count);
	return 0;
}

int cmd_reference(int argc, char **argv)
{
	struct ref_args a = { 0 };
	struct ref_inputs *in = calloc(1, sizeof(*in));
	struct manifest *m = malloc(sizeof(*m));
	int rc = in && m ? 0 : -ENOMEM;

	if (argc > 1 && !strncmp(argv[1], "--host-allowlist", 16)) {
		free(in);
		free(m);
		return cmd_reference_host(argc, argv);
	}
	if (in)
		in->kernel_fd = in->initrd_fd = -1;
	rc = rc ? rc : ref_parse(argc, argv, &a);
	if (rc == -EINVAL)
		fprintf(stderr, "usage: bulwark reference --kernel F [--initrd F] --cmdline S "
			"--config CANONICAL|--vm-config FILE.json --policy F --vmm-binary NAME=PATH... --seccomp "
			"ROLE=SHA256... [--acpi F] [--label-rule U:R:T:S] [--banks sha256,sha384] "
			"[--allow-svirt static|off]... [--guest-only] [--allow-restore] [--allow-migrate] --id ID "
			"[--out FILE]\n");
	rc = rc ? rc : inputs_load(&a, in);
	rc = rc ? rc : reference_build(&in->boot, &in->banks, a.id, a.acpi != NULL, m);
	if (!rc) {
		m->svirt_allowed = a.svirt_allowed;
		m->host_required = !a.guest_only;
		m->allow_restore = a.allow_restore;
		m->allow_migrate = a.allow_migrate;
	}
	rc = rc ? rc : ref_write(a.out, m);
	if (in) {
		if (in->kernel_fd >= 0)
			close(in->kernel_fd);
		if (in->initrd_fd >= 0)
			close(in->initrd_fd);
		free(in->config);
		free(in->acpi);
	}
	free(in);
	free(m);
	if (rc && rc != -EINVAL)
		fprintf(stderr, "bulwark reference: %s\n", strerror(-rc));
	return rc ? (rc == -EINVAL ? 2 : 1) : 0;
}
