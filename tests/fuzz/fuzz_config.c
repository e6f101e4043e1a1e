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
	    n != m || memcmp(s, t, n) || c.cpus != back.cpus ||
	    c.memory_mib != back.memory_mib || strcmp(c.name, back.name) ||
	    strcmp(c.kernel, back.kernel) || strcmp(c.initrd, back.initrd) ||
	    strcmp(c.cmdline, back.cmdline))
		abort();
	free(s);
	free(t);
	return 0;
}
