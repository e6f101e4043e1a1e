/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/virtio_blk: the --disk option, and requests against a real temporary
 * image file: data lands on the file, reads come back, the end of the disk,
 * readonly disks, flush, get-id, discard, and malformed chains.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/util.h"
#include "core/devopts.h"
#include "core/vmm/virtio_blk.h"

#define DISK_SECTORS 64
#define DISK_BYTES   (DISK_SECTORS * 512)

struct t {
	char path[64];
	int fd;          /* the test's own view of the image */
	void *dev;
	struct virtq q;
	struct virtq_chain c;
	uint8_t hdr[16];
	uint8_t data[4096];
	uint8_t status;
};

/* A chain: header, then DATA_LEN bytes (readable for OUT), then status. */
static void build(struct t *t, uint32_t type, uint64_t sector, size_t data_len,
		  bool data_writable)
{
	memset(&t->c, 0, sizeof(t->c));
	memcpy(t->hdr, &type, 4);
	memset(t->hdr + 4, 0, 4);
	memcpy(t->hdr + 8, &sector, 8);
	t->c.iov[0] = (struct iovec){ t->hdr, 16 };
	t->c.n_out = 1;
	t->c.out_len = 16;
	if (data_len && !data_writable) {
		t->c.iov[1] = (struct iovec){ t->data, data_len };
		t->c.n_out = 2;
		t->c.out_len += data_len;
	}
	if (data_len && data_writable) {
		t->c.iov[t->c.n_out + t->c.n_in++] = (struct iovec){ t->data, data_len };
		t->c.in_len = data_len;
	}
	t->c.iov[t->c.n_out + t->c.n_in++] = (struct iovec){ &t->status, 1 };
	t->c.in_len += 1;
	t->status = 0xee;
}

static int run(struct t *t, uint32_t *written)
{
	return virtio_blk_request(t->dev, &t->q, &t->c, written);
}

