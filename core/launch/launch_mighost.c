/* SPDX-License-Identifier: Apache-2.0 */
/* Each host's evidence across a live migration (launch_mighost.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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

int launch_mighost_forward(const char *dir, struct migchan *ch, struct migwire_seq *seq,
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

	if (!rc && launch_mighost_receiving())
		log_warn("migrate: the records of this guest's previous move are still being "
			 "received: only those kept so far go to the target");
	rc = rc ? rc : launch_mighost_forward(dir, ch, seq, BUNDLE_MAX_HOPS - (own ? 1 : 0));
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

/*
 * The target's receiver: a thread of its own from RUNNING on, so the
 * launcher's loop (the guest's TPM commands, the control and attestation
 * sockets) never waits for a slow or silent source.  It owns the channel,
 * a copy of the stream's sequence and the path of the guest's attestation
 * directory, and touches nothing else of the launcher's; the loop joins it
 * (launch_mighost_reap) and, at the end, stops it (launch_mighost_end).
 */
static struct {
	pthread_t th;
	struct migchan *ch;
	struct migwire_seq seq;
	char dir[4096];
	long long t0;      /* CLOCK_MONOTONIC ms at the start */
	int running;       /* atomic: the thread exists, not joined */
	int stop;          /* atomic: the launcher ends: no more waiting */
	int done;          /* atomic: the thread ended */
} mh;

static long long mighost_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The next record's arrival, in slices (a stop request is seen within one):
 * 1 readable, 0 silent for MIGHOST_WAIT_MS (or stopped), <0 the channel. */
static int mighost_wait(void)
{
	long long end = mighost_now_ms() + MIGHOST_WAIT_MS;
	int rc = 0;

	while (!rc && !__atomic_load_n(&mh.stop, __ATOMIC_ACQUIRE) && mighost_now_ms() < end)
		rc = migchan_readable(mh.ch, MIGHOST_SLICE_MS);
	return rc;
}

static void *mighost_main(void *arg)
{
	uint8_t *buf = malloc(BUNDLE_HOP_WIRE_MAX);
	const char *end = buf ? "the source closed the channel" : "out of memory";
	enum log_level level = buf ? LOG_INFO : LOG_WARN;   /* WARN: a record may be missing */
	char why[200];
	size_t n = 0, len = 0;
	uint32_t type;
	int rc = buf ? 0 : -ENOMEM;

	(void)arg;
	while (!rc && n < BUNDLE_MAX_HOPS) {
		rc = mighost_wait();
		if (rc <= 0) {
			end = !rc ? "the source sent nothing for " MIGHOST_WAIT_TEXT :
			      "the channel failed";
			level = LOG_WARN;
			break;
		}
		rc = migchan_recv(mh.ch, &type, buf, BUNDLE_HOP_WIRE_MAX, &len);
		if (rc)
			break;    /* -EPIPE: the source closed, its records all sent */
		rc = migwire_seq_next(&mh.seq, true, type, why, sizeof(why));
		rc = rc ? rc : attest_hop_put(mh.dir, n, buf, len, why, sizeof(why));
		if (rc) {
			log_err("incoming: a source host record refused: %s", why);
			end = "a record refused";
			level = LOG_WARN;
		} else {
			n++;
		}
	}
	if (n == BUNDLE_MAX_HOPS)
		end = "the most a guest keeps";
	else if (__atomic_load_n(&mh.stop, __ATOMIC_ACQUIRE))
		end = "the launcher stops";
	free(buf);
	log_msg(level, __func__, "incoming: %zu host record(s) of the guest's moves kept in %s, "
		"%lld ms after RUNNING (%s)", n, mh.dir, mighost_now_ms() - mh.t0, end);
	__atomic_store_n(&mh.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void mighost_join(void)
{
	pthread_join(mh.th, NULL);
	migchan_close(mh.ch);
	mh.ch = NULL;
	__atomic_store_n(&mh.running, 0, __ATOMIC_RELEASE);
}

void launch_mighost_receive(const struct launch *l, struct migchan *ch,
			    const struct migwire_seq *seq)
{
	char dir[sizeof(mh.dir)];

	if (mighost_dir(l, dir, sizeof(dir))) {
		log_err("incoming: the source's host records not received: %s",
			strerror(ENAMETOOLONG));
		migchan_close(ch);
		return;
	}
	launch_mighost_receive_at(dir, ch, seq);
}

void launch_mighost_receive_at(const char *dir, struct migchan *ch,
			       const struct migwire_seq *seq)
{
	int rc = snprintf(mh.dir, sizeof(mh.dir), "%s", dir) >= (int)sizeof(mh.dir) ?
		 -ENAMETOOLONG : 0;

	rc = rc ? rc : attest_hops_clear(mh.dir);
	if (!rc) {
		mh.ch = ch;
		mh.seq = *seq;
		mh.t0 = mighost_now_ms();
		mh.stop = mh.done = 0;
		rc = -pthread_create(&mh.th, NULL, mighost_main, NULL);
	}
	if (rc) {
		log_err("incoming: the source's host records not received: %s", strerror(-rc));
		mh.ch = NULL;
		migchan_close(ch);
		return;
	}
	__atomic_store_n(&mh.running, 1, __ATOMIC_RELEASE);
}

bool launch_mighost_receiving(void)
{
	return __atomic_load_n(&mh.running, __ATOMIC_ACQUIRE);
}

void launch_mighost_reap(void)
{
	if (launch_mighost_receiving() && __atomic_load_n(&mh.done, __ATOMIC_ACQUIRE))
		mighost_join();
}

void launch_mighost_end(void)
{
	if (!launch_mighost_receiving())
		return;
	__atomic_store_n(&mh.stop, 1, __ATOMIC_RELEASE);
	/* A record half-way: its read ends now (the fd stays ours until the join). */
	(void)shutdown(migchan_fd(mh.ch), SHUT_RDWR);
	mighost_join();
}
