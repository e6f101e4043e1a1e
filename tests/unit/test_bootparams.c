/* SPDX-License-Identifier: Apache-2.0 */
/* bzImage header validation, guest placement, e820 map and zero page. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bootparams.h"
#include "core/layout.h"

#define KSIZE (64 * 1024)
#define MIB (1ULL << 20)

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A minimal well-formed bzImage header: 4 setup sectors + 1 boot sector. */
static uint8_t *make_kernel(size_t len, uint8_t setup_sects)
{
	uint8_t *k = calloc(1, len);
	size_t setup = (size_t)((setup_sects ? setup_sects : 4) + 1) * 512;

	assert_non_null(k);
	k[0x1f1] = setup_sects;
	put16(k + 0x1fe, 0xaa55);
	k[0x200] = 0xeb;
	k[0x201] = 0x6a;                        /* header ends at 0x26c */
	memcpy(k + 0x202, "HdrS", 4);
	put16(k + 0x206, 0x020f);
	k[0x211] = 0x01;                        /* LOADED_HIGH */
	put32(k + 0x22c, 0x7fffffff);           /* initrd_addr_max */
	put32(k + 0x230, 0x200000);             /* kernel_alignment */
	k[0x234] = 1;                           /* relocatable */
	put16(k + 0x236, 0x1);                  /* XLF_KERNEL_64 */
	put32(k + 0x238, 2047);                 /* cmdline_size */
	put64(k + 0x258, 0x1000000);            /* pref_address */
	put32(k + 0x260, 8 * MIB);              /* init_size */
	if (len > setup)
		put32(k + 0x1f4, (uint32_t)((len - setup + 15) / 16));
	return k;
}

static void test_parse_valid(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	(void)state;
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), 0);
	assert_int_equal(bz.setup_size, 5 * 512);
	assert_int_equal(bz.kernel_offset, 5 * 512);
	assert_int_equal(bz.kernel_size, KSIZE - 5 * 512);
	assert_int_equal(bz.hdr.version, 0x020f);
	assert_int_equal(bz.hdr.pref_address, 0x1000000);
	free(k);
}

static void test_parse_setup_sects_zero_means_four(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 0);
	struct bzimage_info bz;

	(void)state;
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), 0);
	assert_int_equal(bz.hdr.setup_sects, 4);
	assert_int_equal(bz.setup_size, 5 * 512);
	free(k);
}

static void test_parse_bad_magic(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	(void)state;
	memcpy(k + 0x202, "HdrX", 4);
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
	memcpy(k + 0x202, "HdrS", 4);
	put16(k + 0x1fe, 0x55aa);
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
	free(k);
}

static void test_parse_every_truncation(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	(void)state;
	/* Every prefix up to the header's end, and any prefix shorter than
	 * syssize says, is refused; each copy is exactly LEN bytes (ASan). */
	for (size_t len = 0; len < KSIZE - 16; len += (len < 0x400 ? 1 : 509)) {
		uint8_t *t = malloc(len ? len : 1);

		memcpy(t, k, len);
		assert_int_not_equal(bzimage_parse(t, len, &bz), 0);
		free(t);
	}
	free(k);
}

static void test_parse_huge_setup_sects(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	(void)state;
	k[0x1f1] = 255;                 /* setup would end at 128 KiB > 64 KiB */
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
	free(k);
}

static void test_parse_flags(void **state)
{
	static const struct { size_t off; uint8_t val; } bad[] = {
		{ 0x207, 0x01 },        /* version 1.x */
		{ 0x206, 0x0b },        /* 2.11: no 64-bit entry in the protocol */
		{ 0x211, 0x00 },        /* zImage */
		{ 0x234, 0x00 },        /* not relocatable */
		{ 0x236, 0x00 },        /* no XLF_KERNEL_64 */
		{ 0x232, 0x00 },        /* kernel_alignment 0 */
		{ 0x231, 0x30 },        /* kernel_alignment not a power of two */
	};
	struct bzimage_info bz;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *k = make_kernel(KSIZE, 4);

		k[bad[i].off] = bad[i].val;
		assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
		free(k);
	}
}

static void test_parse_syssize_past_end(void **state)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	(void)state;
	put32(k + 0x1f4, KSIZE / 16);           /* more than the file holds */
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
	put32(k + 0x1f4, 0);
	assert_int_equal(bzimage_parse(k, KSIZE, &bz), -ENOEXEC);
	free(k);
}

static struct bzimage_info parsed(void)
{
	uint8_t *k = make_kernel(KSIZE, 4);
	struct bzimage_info bz;

	assert_int_equal(bzimage_parse(k, KSIZE, &bz), 0);
	free(k);
	return bz;
}

static void test_place_kernel_initrd_cmdline(void **state)
{
	struct bzimage_info bz = parsed();
	struct boot_layout lay;

	(void)state;
	assert_int_equal(bootparams_place(&bz, 256 * MIB, 5 * MIB + 123, 30, &lay), 0);
	assert_int_equal(lay.kernel_addr, 0x1000000);     /* pref_address */
	assert_int_equal(lay.kernel_end, 0x1000000 + 8 * MIB);
	assert_int_equal(lay.entry, 0x1000200);
	assert_int_equal(lay.cmdline_size, 31);
	/* The initrd ends at the top of RAM, page aligned, above the kernel. */
	assert_int_equal(lay.initrd_addr & 0xfff, 0);
	assert_true(lay.initrd_addr + lay.initrd_size <= 256 * MIB);
	assert_true(256 * MIB - (lay.initrd_addr + lay.initrd_size) < 4096);
	assert_true(lay.initrd_addr >= lay.kernel_end);
}

