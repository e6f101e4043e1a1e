/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A flag given twice on a command line is an error, not "the last wins"
 * (issue 12): args_once() checks a getopt_long() command line before it
 * is parsed.  `bulwark run` has its own parser (core/launcher.c).
 */
#ifndef BULWARK_ARGS_H
#define BULWARK_ARGS_H

#include <getopt.h>

/*
 * Walks ARGV[1..ARGC) as getopt_long() with no short options does (a long
 * option matched exactly or by a unique prefix, "--name=value" or "--name
 * value", "--" ends the options) and fails if an option of OPTS is given
 * twice, unless its val is in REPEATABLE (a string of vals, may be "").
 * Returns 0 or -EINVAL (logged, naming the flag).
 */
int args_once(int argc, char *const *argv, const struct option *opts,
	      const char *repeatable);

#endif
