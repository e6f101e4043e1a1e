/* SPDX-License-Identifier: Apache-2.0 */
/*
 * META and DISKS (core/launch/snapmeta.c): round trips, every prefix of a
 * valid part refused, every length field out of bounds, bytes after the
 * end, unknown flags, NUL inside a string; the disks' identity on real
 * files (size changed, one byte changed with and without a digest); the
 * /snapshot body (core/launch/snapshot_req.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/launch_snapshot.h"
#include "core/launch/snapmeta.h"
#include "core/log.h"

static const char config[] = "{\"name\":\"g1\",\"cpus\":2}";
static const uint8_t evlog[] = { 1, 2, 3, 4, 5 };

static void meta_fill(struct snapmeta *m)
{
	memset(m, 0, sizeof(*m));
	m->nvcpus = 2;
	m->flags = SNAPMETA_F_VTPM;
	m->memory_mib = 256;
	m->time = 1700000000;
	strcpy(m->name, "g1");
	strcpy(m->label, "system_u:system_r:bulwark_vm_t:s0:c1,c2");
	m->config = (const uint8_t *)config;
	m->config_len = sizeof(config) - 1;
	m->log = evlog;
	m->log_len = sizeof(evlog);
}

static void test_meta_round_trip(void **state)
{
	struct snapmeta m, back;
	uint8_t *buf;
	size_t len;

	(void)state;
	meta_fill(&m);
	assert_int_equal(snapmeta_encode(&m, &buf, &len), 0);
	assert_int_equal(snapmeta_decode(buf, len, &back), 0);
	assert_int_equal(back.nvcpus, 2);
	assert_int_equal(back.memory_mib, 256);
	assert_int_equal(back.time, 1700000000);
	assert_int_equal(back.flags, SNAPMETA_F_VTPM);
	assert_string_equal(back.name, "g1");
	assert_string_equal(back.label, m.label);
	assert_int_equal(back.config_len, m.config_len);
	assert_memory_equal(back.config, config, m.config_len);
	assert_int_equal(back.log_len, sizeof(evlog));
	assert_memory_equal(back.log, evlog, sizeof(evlog));
	/* every prefix is refused, and a byte more */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(snapmeta_decode(buf, i, &back), -EBADMSG);
	{
		uint8_t *more = malloc(len + 1);

		memcpy(more, buf, len);
		more[len] = 0;
		assert_int_equal(snapmeta_decode(more, len + 1, &back), -EBADMSG);
		free(more);
	}
	free(buf);
}

/* Each field broken in place: magic, vCPUs 0 and too many, flags, name
 * length 0 and too long, NUL in the name, config empty, log too long. */
static void test_meta_fields(void **state)
{
	struct snapmeta m, back;
	uint8_t *buf;
	size_t len;
	/* offsets: magic 0, nvcpus 8, flags 12, mem 16, time 24, name len 32,
	 * name 36 ("g1") */
	static const struct { size_t off; uint32_t v; } bad[] = {
		{ 0, 0x41414141 }, { 8, 0 }, { 8, SNAPMETA_CPUS_MAX + 1 }, { 12, 2 },
		{ 32, 0 }, { 32, CONFIG_NAME_MAX + 1 }, { 32, 0xffffffff },
	};

	(void)state;
	meta_fill(&m);
	assert_int_equal(snapmeta_encode(&m, &buf, &len), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *c = malloc(len);

		memcpy(c, buf, len);
		memcpy(c + bad[i].off, &bad[i].v, 4);
		assert_int_equal(snapmeta_decode(c, len, &back), -EBADMSG);
		free(c);
	}
	buf[37] = 0;   /* "g\0" */
	assert_int_equal(snapmeta_decode(buf, len, &back), -EBADMSG);
	free(buf);
	/* the encoder refuses what the decoder would */
	meta_fill(&m);
	m.config_len = 0;
	assert_int_equal(snapmeta_encode(&m, &buf, &len), -EINVAL);
	meta_fill(&m);
	m.log_len = SNAPMETA_LOG_MAX + 1;
	assert_int_equal(snapmeta_encode(&m, &buf, &len), -EINVAL);
	meta_fill(&m);
	m.nvcpus = 0;
	assert_int_equal(snapmeta_encode(&m, &buf, &len), -EINVAL);
}

