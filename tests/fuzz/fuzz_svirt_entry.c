/* SPDX-License-Identifier: Apache-2.0 */
/* The svirt registry entry parser (files under /var/lib/bulwark/svirt), and the
 * /proc/PID/stat start-time parser; a parsed entry must format and parse
 * back to the same entry. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "svirt/svirt_int.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct svirt_entry e, back;
	uint64_t start;
	char *buf = NULL;
	size_t len;

	log_set_level(LOG_ERR);
	svirt_stat_parse_start((const char *)data, size, &start);
	if (svirt_entry_parse((const char *)data, size, &e))
		return 0;
	if (svirt_entry_format(&e, &buf, &len) ||
	    svirt_entry_parse(buf, len, &back) || memcmp(&e, &back, sizeof(e)))
		abort();
	free(buf);
	return 0;
}
