/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each host's evidence across a move (issue 18 item 4), the launcher's
 * halves without a network: the target's hop records in the guest's
 * attestation directory (attest_hop_put / attest_hops_load: round trip,
 * the BUNDLE_MAX_HOPS bound, a cut, changed or over-size file refused with
 * its reason, no half-written file), the source's forwarding of the
 * records kept from earlier moves (the newest, once each, bounded), and
 * the target's receiver thread (core/launch/launch_mighost.c) over a
 * scripted channel: records stored while the caller goes on, a silent
 * source stopped at once when the launcher ends.
 *
 * The channel (core/launch/migchan.h) is this file's own: a script of
 * frames; the real one is test_migchan's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "attest/format/bundle.h"
#include "attest/format/bundle_host.h"
#include "attest/format/eventlog.h"
#include "attest/producer/cmd_attest.h"
#include "attest/producer/host_quote.h"
#include "core/launch/launch_mighost.h"
#include "core/launch/migchan.h"
#include "core/launch/migwire.h"

/* ---- a scripted channel ----------------------------------------------- */

enum step { S_FRAME, S_SILENT, S_CLOSED };

struct migchan {
	int sp[2];                  /* a real socket for migchan_fd/shutdown */
	enum step script[8];
	const uint8_t *frame[8];
	size_t flen[8];
	size_t n, at;
	uint32_t sent_type[BUNDLE_MAX_HOPS + 2];
	uint8_t sent_first[BUNDLE_MAX_HOPS + 2];   /* a byte of each record's stream */
	size_t nsent;
	int closed;
};

static struct migchan *chan_new(void)
{
	struct migchan *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m->sp), 0);
	return m;
}

static void chan_add(struct migchan *m, enum step s, const uint8_t *p, size_t len)
{
	m->script[m->n] = s;
	m->frame[m->n] = p;
	m->flen[m->n++] = len;
}