static int open_disk(struct t *t, bool readonly, const char *serial)
{
	int fd = open(t->path, readonly ? O_RDONLY : O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(virtio_blk_create(fd, readonly, serial, &t->dev), 0);
	virtq_init(&t->q, 256, "blk.test");
	virtio_blk_ops.activate(t->dev, virtio_blk_ops.features(t->dev));
	return 0;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	uint8_t pattern[DISK_BYTES];

	assert_non_null(t);
	snprintf(t->path, sizeof(t->path), "/tmp/test_virtio_blk.XXXXXX");
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(pwrite(t->fd, pattern, sizeof(pattern), 0), sizeof(pattern));
	*state = t;
	return 0;
}

static int setup_rw(void **state)
{
	setup(state);
	return open_disk(*state, false, "disk-01");
}

static int setup_ro(void **state)
{
	setup(state);
	return open_disk(*state, true, NULL);
}

static int teardown(void **state)
{
	struct t *t = *state;

	virtio_blk_ops.destroy(t->dev);
	close(t->fd);
	unlink(t->path);
	free(t);
	return 0;
}

static void test_parse_opts(void **state)
{
	struct disk_opts o;

	(void)state;
	assert_int_equal(devopts_disk_parse("/a/b.img", &o, "--disk"), 0);
	assert_string_equal(o.path, "/a/b.img");
	assert_false(o.readonly);
	assert_string_equal(o.serial, "");
	assert_int_equal(devopts_disk_parse("x.img,readonly,serial=AB-1.2_z", &o,
					       "--disk"), 0);
	assert_string_equal(o.path, "x.img");
	assert_true(o.readonly);
	assert_string_equal(o.serial, "AB-1.2_z");
	assert_int_equal(devopts_disk_parse("x,serial=01234567890123456789", &o,
					       "--disk"), 0);
	assert_int_equal(devopts_disk_parse("x,serial=012345678901234567890", &o,
					       "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse("x,serial=a b", &o, "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse("x,serial=", &o, "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse("x,ro", &o, "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse("x,", &o, "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse(",readonly", &o, "--disk"), -EINVAL);
	assert_int_equal(devopts_disk_parse("", &o, "--disk"), -EINVAL);
}

static void test_write_then_read(void **state)
{
	struct t *t = *state;
	uint8_t back[1024];
	uint32_t w;

	for (size_t i = 0; i < 1024; i++)
		t->data[i] = (uint8_t)(0xa5 ^ i);
	build(t, VIRTIO_BLK_T_OUT, 3, 1024, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_int_equal(w, 1);
	assert_int_equal(pread(t->fd, back, sizeof(back), 3 * 512), sizeof(back));
	assert_memory_equal(back, t->data, sizeof(back));

	memset(t->data, 0, sizeof(t->data));
	build(t, VIRTIO_BLK_T_IN, 3, 1024, true);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_int_equal(w, 1025);
	assert_memory_equal(back, t->data, sizeof(back));
}

static void test_past_the_end(void **state)
{
	struct t *t = *state;
	uint8_t before[DISK_BYTES], after[DISK_BYTES];
	static const uint64_t sectors[] = { DISK_SECTORS - 1, DISK_SECTORS,
					    UINT64_MAX, UINT64_MAX >> 9 };
	uint32_t w;

	assert_int_equal(pread(t->fd, before, sizeof(before), 0), sizeof(before));
	for (size_t i = 0; i < ARRAY_SIZE(sectors); i++) {
		build(t, VIRTIO_BLK_T_OUT, sectors[i], 1024, false);
		assert_int_equal(run(t, &w), 0);
		assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
		build(t, VIRTIO_BLK_T_IN, sectors[i], 1024, true);
		assert_int_equal(run(t, &w), 0);
		assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
		assert_int_equal(w, 1);
	}
	/* The last whole sector is fine. */
	build(t, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, true);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, after, sizeof(after), 0), sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
}

static void test_partial_sector(void **state)
{
	struct t *t = *state;
	uint32_t w;

	build(t, VIRTIO_BLK_T_OUT, 0, 100, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
}

static void test_flush_get_id_unknown(void **state)
{
	struct t *t = *state;
	uint32_t w;

	build(t, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	build(t, VIRTIO_BLK_T_GET_ID, 0, 20, true);
	memset(t->data, 'X', 20);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_int_equal(w, 21);
	assert_memory_equal(t->data, "disk-01\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	build(t, 0x1234, 0, 0, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_UNSUPP);
}

static void test_discard(void **state)
{
	struct t *t = *state;
	uint64_t f = virtio_blk_ops.features(t->dev);
	struct { uint64_t sector; uint32_t num, flags; } seg = { 2, 2, 0 };
	uint8_t back[1024], zero[1024] = { 0 };
	uint32_t w;

	if (!(f & (1ULL << VIRTIO_BLK_F_DISCARD)))
		skip();   /* the file system under /tmp cannot punch holes */
	build(t, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), false);
	memcpy(t->data, &seg, sizeof(seg));
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_int_equal(pread(t->fd, back, sizeof(back), 2 * 512), sizeof(back));
	assert_memory_equal(back, zero, sizeof(back));
	/* Unknown flags, past the end, not negotiated. */
	seg.flags = 1;
	memcpy(t->data, &seg, sizeof(seg));
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_UNSUPP);
	seg = (typeof(seg)){ DISK_SECTORS - 1, 2, 0 };
	memcpy(t->data, &seg, sizeof(seg));
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
	virtio_blk_ops.activate(t->dev, 0);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_UNSUPP);
}

static void test_readonly(void **state)
{
	struct t *t = *state;
	uint64_t f = virtio_blk_ops.features(t->dev);
	uint8_t before[1024], after[1024];
	uint32_t w;

	assert_true(f & (1ULL << VIRTIO_BLK_F_RO));
	assert_false(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_false(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_int_equal(pread(t->fd, before, sizeof(before), 0), sizeof(before));
	memset(t->data, 0x11, 1024);
	build(t, VIRTIO_BLK_T_OUT, 0, 1024, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
	build(t, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(t->fd, after, sizeof(after), 0), sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
	build(t, VIRTIO_BLK_T_IN, 0, 1024, true);
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->status, VIRTIO_BLK_S_OK);
	assert_memory_equal(before, t->data, sizeof(before));
}

static void test_malformed_chains(void **state)
{
	struct t *t = *state;
	uint32_t w;

	build(t, VIRTIO_BLK_T_IN, 0, 512, true);
	t->c.iov[0].iov_len = 15;          /* short header */
	t->c.out_len = 15;
	assert_int_equal(run(t, &w), -EINVAL);
	assert_true(t->q.broken);
	virtq_reset(&t->q);
	build(t, VIRTIO_BLK_T_OUT, 0, 512, false);
	t->c.n_in = 0;                     /* no status byte */
	t->c.in_len = 0;
	assert_int_equal(run(t, &w), -EINVAL);
	assert_true(t->q.broken);
}

static void test_create_checks_fd(void **state)
{
	struct t *t = *state;
	int ro = open(t->path, O_RDONLY), dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	void *dev;

	assert_true(ro >= 0 && dir >= 0);
	assert_int_equal(virtio_blk_create(ro, false, NULL, &dev), -EBADF);
	assert_int_equal(virtio_blk_create(dir, true, NULL, &dev), -EINVAL);
	assert_int_equal(virtio_blk_create(-1, true, NULL, &dev), -EBADF);
	close(ro);
	close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_opts),
		cmocka_unit_test_setup_teardown(test_write_then_read, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_past_the_end, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_partial_sector, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_flush_get_id_unknown, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_discard, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_chains, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_create_checks_fd, setup_rw, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