static void test_disks_round_trip(void **state)
{
	struct snapdisks d = { .n = 2 }, back;
	uint8_t *buf;
	size_t len;

	(void)state;
	strcpy(d.d[0].path, "/srv/a.img");
	d.d[0].size = 1 << 20;
	d.d[0].flags = SNAPDISK_F_DIGEST;
	memset(d.d[0].digest, 0x5a, 32);
	strcpy(d.d[1].path, "/srv/b.img");
	d.d[1].size = 4096;
	d.d[1].flags = SNAPDISK_F_READONLY;
	assert_int_equal(snapdisks_encode(&d, &buf, &len), 0);
	assert_int_equal(snapdisks_decode(buf, len, &back), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.d[1].path, "/srv/b.img");
	assert_int_equal(back.d[0].size, 1 << 20);
	assert_memory_equal(back.d[0].digest, d.d[0].digest, 32);
	assert_int_equal(back.d[1].flags, SNAPDISK_F_READONLY);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(snapdisks_decode(buf, i, &back), -EBADMSG);
	buf[8] = CONFIG_MAX_DISKS + 1;       /* count */
	assert_int_equal(snapdisks_decode(buf, len, &back), -EBADMSG);
	buf[8] = 2;
	buf[12] = 1;                         /* reserved */
	assert_int_equal(snapdisks_decode(buf, len, &back), -EBADMSG);
	buf[12] = 0;
	buf[16 + 4 + 10 + 8] = 4;            /* disk 0's flags: unknown bit */
	assert_int_equal(snapdisks_decode(buf, len, &back), -EBADMSG);
	free(buf);
	d.n = 0;
	assert_int_equal(snapdisks_encode(&d, &buf, &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(snapdisks_decode(buf, len, &back), 0);
	free(buf);
}

/* A real file: same, size changed, one byte changed (seen only with a
 * digest). */
static void test_disk_check(void **state)
{
	char path[] = "/tmp/test_snapmeta.XXXXXX", why[256];
	struct snapdisk with = { .flags = SNAPDISK_F_DIGEST }, without = { 0 };
	static uint8_t data[3 << 20];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	memset(data, 0x33, sizeof(data));
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	strcpy(with.path, path);
	strcpy(without.path, path);
	assert_int_equal(snapdisk_measure(fd, true, &with.size, with.digest), 0);
	assert_int_equal(snapdisk_measure(fd, false, &without.size, without.digest), 0);
	assert_int_equal(with.size, sizeof(data));
	assert_int_equal(snapdisk_check(&with, fd, why, sizeof(why)), 0);
	assert_int_equal(pwrite(fd, "x", 1, 2 << 20), 1);
	assert_int_equal(snapdisk_check(&without, fd, why, sizeof(why)), 0);
	assert_int_equal(snapdisk_check(&with, fd, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "SHA-256"));
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(snapdisk_check(&without, fd, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "size 4096"));
	close(fd);
	unlink(path);
}

static void test_request_body(void **state)
{
	struct snapshot_req r;
	char why[128];
	const char *ok = "{\"dir\":\"/srv/s\",\"then\":\"keep\",\"digest_disks\":false}";

	(void)state;
	assert_int_equal(launch_snapshot_parse(ok, strlen(ok), &r, why, sizeof(why)), 0);
	assert_string_equal(r.dir, "/srv/s");
	assert_int_equal(r.then, SNAPSHOT_THEN_KEEP);
	assert_false(r.digest_disks);
	/* a NUL inside the body: the parse must cover every byte */
	assert_int_equal(launch_snapshot_parse("{\"dir\":\"/a\"}\0x", 14, &r, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(launch_snapshot_parse("{\"dir\":\"/a\",\"dir\":\"/b\"}x", 24, &r, why,
					       sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_round_trip),
		cmocka_unit_test(test_meta_fields),
		cmocka_unit_test(test_disks_round_trip),
		cmocka_unit_test(test_disk_check),
		cmocka_unit_test(test_request_body),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
