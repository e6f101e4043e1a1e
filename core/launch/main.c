/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark COMMAND ...`: dispatch to the subsystem that owns COMMAND. */
#include <stdio.h>
#include <string.h>

#include "core/launch/commands.h"
#include "core/util.h"

/* Every command is a strong reference: a build missing one fails to link. */
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
	/* The guests' control sockets (core/launch/cmd_control.c). */
	{ "list", cmd_list, "list [--json]: every guest on this host" },
	{ "info", cmd_info, "info NAME [--json]: state, config, label, pids" },
	{ "pause", cmd_pause, "pause NAME: park the vCPUs, stop the guest's clock" },
	{ "resume", cmd_resume, "resume NAME: carry on after pause" },
	{ "shutdown", cmd_shutdown, "shutdown NAME: press the guest's power button" },
	{ "destroy", cmd_destroy, "destroy NAME: stop the guest hard, now" },
	/* Sealed snapshots (issue 17): core/launch/cmd_control.c (snapshot),
	 * core/launch/launch_restore.c (restore), cmd_snapbox.c (moves). */
	{ "snapshot", cmd_snapshot,
	  "snapshot NAME --out DIR [--resume|--stop|--keep-paused] [--digest-disks]" },
	{ "restore", cmd_restore, "restore DIR [--name NAME] [--force]: a guest back" },
	{ "snapshot-export", cmd_snapshot_export,
	  "snapshot-export DIR --transport-key FILE --out DIR: re-seal for another host" },
	{ "snapshot-import", cmd_snapshot_import,
	  "snapshot-import DIR --transport-key FILE --out DIR: re-seal for this host" },
	/* Live migration (issue 18): core/launch/cmd_migkeys.c. */
	{ "migrate-keys", cmd_migrate_keys,
	  "migrate-keys --out DIR --cn NAME [--ca-dir DIR]: this host's TLS credentials" },
	/* Live migration (issue 18): core/launch/cmd_control.c (migrate, the
	 * source); the target is `run --incoming` (launch_incoming.c). */
	{ "migrate", cmd_migrate,
	  "migrate NAME --to ADDR [--downtime MS] [--max-rounds N]: move a running guest" },
	{ "migrate-cancel", cmd_migrate_cancel,
	  "migrate-cancel NAME: undo a migration out before its last step" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
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
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "bulwark: unknown command '%s' (see bulwark --help)\n", argv[1]);
	return 2;
}
