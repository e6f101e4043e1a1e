/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event logs are untrusted input for every verifier: parse and replay
 * arbitrary bytes.  Must never crash, hang or read out of bounds; whatever
 * parses must replay, and the error of whatever does not must lie inside it.
 * The same bytes, and every event's data, also go through the parser of the
 * security-state encoding (event data a verifier reads from the log), and
 * of the restore record (issue 17), whose security state must lie inside it.
 */
#include <stdlib.h>
#include <string.h>

#include "attest/format/eventlog.h"
#include "attest/vtpm/measure.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

static void secstate_check(const uint8_t *data, size_t size)
{
	struct measure_kv kv[16];
	int n = measure_secstate_parse(data, size, kv, 16);

	for (int i = 0; i < n; i++)
		if (kv[i].key < (const char *)data ||
		    kv[i].value + kv[i].value_len > (const char *)data + size)
			abort();
}

static void restore_check(const uint8_t *data, size_t size)
{
	struct measure_restore_view v;

	if (measure_restore_parse(data, size, &v))
		return;
	if (v.secstate < data || v.secstate + v.secstate_len > data + size ||
	    strlen(v.time) != MEASURE_RESTORE_TIME_LEN)
		abort();
	secstate_check(v.secstate, v.secstate_len);
}

/* The migration event (issue 18): the same bounds. */
static void migrate_check(const uint8_t *data, size_t size)
{
	struct measure_migrate_view v;

	if (measure_migrate_parse(data, size, &v))
		return;
	if (v.secstate < data || v.secstate + v.secstate_len > data + size ||
	    strlen(v.time) != MEASURE_RESTORE_TIME_LEN || !v.source_host[0])
		abort();
	secstate_check(v.secstate, v.secstate_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evlog_pcrs pcrs;
	struct evlog_parser p;
	struct evlog_event ev;
	struct evlog_error err;
	int rc, n = 0;

	log_set_level(LOG_ERR);
	secstate_check(data, size);
	restore_check(data, size);
	migrate_check(data, size);
	rc = evlog_parse_begin(&p, data, size);
	while (!rc && (rc = evlog_parse_next(&p, &ev)) == 1) {
		if (ev.data_size && (ev.data < data || ev.data + ev.data_size > data + size))
			abort();
		secstate_check(ev.data, ev.data_size);
		restore_check(ev.data, ev.data_size);
		migrate_check(ev.data, ev.data_size);
		n++;
		rc = 0;
	}
	if (rc < 0 && p.err.offset > size)
		abort();
	rc = evlog_replay(data, size, &pcrs, &err);
	if (rc == 0 && (int)pcrs.events != n)
		abort();
	if (rc < 0 && err.offset > size)
		abort();
	return 0;
}