static void test_place_initrd_addr_max(void **state)
{
	struct bzimage_info bz = parsed();
	struct boot_layout lay;

	(void)state;
	bz.hdr.initrd_addr_max = 0x37ffffff;             /* old kernels: 896 MiB */
	assert_int_equal(bootparams_place(&bz, 2048 * MIB, 10 * MIB, 0, &lay), 0);
	assert_true(lay.initrd_addr + lay.initrd_size <= 0x38000000);
	/* With 8 GiB the initrd still stays below the 32-bit hole. */
	bz.hdr.initrd_addr_max = 0x7fffffff;
	assert_int_equal(bootparams_place(&bz, 8192 * MIB, 10 * MIB, 0, &lay), 0);
	assert_true(lay.initrd_addr + lay.initrd_size <= 0x80000000);
}

static void test_place_refusals(void **state)
{
	struct bzimage_info bz = parsed();
	struct boot_layout lay;

	(void)state;
	/* An initrd that does not fit between the kernel and the top of RAM. */
	assert_int_equal(bootparams_place(&bz, 64 * MIB, 40 * MIB, 0, &lay), 0);
	assert_int_equal(bootparams_place(&bz, 64 * MIB, 41 * MIB, 0, &lay), -E2BIG);
	assert_int_equal(bootparams_place(&bz, 64 * MIB, 64 * MIB, 0, &lay), -E2BIG);
	/* A command line over the kernel's cmdline_size (2047). */
	assert_int_equal(bootparams_place(&bz, 256 * MIB, 0, 2048, &lay), -E2BIG);
	assert_int_equal(bootparams_place(&bz, 256 * MIB, 0, 2047, &lay), 0);
	/* A kernel whose init_size does not fit. */
	bz.hdr.init_size = 1u << 30;
	assert_int_equal(bootparams_place(&bz, 256 * MIB, 0, 0, &lay), -E2BIG);
}

static void check_e820_sane(const struct e820_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		assert_true(e[i].size > 0);
		if (i)
			assert_true(e[i - 1].addr + e[i - 1].size <= e[i].addr);
		/* No RAM in the legacy hole or the 32-bit MMIO hole. */
		if (e[i].type == E820_RAM) {
			assert_false(e[i].addr < 0x100000 &&
				     e[i].addr + e[i].size > GUEST_LOWMEM_END);
			assert_false(e[i].addr < GUEST_4G &&
				     e[i].addr + e[i].size > GUEST_MMIO_HOLE);
		}
	}
}

static uint64_t e820_ram(const struct e820_entry *e, int n)
{
	uint64_t ram = 0;

	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			ram += e[i].size;
	return ram;
}

static void test_e820_small_and_large(void **state)
{
	struct e820_entry e[E820_MAX];
	int n;

	(void)state;
	n = e820_build(256 * MIB, e, E820_MAX);
	assert_int_equal(n, 4);
	check_e820_sane(e, n);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, GUEST_LOWMEM_END);
	assert_int_equal(e[1].type, E820_RESERVED);      /* ACPI tables, BIOS area */
	assert_int_equal(e[1].addr, GUEST_ACPI_ADDR);
	assert_int_equal(e[2].addr + e[2].size, 256 * MIB);
	assert_int_equal(e[3].addr, GUEST_ECAM_ADDR);     /* MCFG region reserved */
	assert_int_equal(e[3].type, E820_RESERVED);
	/* RAM lost: only the 0xA0000-0xFFFFF hole. */
	assert_int_equal(e820_ram(e, n), 256 * MIB - (0x100000 - GUEST_LOWMEM_END));

	n = e820_build(8192 * MIB, e, E820_MAX);
	assert_int_equal(n, 5);
	check_e820_sane(e, n);
	assert_int_equal(e[4].addr, GUEST_4G);
	assert_int_equal(e[4].size, 8192 * MIB - GUEST_MMIO_HOLE);
	assert_int_equal(e820_ram(e, n), 8192 * MIB - (0x100000 - GUEST_LOWMEM_END));
	assert_int_equal(e820_build(256 * MIB, e, 3), -ENOSPC);
}

static void test_zero_page(void **state)
{
	struct bzimage_info bz = parsed();
	struct boot_layout lay;
	struct boot_params *bp = malloc(sizeof(*bp));

	(void)state;
	assert_int_equal(bootparams_place(&bz, 256 * MIB, 1 * MIB, 12, &lay), 0);
	assert_int_equal(bootparams_build(&bz, &lay, 256 * MIB, 0xe0000, bp), 0);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, SETUP_MAGIC);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, GUEST_CMDLINE_ADDR);
	assert_int_equal(bp->hdr.ramdisk_image, lay.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, 1 * MIB);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0xe0000);
	assert_int_equal(bp->e820_entries, 4);
	assert_int_equal(bp->e820_table[2].addr, 0x100000);
	/* Byte-level check of the layout the kernel reads. */
	assert_int_equal(((uint8_t *)bp)[0x210], 0xff);
	assert_memory_equal((uint8_t *)bp + 0x202, "HdrS", 4);
	free(bp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_setup_sects_zero_means_four),
		cmocka_unit_test(test_parse_bad_magic),
		cmocka_unit_test(test_parse_every_truncation),
		cmocka_unit_test(test_parse_huge_setup_sects),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_parse_syssize_past_end),
		cmocka_unit_test(test_place_kernel_initrd_cmdline),
		cmocka_unit_test(test_place_initrd_addr_max),
		cmocka_unit_test(test_place_refusals),
		cmocka_unit_test(test_e820_small_and_large),
		cmocka_unit_test(test_zero_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
