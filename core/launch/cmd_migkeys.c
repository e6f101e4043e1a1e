/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark migrate-keys --out DIR --cn NAME [--ca-dir DIR]`: a host's
 * credentials for the migration channel (core/launch/migkeys.h).  Prints
 * the line the other hosts put in their trusted-hosts.  Needs no privilege
 * beyond writing DIR; the CA's key should live on one machine only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/args.h"
#include "core/launch/commands.h"
#include "core/launch/migkeys.h"

static int migkeys_usage(void)
{
	fprintf(stderr, "usage: bulwark migrate-keys --out DIR --cn NAME [--ca-dir DIR]\n"
		"  makes DIR/host.key (0600), DIR/host.crt, DIR/ca.crt; the CA in\n"
		"  --ca-dir (default DIR/ca) is made when absent\n");
	return 2;
}

int cmd_migrate_keys(int argc, char **argv)
{
	static const struct option o[] = {
		{ "out", 1, NULL, 'o' }, { "cn", 1, NULL, 'n' }, { "ca-dir", 1, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *cn = NULL, *ca = NULL;
	char cadef[4096], pin[MIGKEYS_PIN_LEN + 1], why[512];
	int c, rc = args_once(argc, argv, o, "");

	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n': cn = optarg; break;
		case 'c': ca = optarg; break;
		default: rc = -EINVAL; break;
		}
	}
	if (rc || optind != argc || !out || !cn)
		return migkeys_usage();
	if (!ca) {
		if (snprintf(cadef, sizeof(cadef), "%s/ca", out) >= (int)sizeof(cadef))
			return migkeys_usage();
		ca = cadef;
	}
	rc = migkeys_host(ca, out, cn, pin, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "bulwark migrate-keys: %s\n", why[0] ? why : strerror(-rc));
		return 1;
	}
	printf("%s\n", pin);
	fprintf(stderr, "%s/host.key, host.crt, ca.crt made for cn=%s (CA in %s); put the\n"
		"line above (or \"cn:%s\") in the trusted-hosts of every host this one\n"
		"may migrate with\n", out, cn, ca, cn);
	return 0;
}
