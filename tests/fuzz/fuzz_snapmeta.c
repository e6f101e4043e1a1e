/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's parts of a sealed snapshot, META and DISKS
 * (core/launch/snapmeta.c), and the /snapshot request's body
 * (core/launch/snapshot_req.c) and the /migrate request's
 * (core/launch/migrate_req.c): any bytes are refused or accepted whole;
 * what is accepted encodes back to the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/launch/launch_migrate.h"
#include "core/launch/launch_snapshot.h"
#include "core/launch/snapmeta.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapdisks d;
	struct snapshot_req r;
	struct migrate_req mr;
	struct snapmeta m;
	char why[256];
	uint8_t *out;
	size_t len;

	log_set_level(LOG_ERR);
	if (!snapmeta_decode(data, size, &m)) {
		if (snapmeta_encode(&m, &out, &len) || len != size || memcmp(out, data, size))
			abort();
		free(out);
	}
	if (!snapdisks_decode(data, size, &d)) {
		if (snapdisks_encode(&d, &out, &len) || len != size || memcmp(out, data, size))
			abort();
		free(out);
	}
	if (launch_snapshot_parse((const char *)data, size, &r, why, sizeof(why)) == 0 &&
	    r.dir[0] != '/')
		abort();
	/* PUT /migrate's body (issue 18): what passes is within its bounds */
	if (launch_migrate_parse((const char *)data, size, &mr, why, sizeof(why)) == 0 &&
	    ((strncmp(mr.to, "tcp:", 4) && strncmp(mr.to, "unix:/", 6)) || !mr.downtime_ms ||
	     mr.downtime_ms > MIGRATE_DOWNTIME_MAX || !mr.max_rounds ||
	     mr.max_rounds >= SNAP_MIG_MAX_ROUNDS || (mr.cert[0] && mr.cert[0] != '/')))
		abort();
	return 0;
}
