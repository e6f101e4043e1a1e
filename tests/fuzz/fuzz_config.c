/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the JSON configuration parser (a --config file is untrusted input),
 * and check the canonical form's contract on whatever it accepts: it parses
 * back to the same settings and the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

/* The guest-visible settings of A and B are the same (host-only ones, svirt
 * and seccomp, are not canonical and are not compared). */
static int fuzz_same(const struct vm_config *a, const struct vm_config *b)
{
	if (a->cpus != b->cpus || a->memory_mib != b->memory_mib ||
	    strcmp(a->name, b->name) || strcmp(a->kernel, b->kernel) ||
	    strcmp(a->initrd, b->initrd) || strcmp(a->cmdline, b->cmdline) ||
	    a->ndisks != b->ndisks || a->net != b->net || a->vtpm != b->vtpm)
		return 0;
	for (uint32_t i = 0; i < a->ndisks; i++)
		if (strcmp(a->disks[i].path, b->disks[i].path) ||
		    a->disks[i].readonly != b->disks[i].readonly ||
		    strcmp(a->disks[i].serial, b->disks[i].serial))
			return 0;
	return !a->net || (!strcmp(a->tap, b->tap) && !memcmp(a->mac, b->mac, 6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config c, back;
	char *s = NULL, *t = NULL;
	size_t n = 0, m = 0;

	log_set_level(LOG_ERR);
	config_init(&c);
	strcpy(c.kernel, "/k");
	if (config_apply_json(&c, (const char *)data, size, "fuzz") ||
	    config_validate(&c))
		return 0;
	if (config_canonical(&c, &s, &n))
		abort();
	if (config_from_canonical(&back, s, n) || config_canonical(&back, &t, &m) ||
	    n != m || memcmp(s, t, n) || !fuzz_same(&c, &back))
		abort();
	free(s);
	free(t);
	return 0;
}