int migchan_send(struct migchan *m, uint32_t type, const void *p, size_t n)
{
	assert_true(m->nsent < BUNDLE_MAX_HOPS + 2);
	assert_true(n > 40);
	m->sent_type[m->nsent] = type;
	m->sent_first[m->nsent++] = ((const uint8_t *)p)[8];
	return 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* S_SILENT: nothing, for ever (a source that never sends). */
int migchan_readable(struct migchan *m, int timeout_ms)
{
	if (m->at < m->n && m->script[m->at] == S_SILENT) {
		/* waits like the real one: on the socket, until shut down */
		struct timeval tv = { 0, timeout_ms * 1000 };
		char c;

		setsockopt(m->sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (recv(m->sp[0], &c, 1, 0) == 0)
			return -EPIPE;          /* shut down: the launcher ends */
		return 0;
	}
	return 1;
}

int migchan_recv(struct migchan *m, uint32_t *type, void *buf, size_t max, size_t *len)
{
	*len = 0;
	if (m->at >= m->n || m->script[m->at] == S_CLOSED)
		return -EPIPE;
	assert_true(m->flen[m->at] <= max);
	memcpy(buf, m->frame[m->at], m->flen[m->at]);
	*len = m->flen[m->at++];
	*type = MIG_HOST;
	return 0;
}

int migchan_fd(const struct migchan *m)
{
	return m->sp[0];
}

const char *migchan_why(const struct migchan *m)
{
	(void)m;
	return "scripted";
}

static int chan_closes;

void migchan_close(struct migchan *m)
{
	if (!m)
		return;
	chan_closes++;
	close(m->sp[0]);
	close(m->sp[1]);
	free(m);
}

/* The producer's quote is the host TPM's (test_host_verify); not here. */
int attest_host_open(struct attest_source *s, const char *host_dir, const char *tpm)
{
	(void)s, (void)host_dir, (void)tpm;
	return -ENODEV;
}

void attest_source_close(struct attest_source *s)
{
	(void)s;
}

int host_quote_hop(const struct host_source *src, const uint8_t stream[32],
		   struct bundle_hop *out)
{
	(void)src, (void)stream, (void)out;
	return -ENODEV;
}

/* How often the source read a record file (once each). */
int __real_bundle_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
int __wrap_bundle_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
static int reads;
int __wrap_bundle_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	reads++;
	return __real_bundle_read_file(path, max, buf, len);
}

/* ---- records -------------------------------------------------------------- */

/* A record with small made-up blobs (the codec checks structure only),
 * its stream's bytes all `tag`. */
static uint8_t *rec_make(uint8_t tag, size_t *len)
{
	static uint8_t blob[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct bundle_hop h;
	uint8_t *rec = NULL;

	memset(&h, 0, sizeof(h));
	memset(h.stream_sha256, tag, 32);
	h.host.pcr_alg = EVLOG_ALG_SHA256;
	h.host.attest = (struct bundle_blob){ blob, 3 };
	h.host.signature = (struct bundle_blob){ blob, 4 };
	h.host.ak_public = (struct bundle_blob){ blob, 5 };
	h.host.ima_log = (struct bundle_blob){ blob, 6 };
	h.host.ak.cert = (struct bundle_blob){ blob, 7 };
	h.host.ek.cert = (struct bundle_blob){ blob, 8 };
	assert_int_equal(bundle_hop_encode(&h, &rec, len), 0);
	return rec;
}

static char dir[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_mighost.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static bool exists(const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return !access(p, F_OK);
}

static void file_write(const char *name, const uint8_t *p, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put(size_t i, uint8_t tag)
{
	char why[160] = "";
	size_t len;
	uint8_t *rec = rec_make(tag, &len);

	assert_int_equal(attest_hop_put(dir, i, rec, len, why, sizeof(why)), 0);
	free(rec);
}

static void bundle_hops_free(struct bundle *b)
{
	for (size_t i = 0; i < b->nhops; i++)
		bundle_hop_free(&b->hops[i]);
	b->nhops = 0;
}

/* ---- the target's store ------------------------------------------------ */

static void test_store_round_trip(void **state)
{
	struct bundle b;
	uint8_t *raw = NULL, *rec;
	size_t len, rlen;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(attest_hops_load(dir, &b), 0);      /* none: none */
	assert_int_equal(b.nhops, 0);
	for (size_t i = 0; i < BUNDLE_MAX_HOPS; i++)
		put(i, (uint8_t)(0xa0 + i));
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, BUNDLE_MAX_HOPS);
	for (size_t i = 0; i < BUNDLE_MAX_HOPS; i++) {
		assert_int_equal(b.hops[i].stream_sha256[31], 0xa0 + i);
		assert_int_equal(b.hops[i].host.ak.cert.len, 7);
	}
	bundle_hops_free(&b);
	/* the raw bytes are the record's */
	rec = rec_make(0xa2, &len);
	assert_int_equal(attest_hop_read(dir, 2, &raw, &rlen), 0);
	assert_int_equal(rlen, len);
	assert_memory_equal(raw, rec, len);
	free(raw);
	free(rec);
	assert_int_equal(attest_hop_read(dir, BUNDLE_MAX_HOPS, &raw, &rlen), -ENOENT);
	/* cleared: all of them */
	assert_int_equal(attest_hops_clear(dir), 0);
	for (size_t i = 0; i < BUNDLE_MAX_HOPS; i++)
		assert_int_equal(attest_hop_read(dir, i, &raw, &rlen), -ENOENT);
	assert_int_equal(attest_hops_clear(dir), 0);          /* none left: fine */
}

static void test_store_bound(void **state)
{
	char why[160] = "";
	struct bundle b;
	size_t len;
	uint8_t *rec = rec_make(0x55, &len);

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(attest_hop_put(dir, BUNDLE_MAX_HOPS, rec, len, why, sizeof(why)),
			 -E2BIG);
	assert_non_null(strstr(why, "more than 4 hop records"));
	assert_false(exists("hop-5.bin"));
	/* a fifth file planted: never read */
	for (size_t i = 0; i < BUNDLE_MAX_HOPS; i++)
		put(i, (uint8_t)i);
	file_write("hop-5.bin", rec, len);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, BUNDLE_MAX_HOPS);
	bundle_hops_free(&b);
	/* a gap ends the list: hop-3 alone is not hop-1's follower */
	assert_int_equal(attest_hops_clear(dir), 0);
	put(0, 1);
	put(2, 3);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, 1);
	bundle_hops_free(&b);
	free(rec);
}

/* A refused record stores nothing; a bad file fails the load, its reason
 * said; the records before it are the caller's to free. */
static void test_store_refusals(void **state)
{
	char why[160] = "", path[128];
	struct bundle b;
	size_t len;
	uint8_t *rec = rec_make(0x66, &len);
	int fd;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(attest_hop_put(dir, 0, rec, len - 1, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "cut short"));
	rec[0] = 2;
	assert_int_equal(attest_hop_put(dir, 0, rec, len, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "version"));
	rec[0] = 1;
	assert_false(exists("hop-1.bin"));
	assert_false(exists("hop-1.bin.new"));
	/* cut, changed, over-size files (a host root could leave them) */
	put(0, 1);
	file_write("hop-2.bin", rec, len - 3);
	assert_int_equal(attest_hops_load(dir, &b), -EBADMSG);
	assert_int_equal(b.nhops, 1);
	bundle_hops_free(&b);
	rec[5] = 1;                               /* a reserved word */
	file_write("hop-2.bin", rec, len);
	assert_int_equal(attest_hops_load(dir, &b), -EBADMSG);
	bundle_hops_free(&b);
	snprintf(path, sizeof(path), "%s/hop-2.bin", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)BUNDLE_HOP_WIRE_MAX + 1), 0);
	close(fd);
	assert_int_equal(attest_hops_load(dir, &b), -EFBIG);
	bundle_hops_free(&b);
	/* not a regular file */
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(attest_hops_load(dir, &b) < 0);
	bundle_hops_free(&b);
	rmdir(path);
	free(rec);
}

