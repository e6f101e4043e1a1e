/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark COMMAND ...`: dispatch to the subsystem that owns COMMAND. */
#include <stdio.h>
#include <string.h>

#include "core/commands.h"
#include "core/util.h"

/*
 * While the subsystems are being built in parallel a command may not be
 * linked in yet; weak references let the binary say so instead of failing to
 * link.  Once every subsystem has landed these become strong references.
 */
#pragma weak cmd_run
#pragma weak cmd_gc
#pragma weak cmd_policy
#pragma weak cmd_seccomp
#pragma weak cmd_attest
#pragma weak cmd_reference
#pragma weak cmd_enroll
#pragma weak cmd_serve
#pragma weak cmd_delete

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "launch a guest (privileged launcher)" },
	{ "gc", cmd_gc, "restore labels and registry entries left by dead guests" },
	{ "delete", cmd_delete, "delete NAME: remove a stopped guest's vTPM and state" },
	{ "policy", cmd_policy, "policy check POLICYFILE: prove isolation offline" },
	{ "seccomp", cmd_seccomp, "seccomp dump [--role ROLE]: print the filters" },
	{ "enroll", cmd_enroll, "enroll a guest's attestation key" },
	{ "attest", cmd_attest, "attest NAME --nonce HEX --out FILE" },
	{ "serve", cmd_serve, "run the attestation service" },
	{ "reference", cmd_reference, "compute a reference manifest from artifacts" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].help,
			commands[i].fn ? "" : " (not in this build)");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("bulwark 0.1");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (!commands[i].fn) {
			fprintf(stderr, "bulwark: %s: not in this build\n", argv[1]);
			return 2;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "bulwark: unknown command '%s' (see bulwark --help)\n", argv[1]);
	return 2;
}
