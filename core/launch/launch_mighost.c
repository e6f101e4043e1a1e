/* SPDX-License-Identifier: Apache-2.0 */
/* Each host's evidence across a live migration (launch_mighost.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle_host.h"
#include "attest/producer/attestd.h"
#include "attest/producer/cmd_attest.h"
#include "core/launch/launch_mighost.h"
#include "core/log.h"

static int mighost_dir(const struct launch *l, char *dir, size_t cap)
{
	return snprintf(dir, cap, "%s/%s/attest", ATTESTD_STATE_DIR, l->cfg.name) >= (int)cap ?
	       -ENAMETOOLONG : 0;
}

static int mighost_send_one(struct migchan *ch, struct migwire_seq *seq, const uint8_t *rec,
			    size_t len)
{
	char why[160];
	int rc = migwire_seq_next(seq, true, MIG_HOST, why, sizeof(why));

	if (rc) {
		log_err("migrate: %s", why);
		return rc;
	}
	rc = migchan_send(ch, MIG_HOST, rec, len);
	if (rc)
		log_err("migrate: a host record not sent: %s", migchan_why(ch));
	return rc;
}

/* The records kept from earlier moves: the newest `room` of them (own: 1
 * more), each file read once. */
static int mighost_forward(const char *dir, struct migchan *ch, struct migwire_seq *seq,
			   size_t room)
{
	uint8_t *rec[BUNDLE_MAX_HOPS] = { NULL };
	size_t len[BUNDLE_MAX_HOPS] = { 0 };
	size_t n = 0;
	int rc = 0;

	while (n < BUNDLE_MAX_HOPS && !attest_hop_read(dir, n, &rec[n], &len[n]))
		n++;
	for (size_t i = n > room ? n - room : 0; !rc && i < n; i++)
		rc = mighost_send_one(ch, seq, rec[i], len[i]);
	for (size_t i = 0; i < n; i++)
		free(rec[i]);
	return rc;
}

void launch_mighost_send(const struct launch *l, struct migchan *ch,
			 struct migwire_seq *seq, const uint8_t stream[32])
{
	bool own = l->opt.host_tpm && l->opt.host_dir;
	char dir[4096];
	uint8_t *rec = NULL;
	size_t len = 0;
	int rc = mighost_dir(l, dir, sizeof(dir));

	rc = rc ? rc : mighost_forward(dir, ch, seq, BUNDLE_MAX_HOPS - (own ? 1 : 0));
	if (rc || !own)
		return;
	rc = attest_hop_make(l->opt.host_dir, l->opt.host_tpm, NULL, stream, &rec, &len);
	if (rc) {
		log_err("migrate: no host evidence for the target (%s): %s", l->opt.host_tpm,
			strerror(-rc));
		return;
	}
	if (!mighost_send_one(ch, seq, rec, len))
		log_info("migrate: this host's evidence sent (%zu bytes)", len);
	free(rec);
}

void launch_mighost_receive(const struct launch *l, struct migchan *ch,
			    struct migwire_seq *seq)
{
	uint8_t *buf = malloc(BUNDLE_HOP_WIRE_MAX);
	char dir[4096], why[200];
	size_t n = 0, len = 0;
	uint32_t type;
	int rc = mighost_dir(l, dir, sizeof(dir));

	rc = rc ? rc : attest_hops_clear(dir);
	rc = rc ? rc : buf ? 0 : -ENOMEM;
	while (!rc && n < BUNDLE_MAX_HOPS) {
		rc = migchan_readable(ch, MIGHOST_WAIT_MS);
		if (rc <= 0)
			break;    /* silent: the source has nothing more */
		rc = migchan_recv(ch, &type, buf, BUNDLE_HOP_WIRE_MAX, &len);
		if (rc)
			break;    /* -EPIPE: the source closed, its records all sent */
		rc = migwire_seq_next(seq, true, type, why, sizeof(why));
		rc = rc ? rc : attest_hop_put(dir, n, buf, len, why, sizeof(why));
		if (rc)
			log_err("incoming: a source host record refused: %s", why);
		else
			n++;
	}
	free(buf);
	log_info("incoming: %zu host record(s) of the guest's moves kept in %s", n, dir);
}