/* A write that fails half-way (the file size limit) leaves the record
 * before it whole and no temporary file. */
static void test_store_no_half_file(void **state)
{
	struct rlimit old, lim = { 64, 64 };
	char why[160] = "";
	struct bundle b;
	size_t len;
	uint8_t *rec = rec_make(0x77, &len);

	(void)state;
	memset(&b, 0, sizeof(b));
	put(0, 0x11);
	assert_true(len > 64);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_true(attest_hop_put(dir, 0, rec, len, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "not stored"));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_false(exists("hop-1.bin.new"));
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, 1);
	assert_int_equal(b.hops[0].stream_sha256[0], 0x11);  /* the old one, whole */
	bundle_hops_free(&b);
	free(rec);
}

/* ---- the source's forwarding ---------------------------------------------- */

static struct migwire_seq seq_running(void)
{
	struct migwire_seq s = { 0 };

	assert_int_equal(migwire_seq_next(&s, true, MIG_HELLO, NULL, 0), 0);
	assert_int_equal(migwire_seq_next(&s, false, MIG_READY, NULL, 0), 0);
	assert_int_equal(migwire_seq_next(&s, true, MIG_DONE, NULL, 0), 0);
	assert_int_equal(migwire_seq_next(&s, false, MIG_RUNNING, NULL, 0), 0);
	return s;
}

static void test_forward(void **state)
{
	struct migwire_seq s = seq_running();
	struct migchan *m = chan_new();

	(void)state;
	/* none kept: nothing sent */
	assert_int_equal(launch_mighost_forward(dir, m, &s, BUNDLE_MAX_HOPS), 0);
	assert_int_equal(m->nsent, 0);
	/* two kept, room for three: both, oldest first, each read once */
	put(0, 1);
	put(1, 2);
	reads = 0;
	assert_int_equal(launch_mighost_forward(dir, m, &s, BUNDLE_MAX_HOPS - 1), 0);
	assert_int_equal(m->nsent, 2);
	assert_int_equal(reads, 2);
	assert_int_equal(m->sent_type[0], MIG_HOST);
	assert_int_equal(m->sent_first[0], 1);
	assert_int_equal(m->sent_first[1], 2);
	/* four kept, room for three (this host's own is the fourth): the newest three */
	put(2, 3);
	put(3, 4);
	s = seq_running();
	m->nsent = 0;
	reads = 0;
	assert_int_equal(launch_mighost_forward(dir, m, &s, BUNDLE_MAX_HOPS - 1), 0);
	assert_int_equal(m->nsent, 3);
	assert_int_equal(reads, BUNDLE_MAX_HOPS);
	assert_int_equal(m->sent_first[0], 2);
	assert_int_equal(m->sent_first[2], 4);
	/* the order's bound holds too: no fifth HOST on one channel */
	m->nsent = 0;
	assert_int_equal(launch_mighost_forward(dir, m, &s, BUNDLE_MAX_HOPS), -EPROTO);
	assert_int_equal(m->nsent, 1);
	migchan_close(m);
}

