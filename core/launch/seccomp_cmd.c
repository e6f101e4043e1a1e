/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark seccomp dump [--role ROLE] [--mode kill|log]`: prints each role's
 * allowlist, the SHA-256 of its BPF program (what the launcher measures) and
 * libseccomp's PFC text of it, so that an auditor can read and pin it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/launch/commands.h"
#include "core/args.h"
#include "core/log.h"
#include "core/sandbox.h"
#include "core/util.h"

static void seccomp_print_rule(FILE *f, const struct seccomp_rule *r)
{
	char what[64];

	switch (r->kind) {
	case SECCOMP_ARG_ANY:
		snprintf(what, sizeof(what), "any arguments");
		break;
	case SECCOMP_ARG_ENOSYS:
		snprintf(what, sizeof(what), "denied with ENOSYS");
		break;
	case SECCOMP_ARG_MASK_CLEAR:
		snprintf(what, sizeof(what), "arg%u & 0x%llx == 0", r->arg,
			 (unsigned long long)r->mask);
		break;
	case SECCOMP_ARG_IN_SET:
	case SECCOMP_ARG_IN_SET32:
		snprintf(what, sizeof(what), "arg%u%s in %zu value(s)", r->arg,
			 r->kind == SECCOMP_ARG_IN_SET32 ? " (32 bits)" : "",
			 r->n_values);
		break;
	}
	fprintf(f, "#   %-16s %-28s %s\n", r->name, what, r->why);
	if (r->kind != SECCOMP_ARG_IN_SET && r->kind != SECCOMP_ARG_IN_SET32)
		return;
	for (size_t i = 0; i < r->n_values; i++)
		fprintf(f, "#       0x%llx\n", (unsigned long long)r->values[i]);
}

static int seccomp_dump_role(enum sandbox_role role, enum sandbox_seccomp_mode mode)
{
	const struct seccomp_table *t = seccomp_table_get(role);
	struct sandbox_filter flt;
	char hex[65];
	int rc;

	rc = sandbox_filter_build(role, mode, &flt);
	if (rc == 0 && (rc = sandbox_filter_digest(&flt)))
		sandbox_filter_free(&flt);
	if (rc)
		return rc;
	hex_encode(flt.digest, sizeof(flt.digest), hex);
	printf("# role %s: %zu system calls, mode %s, %u BPF instructions\n",
	       t->name, seccomp_table_count(role), sandbox_seccomp_mode_name(mode),
	       flt.len);
	printf("# sha256 %s\n", hex);
	sandbox_filter_free(&flt);
	for (size_t i = 0; i < t->n_rules; i++)
		seccomp_print_rule(stdout, &t->rules[i]);
	if (fflush(stdout))
		return -EIO;
	rc = sandbox_filter_export_pfc(role, mode, STDOUT_FILENO);
	printf("\n");
	return rc;
}

static void seccomp_usage(FILE *f)
{
	fprintf(f, "usage: bulwark seccomp dump [--role main|vcpu|io] "
		   "[--mode kill|log]\n");
}

int cmd_seccomp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sandbox_seccomp_mode mode = SANDBOX_SECCOMP_KILL;
	enum sandbox_role role = SANDBOX_ROLE_COUNT;
	int c, rc = 0;

	if (argc < 2 || strcmp(argv[1], "dump")) {
		seccomp_usage(stderr);
		return 2;
	}
	/* argv[1] ("dump") plays the program name for getopt. */
	argc--;
	argv++;
	optind = 1;
	if (args_once(argc, argv, opts, "")) {
		seccomp_usage(stderr);
		return 2;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			seccomp_usage(stdout);
			return 0;
		}
		if (c == 'r' && sandbox_role_parse(optarg, &role) == 0)
			continue;
		if (c == 'm' && sandbox_seccomp_mode_parse(optarg, &mode) == 0 &&
		    mode != SANDBOX_SECCOMP_OFF)
			continue;
		if (c == 'r' || c == 'm')
			fprintf(stderr, "bulwark seccomp: --%s: invalid value '%s'\n",
				c == 'r' ? "role" : "mode", optarg);
		seccomp_usage(stderr);
		return 2;
	}
	if (optind != argc) {
		seccomp_usage(stderr);
		return 2;
	}
	for (int r = 0; r < SANDBOX_ROLE_COUNT && rc == 0; r++)
		if (role == SANDBOX_ROLE_COUNT || role == (enum sandbox_role)r)
			rc = seccomp_dump_role((enum sandbox_role)r, mode);
	if (rc) {
		log_err("cannot dump the filters: %s", strerror(-rc));
		return 1;
	}
	return 0;
}
