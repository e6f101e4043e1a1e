/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/virtio_queue: split rings built by hand in a fake guest memory, the
 * good ones and the hostile ones (loops, out-of-range addresses and indices,
 * zero and huge lengths, index jumps, size changes after activation).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "core/vmm/virtio_queue.h"

#define LOW_SIZE  0x10000ULL     /* guest [0, 64 KiB) */
#define HIGH_SIZE 0x4000ULL      /* guest [4 GiB, 4 GiB + 16 KiB) */
#define QSIZE     8
#define DESC_GPA  0x1000ULL
#define AVAIL_GPA 0x2000ULL
#define USED_GPA  0x3000ULL
#define DATA_GPA  0x8000ULL

struct fake {
	uint8_t *ram;
	struct gmem m;
	struct virtq q;
	struct virtq_chain c;
};

static struct virtq_desc *desc(struct fake *f)
{
	return (struct virtq_desc *)(void *)(f->ram + DESC_GPA);
}

static struct virtq_avail *avail(struct fake *f)
{
	return (struct virtq_avail *)(void *)(f->ram + AVAIL_GPA);
}

static struct virtq_used *used(struct fake *f)
{
	return (struct virtq_used *)(void *)(f->ram + USED_GPA);
}

static void set_desc(struct fake *f, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	desc(f)[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Make HEAD available as the next ring entry. */
static void offer(struct fake *f, uint16_t head)
{
	struct virtq_avail *a = avail(f);

	a->ring[a->idx % QSIZE] = head;
	a->idx++;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram = calloc(1, LOW_SIZE + HIGH_SIZE);
	assert_non_null(f->ram);
	f->m = (struct gmem){ f->ram, LOW_SIZE, HIGH_SIZE, NULL };
	virtq_init(&f->q, QSIZE, "test.q0");
	f->q.size = QSIZE;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	assert_int_equal(virtq_activate(&f->q, &f->m), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static void test_gmem_bounds(void **state)
{
	struct fake *f = *state;

	assert_ptr_equal(gmem_ptr(&f->m, 0, LOW_SIZE), f->ram);
	assert_null(gmem_ptr(&f->m, 1, LOW_SIZE));
	assert_null(gmem_ptr(&f->m, LOW_SIZE, 1));              /* the hole */
	assert_ptr_equal(gmem_ptr(&f->m, LOW_SIZE, 0), f->ram + LOW_SIZE);
	assert_ptr_equal(gmem_ptr(&f->m, GMEM_HIGH_START + 16, 16),
			 f->ram + LOW_SIZE + 16);
	assert_null(gmem_ptr(&f->m, GMEM_HIGH_START + HIGH_SIZE - 1, 2));
	assert_null(gmem_ptr(&f->m, GMEM_HIGH_START - 1, 2));   /* straddles */
	assert_null(gmem_ptr(&f->m, UINT64_MAX - 4, 16));       /* wraps */
	assert_null(gmem_ptr(&f->m, 16, UINT64_MAX));
}

static void test_good_chain(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 3);
	set_desc(f, 3, GMEM_HIGH_START + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	set_desc(f, 5, DATA_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 2);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 513);
	assert_ptr_equal(f->c.iov[0].iov_base, f->ram + DATA_GPA);
	assert_ptr_equal(f->c.iov[1].iov_base, f->ram + LOW_SIZE + 0x100);
	assert_ptr_equal(f->c.iov[2].iov_base, f->ram + DATA_GPA + 0x400);
	/* Nothing more until the driver offers more. */
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 0);
	virtq_push(&f->q, &f->c, 77);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].id, 0);
	assert_int_equal(used(f)->ring[0].len, 77);
	assert_false(f->q.broken);
}

/* Live migration: a push marks the chain's writable buffers and the used
 * ring in the dirty bitmap, never its readable ones. */