/* ---- the target's receiver thread ----------------------------------------- */

static void wait_done(long long max_ms)
{
	long long end = now_ms() + max_ms;

	while (launch_mighost_receiving() && now_ms() < end) {
		launch_mighost_reap();
		usleep(1000);
	}
	assert_false(launch_mighost_receiving());
}

static void test_receive(void **state)
{
	struct migwire_seq s = seq_running();
	struct migchan *m = chan_new();
	struct bundle b;
	size_t l1, l2, l3;
	uint8_t *r1 = rec_make(1, &l1), *r2 = rec_make(2, &l2), *r3 = rec_make(3, &l3);
	uint8_t bad[8] = { 1 };

	(void)state;
	memset(&b, 0, sizeof(b));
	put(3, 9);                               /* a stale record of an old move goes */
	chan_add(m, S_FRAME, r1, l1);
	chan_add(m, S_FRAME, r2, l2);
	chan_add(m, S_CLOSED, NULL, 0);
	chan_closes = 0;
	launch_mighost_receive_at(dir, m, &s);
	assert_false(exists("hop-4.bin"));
	wait_done(5000);
	assert_int_equal(chan_closes, 1);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, 2);
	assert_int_equal(b.hops[1].stream_sha256[0], 2);
	bundle_hops_free(&b);
	/* a record refused: not stored, and the source heard no further */
	m = chan_new();
	s = seq_running();
	chan_add(m, S_FRAME, r1, l1);
	chan_add(m, S_FRAME, bad, sizeof(bad));
	chan_add(m, S_FRAME, r2, l2);
	launch_mighost_receive_at(dir, m, &s);
	wait_done(5000);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, 1);
	bundle_hops_free(&b);
	/* more than the bound: four kept, the fifth never read */
	m = chan_new();
	s = seq_running();
	for (int i = 0; i < 5; i++)
		chan_add(m, S_FRAME, i == 4 ? r3 : r1, l1);
	launch_mighost_receive_at(dir, m, &s);
	wait_done(5000);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, BUNDLE_MAX_HOPS);
	bundle_hops_free(&b);
	free(r1);
	free(r2);
	free(r3);
}

/* A silent source: the caller goes on at once; the launcher's end stops
 * the wait within a slice, not after MIGHOST_WAIT_MS. */
static void test_receive_silent(void **state)
{
	struct migwire_seq s = seq_running();
	struct migchan *m = chan_new();
	struct bundle b;
	size_t l1;
	uint8_t *r1 = rec_make(1, &l1);
	long long t0;

	(void)state;
	memset(&b, 0, sizeof(b));
	chan_add(m, S_FRAME, r1, l1);
	chan_add(m, S_SILENT, NULL, 0);
	chan_closes = 0;
	t0 = now_ms();
	launch_mighost_receive_at(dir, m, &s);
	assert_true(now_ms() - t0 < 100);         /* the caller (the loop) did not wait */
	while (!exists("hop-1.bin") && now_ms() - t0 < 5000)
		usleep(1000);
	usleep(3 * MIGHOST_SLICE_MS * 1000);
	launch_mighost_reap();
	assert_true(launch_mighost_receiving());  /* still waiting for a second */
	t0 = now_ms();
	launch_mighost_end();
	assert_true(now_ms() - t0 < 2 * MIGHOST_SLICE_MS);
	assert_false(launch_mighost_receiving());
	assert_int_equal(chan_closes, 1);
	assert_int_equal(attest_hops_load(dir, &b), 0);
	assert_int_equal(b.nhops, 1);
	bundle_hops_free(&b);
	launch_mighost_end();                     /* again: nothing */
	free(r1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_round_trip, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_store_bound, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_store_refusals, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_store_no_half_file, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_forward, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_receive, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_receive_silent, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
