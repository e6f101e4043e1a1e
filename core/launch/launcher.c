/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark run`, part 1: the flags.  Guest settings go to the configuration
 * (flags override the --config file); the launcher's own host settings
 * (paths, ids, modes) go to a callback (core/launch/launch_run.c), so the
 * configuration parser links without the privileged code.  The order of
 * the launch is in core/launch/launcher.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/acpi.h"
#include "core/boot.h"
#include "core/launch/commands.h"
#include "core/config.h"
#include "core/launch/config_file.h"
#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vmm_abi.h"

static void run_usage(FILE *f)
{
	fprintf(f, "usage: bulwark run --kernel BZIMAGE [--initrd FILE] "
		"[--cmdline STRING]\n"
		"                  [--cpus 1..%d] [--memory MIB] [--name NAME]\n"
		"                  [--config FILE.json] [--log-level err|warn|info|debug]\n"
		"                  [--disk PATH[,readonly][,serial=ID]]... [--net tap=IF[,mac=MAC]]\n"
		"                  [--svirt dynamic|static|off] [--svirt-label CONTEXT]\n"
		"                  [--vtpm | --no-vtpm] [--seccomp kill|log]\n"
		"                  [--state-dir DIR] [--vtpm-state-dir DIR] [--key-dir DIR]\n"
		"                  [--ek-ca-dir DIR] [--jail-root DIR] [--uid N] [--gid N]\n"
		"                  [--stop-timeout SECONDS] [--control-group GROUP]\n"
		"                  [--host-tpm /dev/tpmrm0 --host-dir HOSTATTESTDIR]\n"
		"Flags override the settings of --config.  SIGTERM, SIGINT or SIGHUP\n"
		"presses the guest's ACPI power button; a second signal, or no power-off\n"
		"within --stop-timeout seconds (default %u; 0: at once), stops it hard.\n"
		"Exit status: 0 the guest powered off (or asked for a reboot); 1 guest\n"
		"crash or KVM error; 2 bad configuration or set-up failure; 3 the guest\n"
		"did not power off after the power button and was stopped hard.\n",
		VM_MAX_CPUS, LAUNCH_STOP_TIMEOUT);
}

/* "--flag value" or "--flag=value": sets *FLAG (without dashes) and *VAL. */
static int run_next_flag(int argc, char **argv, int *i, char *flag, size_t flen,
			 const char **val)
{
	const char *a = argv[*i], *eq;

	if (strncmp(a, "--", 2) || !a[2]) {
		log_err("unexpected argument '%.64s' (see bulwark run --help)", a);
		return -EINVAL;
	}
	a += 2;
	eq = strchr(a, '=');
	if ((size_t)(eq ? eq - a : (long)strlen(a)) >= flen) {
		log_err("unknown option '--%.32s'", a);
		return -EINVAL;
	}
	snprintf(flag, flen, "%.*s", (int)(eq ? eq - a : (long)strlen(a)), a);
	if (!strcmp(flag, "help") || config_flag_takes_value(flag) == 0) {
		/* "" marks a flag without a value (config_set gets NULL). */
		*val = strcmp(flag, "help") ? "" : NULL;
		if (eq)
			log_err("--%s takes no value", flag);
		return eq ? -EINVAL : 0;
	}
	if (eq) {
		*val = eq + 1;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		log_err("--%s: needs a value", flag);
		return -EINVAL;
	}
	return 0;
}

/* Pass 1 (config file, log level) when FILE_PASS, else pass 2 (settings). */
static int run_parse_pass(struct vm_config *cfg, int argc, char **argv,
			  int file_pass, enum log_level *level,
			  const struct launcher_flag_cb *cb)
{
	for (int i = 1; i < argc; i++) {
		char flag[32], what[40];
		const char *val;
		int rc = run_next_flag(argc, argv, &i, flag, sizeof(flag), &val);

		if (rc)
			return rc;
		if (!val) {
			run_usage(stdout);
			return 1;
		}
		snprintf(what, sizeof(what), "--%s", flag);
		if (!strcmp(flag, "config")) {
			rc = file_pass ? config_load_file(cfg, val) : 0;
		} else if (!strcmp(flag, "log-level")) {
			rc = log_parse_level(val, level);
			if (rc)
				log_err("--log-level: '%.16s' is not err, warn, info or debug", val);
		} else if (config_is_setting(flag)) {
			rc = file_pass ? 0 : config_set(cfg, flag,
							config_flag_takes_value(flag) ? val : NULL,
							what);
		} else if (cb && (rc = cb->fn(cb->arg, flag, val, file_pass)) != -ENOENT) {
			/* the launcher's own option: handled (0) or refused */
		} else {
			log_err("unknown option '--%s' (see bulwark run --help)", flag);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * A flag given twice is an error: the last one no longer silently wins.
 * Only --disk repeats (one per disk); --vtpm and --no-vtpm are one setting.
 */
static int run_flags_once(int argc, char **argv)
{
	static char seen[64][32];
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		char flag[32];
		const char *val, *name;
		int rc = run_next_flag(argc, argv, &i, flag, sizeof(flag), &val);

		if (rc)
			return rc;
		name = strcmp(flag, "no-vtpm") ? flag : "vtpm";
		if (!val || !strcmp(name, "disk"))
			continue;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(seen[j], name)) {
				log_err("--%s: given twice (only --disk may repeat%s)", flag,
					strcmp(name, flag) || !strcmp(name, "vtpm") ?
					"; --vtpm and --no-vtpm are one setting" : "");
				return -EINVAL;
			}
		if (n == ARRAY_SIZE(seen)) {
			log_err("more than %zu flags", ARRAY_SIZE(seen));
			return -E2BIG;
		}
		snprintf(seen[n++], sizeof(seen[0]), "%s", name);
	}
	return 0;
}

int launcher_parse_flags(struct vm_config *cfg, int argc, char **argv,
			 enum log_level *level, const struct launcher_flag_cb *cb)
{
	int rc;

	config_init(cfg);
	rc = run_flags_once(argc, argv);
	if (!rc)
		rc = run_parse_pass(cfg, argc, argv, 1, level, cb);
	if (!rc)
		rc = run_parse_pass(cfg, argc, argv, 0, level, cb);
	if (!rc)
		rc = config_validate(cfg);
	return rc;
}

int launcher_parse_args(struct vm_config *cfg, int argc, char **argv,
			enum log_level *level)
{
	return launcher_parse_flags(cfg, argc, argv, level, NULL);
}

