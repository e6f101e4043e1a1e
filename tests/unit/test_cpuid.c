/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuid_filter (core/vmm/cpuid.c): on a table shaped like an AMD host's
 * KVM_GET_SUPPORTED_CPUID (the lab's: SVM and the PMU present), the guest
 * loses SVM/VMX and the PMU leaves, and keeps every other bit; cpuid_xcr0
 * gives the XCR0 the guest is set up with (whole groups of components only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/util.h"
#include "core/vmm/cpuid.h"

static const struct kvm_cpuid_entry2 host[] = {
	{ .function = 0x0, .eax = 0x10, .ebx = 0x68747541 },
	{ .function = 0x1, .eax = 0x00a00f11, .ecx = 0xfffa3223, .edx = 0x178bfbff },
	{ .function = 0x7, .ebx = 0x219c97a9 },
	{ .function = 0xa, .eax = 0x07300403, .ebx = 0xff, .edx = 0x603 },
	{ .function = 0x80000001, .ecx = 0x75c237ff, .edx = 0x2fd3fbff },
	{ .function = 0x8000000a, .eax = 1, .ebx = 0x8000, .edx = 0x0001bcff },
	{ .function = 0x80000022, .eax = 1, .ebx = 0x6 },
};

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(host));

	assert_non_null(c);
	c->nent = ARRAY_SIZE(host);
	for (size_t i = 0; i < ARRAY_SIZE(host); i++)
		c->entries[i] = host[i];
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t f)
{
	static const struct kvm_cpuid_entry2 none;

	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == f)
			return &c->entries[i];
	fail_msg("leaf 0x%x missing", f);
	return &none;
}

static void test_virt_and_pmu_removed(void **state)
{
	struct kvm_cpuid2 *c = table();

	(void)state;
	cpuid_filter(c);
	assert_int_equal(leaf(c, 0x80000001)->ecx & (1u << 2), 0);   /* SVM */
	assert_int_equal(leaf(c, 0x80000001)->ecx & (1u << 23), 0);  /* PerfCtrExtCore */
	assert_int_equal(leaf(c, 0x80000001)->ecx & (1u << 24), 0);
	assert_int_equal(leaf(c, 0x80000001)->ecx & (1u << 28), 0);
	assert_int_equal(leaf(c, 0x1)->ecx & (1u << 5), 0);          /* VMX */
	assert_int_equal(leaf(c, 0x1)->ecx & (1u << 15), 0);         /* PDCM */
	assert_int_equal(leaf(c, 0xa)->eax, 0);                      /* PMU v0 */
	assert_int_equal(leaf(c, 0xa)->ebx | leaf(c, 0xa)->edx, 0);
	assert_int_equal(leaf(c, 0x8000000a)->eax | leaf(c, 0x8000000a)->edx, 0);
	assert_int_equal(leaf(c, 0x80000022)->eax | leaf(c, 0x80000022)->ebx, 0);
	free(c);
}

static void test_other_bits_kept(void **state)
{
	struct kvm_cpuid2 *c = table();

	(void)state;
	cpuid_filter(c);
	cpuid_filter(c);                                             /* idempotent */
	assert_int_equal(leaf(c, 0x0)->ebx, 0x68747541);
	assert_int_equal(leaf(c, 0x1)->ecx, 0xfffa3223u & ~((1u << 5) | (1u << 15)));
	assert_int_equal(leaf(c, 0x1)->edx, 0x178bfbff);
	assert_int_equal(leaf(c, 0x7)->ebx, 0x219c97a9);
	assert_int_equal(leaf(c, 0x80000001)->ecx,
			 0x75c237ffu & ~((1u << 2) | (1u << 23) | (1u << 24) | (1u << 28)));
	assert_int_equal(leaf(c, 0x80000001)->edx, 0x2fd3fbff);
	free(c);
}

/* cpuid_xcr0 on a table with XSAVE and leaf 0xD sub-leaf 0 as given. */
static uint64_t xcr0_of(uint32_t f1_ecx, uint32_t d_eax, uint32_t d_edx)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[3];
	} t = { .h.nent = 3 };

	t.e[0] = (struct kvm_cpuid_entry2){ .function = 0x1, .ecx = f1_ecx };
	t.e[1] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 1, .eax = 0xf };
	t.e[2] = (struct kvm_cpuid_entry2){ .function = 0xd, .index = 0, .eax = d_eax,
					    .edx = d_edx };
	return cpuid_xcr0(&t.h);
}

static void test_xcr0(void **state)
{
	const uint32_t xsave = 1u << 26;

	(void)state;
	/* The lab's: x87, SSE, AVX, PKRU. */
	assert_int_equal(xcr0_of(xsave, 0x207, 0), 0x207);
	/* No XSAVE in CPUID[1]: nothing to set. */
	assert_int_equal(xcr0_of(0, 0x207, 0), 0);
	/* AVX-512 whole, with AVX: kept; one part missing: the group goes. */
	assert_int_equal(xcr0_of(xsave, 0xe7, 0), 0xe7);
	assert_int_equal(xcr0_of(xsave, 0x67, 0), 0x07);
	/* AVX-512 without AVX, AVX without SSE: they go. */
	assert_int_equal(xcr0_of(xsave, 0xe3, 0), 0x03);
	assert_int_equal(xcr0_of(xsave, 0x05, 0), 0x01);
	/* AMX: XTILECFG without XTILEDATA (no permission asked) goes. */
	assert_int_equal(xcr0_of(xsave, 0x20207, 0), 0x207);
	assert_int_equal(xcr0_of(xsave, 0x60207, 0), 0x60207);
	/* MPX half there goes; x87 is always in. */
	assert_int_equal(xcr0_of(xsave, 0x0e, 0), 0x07);
	/* Sub-leaf 0 missing: nothing. */
	{
		struct kvm_cpuid2 *c = table();

		c->entries[1].ecx |= xsave;
		assert_int_equal(cpuid_xcr0(c), 0);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virt_and_pmu_removed),
		cmocka_unit_test(test_other_bits_kept),
		cmocka_unit_test(test_xcr0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