static void test_push_marks_dirty(void **state)
{
	struct fake *f = *state;
	uint64_t pages = (LOW_SIZE + HIGH_SIZE) / 4096;
	_Atomic uint64_t bits[1];
	struct gmem_dirty d = { bits, f->ram, pages };

	static_assert((LOW_SIZE + HIGH_SIZE) / 4096 <= 64, "one word");
	memset(bits, 0, sizeof(bits));
	f->m.dirty = &d;
	virtq_reset(&f->q);
	f->q.size = QSIZE;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	assert_int_equal(virtq_activate(&f->q, &f->m), 0);
	set_desc(f, 0, DATA_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, GMEM_HIGH_START + 0x1ff0, 32, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(f, 2, DATA_GPA + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(atomic_load(&bits[0]), 0);    /* popping writes nothing */
	virtq_push(&f->q, &f->c, 33);
	for (uint64_t p = 0; p < pages; p++) {
		int want = p == USED_GPA / 4096 || p == (DATA_GPA + 0x2000) / 4096 ||
			   p == (LOW_SIZE + 0x1000) / 4096 || p == (LOW_SIZE + 0x2000) / 4096;

		assert_int_equal(!!(atomic_load(&bits[p / 64]) & (1ULL << (p % 64))), want);
	}
	f->m.dirty = NULL;
}

static void expect_broken(struct fake *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), -EINVAL);
	assert_true(f->q.broken);
	/* Stays broken: nothing more is read from the ring until reset. */
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), -EIO);
	assert_int_equal(used(f)->idx, 0);
}

