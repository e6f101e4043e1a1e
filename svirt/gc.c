/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark gc`: repair what killed launchers and VMMs left behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

static void gc_usage(void)
{
	fprintf(stderr, "usage: bulwark gc [--registry DIR] [--log-level LEVEL]\n");
}

int cmd_gc(int argc, char **argv)
{
	struct svirt_config cfg;
	enum log_level level;
	int rc, seen_reg = 0, seen_level = 0;

	svirt_config_default(&cfg);
	/* A dead guest's stop record: its launcher died before writing it. */
	cfg.gone = launch_audit_gone;
	for (int i = 1; i < argc; i++) {
		/* A flag given twice is an error, not "the last wins". */
		if ((!strcmp(argv[i], "--registry") && seen_reg++) ||
		    (!strcmp(argv[i], "--log-level") && seen_level++)) {
			fprintf(stderr, "bulwark gc: %s given twice\n", argv[i]);
			gc_usage();
			return 2;
		}
		if (!strcmp(argv[i], "--registry") && i + 1 < argc &&
		    strlen(argv[i + 1]) < sizeof(cfg.registry_dir)) {
			snprintf(cfg.registry_dir, sizeof(cfg.registry_dir), "%s",
				 argv[++i]);
		} else if (!strcmp(argv[i], "--log-level") && i + 1 < argc &&
			   !log_parse_level(argv[i + 1], &level)) {
			log_set_level(level);
			i++;
		} else {
			fprintf(stderr, "bulwark gc: bad argument '%s'\n", argv[i]);
			gc_usage();
			return 2;
		}
	}
	rc = svirt_gc(&cfg);
	if (rc < 0) {
		fprintf(stderr, "bulwark gc: %s: %s\n", cfg.registry_dir,
			strerror(-rc));
		return 1;
	}
	printf("bulwark gc: %d stale guest%s repaired\n", rc, rc == 1 ? "" : "s");
	return 0;
}
