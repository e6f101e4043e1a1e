/* SPDX-License-Identifier: Apache-2.0 */
/* No flag twice on a getopt_long() command line (args.h). */
#include "core/args.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

/* The index of the option NAME (LEN bytes) names, as getopt_long matches
 * it; -1 when none or ambiguous (getopt_long reports those itself). */
static int args_find(const struct option *opts, const char *name, size_t len)
{
	int hit = -1;

	for (int i = 0; opts[i].name; i++) {
		if (strncmp(opts[i].name, name, len))
			continue;
		if (strlen(opts[i].name) == len)
			return i;
		hit = hit == -1 ? i : -2;
	}
	return hit < 0 ? -1 : hit;
}

int args_once(int argc, char *const *argv, const struct option *opts,
	      const char *repeatable)
{
	unsigned int count[64] = { 0 };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		int k;

		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2) || !a[2])
			continue;
		eq = strchr(a + 2, '=');
		k = args_find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (k < 0 || k >= 64)
			continue;
		if (opts[k].has_arg == required_argument && !eq)
			i++;
		if (++count[k] > 1 && !(opts[k].val && strchr(repeatable, opts[k].val))) {
			log_err("--%s: given twice (a flag is given once)", opts[k].name);
			return -EINVAL;
		}
	}
	return 0;
}