static void test_loop_two(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_loop_self(void **state)
{
	struct fake *f = *state;

	set_desc(f, 2, DATA_GPA, 0, VIRTQ_DESC_F_NEXT, 2);  /* zero length too */
	offer(f, 2);
	expect_broken(f);
}

static void test_chain_of_queue_size(void **state)
{
	struct fake *f = *state;

	/* Exactly QSIZE descriptors without a loop is the longest legal chain. */
	for (uint16_t i = 0; i < QSIZE; i++)
		set_desc(f, i, DATA_GPA + 64ULL * i, 64,
			 i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(f->c.n_out, QSIZE);
	assert_int_equal(f->c.out_len, 64 * QSIZE);
}

static void test_next_out_of_range(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	offer(f, 0);
	expect_broken(f);
}

static void test_head_out_of_range(void **state)
{
	struct fake *f = *state;

	offer(f, 0xffff);
	expect_broken(f);
}

static void test_addr_past_ram(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, LOW_SIZE - 8, 16, 0, 0);   /* straddles the end of low RAM */
	offer(f, 0);
	expect_broken(f);
}

static void test_addr_wraps(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, UINT64_MAX - 7, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_huge_len(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_zero_len_skipped(void **state)
{
	struct fake *f = *state;

	/* A zero-length buffer is never dereferenced, even at a wild address. */
	set_desc(f, 0, UINT64_MAX, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(f->c.n_out, 0);
	assert_int_equal(f->c.n_in, 1);
	assert_int_equal(f->c.in_len, 4);
}

static void test_read_after_write(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_indirect_refused(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	expect_broken(f);
}

static void test_avail_jump(void **state)
{
	struct fake *f = *state;

	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	avail(f)->idx = QSIZE + 1;
	expect_broken(f);
}

static void test_avail_full_ring_ok(void **state)
{
	struct fake *f = *state;
	int n = 0;

	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	for (int i = 0; i < QSIZE; i++)
		offer(f, 0);
	while (virtq_pop(&f->q, &f->m, &f->c) == 1)
		n++;
	assert_int_equal(n, QSIZE);
	assert_false(f->q.broken);
}

static void test_avail_idx_wraps(void **state)
{
	struct fake *f = *state;

	/* Free-running 16-bit indices: 0xffff -> 0x0001 is two entries. */
	f->q.last_avail = 0xffff;
	avail(f)->idx = 0x0001;
	avail(f)->ring[0xffff % QSIZE] = 0;
	avail(f)->ring[0] = 0;
	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 0);
}

static void test_activate_rejects(void **state)
{
	struct fake *f = *state;
	static const struct { uint16_t size; uint64_t d, a, u; } bad[] = {
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA },          /* size 0 */
		{ 6, DESC_GPA, AVAIL_GPA, USED_GPA },          /* not a power of two */
		{ 2 * QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA },  /* above the maximum */
		{ QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA },  /* misaligned */
		{ QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
		{ QSIZE, LOW_SIZE - 16, AVAIL_GPA, USED_GPA }, /* ring past RAM */
		{ QSIZE, DESC_GPA, LOW_SIZE - 8, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, GMEM_HIGH_START + HIGH_SIZE - 16 },
		{ QSIZE, UINT64_MAX - 15, AVAIL_GPA, USED_GPA },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		virtq_reset(&f->q);
		f->q.size = bad[i].size;
		f->q.desc_gpa = bad[i].d;
		f->q.avail_gpa = bad[i].a;
		f->q.used_gpa = bad[i].u;
		assert_int_equal(virtq_activate(&f->q, &f->m), -EINVAL);
		assert_false(f->q.active);
		assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), -EIO);
	}
	/* Counted across resets: only the first one was logged. */
	assert_int_equal(f->q.violations, ARRAY_SIZE(bad));
}

static void test_size_change_after_activation(void **state)
{
	struct fake *f = *state;

	/* A driver rewriting the programmed size cannot widen the live ring. */
	f->q.size = 256;
	f->q.desc_gpa = 0;
	set_desc(f, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, QSIZE + 1);
	offer(f, 0);
	expect_broken(f);
	assert_int_equal(f->q.num, QSIZE);
}

static void test_reset_recovers(void **state)
{
	struct fake *f = *state;

	offer(f, 0xffff);
	expect_broken(f);
	virtq_reset(&f->q);
	memset(f->ram, 0, LOW_SIZE);
	f->q.size = QSIZE;
	f->q.desc_gpa = DESC_GPA;
	f->q.avail_gpa = AVAIL_GPA;
	f->q.used_gpa = USED_GPA;
	assert_int_equal(virtq_activate(&f->q, &f->m), 0);
	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(f->q.violations, 1);
}

static void test_interrupt_suppression(void **state)
{
	struct fake *f = *state;

	assert_true(virtq_want_interrupt(&f->q));
	avail(f)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtq_want_interrupt(&f->q));
}

static void test_chain_copy_bounds(void **state)
{
	struct fake *f = *state;
	uint8_t buf[32];

	memset(f->ram + DATA_GPA, 0xab, 10);
	memset(f->ram + DATA_GPA + 0x100, 0xcd, 10);
	set_desc(f, 0, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 0x100, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x200, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->m, &f->c), 1);
	assert_int_equal(virtq_chain_read(&f->c, 8, buf, 4), 0);   /* spans two */
	assert_int_equal(buf[1], 0xab);
	assert_int_equal(buf[2], 0xcd);
	assert_int_equal(virtq_chain_read(&f->c, 17, buf, 4), -EINVAL);
	assert_int_equal(virtq_chain_write(&f->c, 2, "xy", 2), 0);
	assert_memory_equal(f->ram + DATA_GPA + 0x202, "xy", 2);
	assert_int_equal(virtq_chain_write(&f->c, 3, "xy", 2), -EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_gmem_bounds),
		T(test_good_chain),
		T(test_push_marks_dirty),
		T(test_loop_two),
		T(test_loop_self),
		T(test_chain_of_queue_size),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_addr_past_ram),
		T(test_addr_wraps),
		T(test_huge_len),
		T(test_zero_len_skipped),
		T(test_read_after_write),
		T(test_indirect_refused),
		T(test_avail_jump),
		T(test_avail_full_ring_ok),
		T(test_avail_idx_wraps),
		T(test_activate_rejects),
		T(test_size_change_after_activation),
		T(test_reset_recovers),
		T(test_interrupt_suppression),
		T(test_chain_copy_bounds),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
