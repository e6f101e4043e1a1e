/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI tables (checksums, lengths, pointers, contents) and the AML emitter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <assert.h>
#include <cmocka.h>

#include "core/acpi.h"
#include "core/aml.h"

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The table at guest address GPA, checked to lie inside the blob. */
static const uint8_t *table_at(const struct acpi_blob *b, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	assert_true(gpa >= b->gpa && gpa - b->gpa + 36 <= b->len);
	t = b->data + (gpa - b->gpa);
	len = rd32(t + 4);
	assert_true(len >= 36 && gpa - b->gpa + len <= b->len);
	assert_memory_equal(t, sig, 4);
	assert_int_equal(acpi_sum(t, len), 0);
	return t;
}

static struct acpi_blob *build_vtpm(uint32_t cpus, bool vtpm)
{
	struct acpi_blob *b = malloc(sizeof(*b));
	struct vm_config cfg;

	config_init(&cfg);
	cfg.cpus = cpus;
	cfg.vtpm = vtpm;
	assert_non_null(b);
	assert_int_equal(acpi_build(&cfg, b), 0);
	return b;
}

static struct acpi_blob *build(uint32_t cpus)
{
	return build_vtpm(cpus, true);
}

/* The table SIG if the XSDT lists it, else NULL. */
static const uint8_t *xsdt_lookup(const struct acpi_blob *b, const char *sig)
{
	const uint8_t *rsdp = b->data + (b->rsdp_addr - b->gpa);
	const uint8_t *x = table_at(b, rd64(rsdp + 24), "XSDT");
	uint32_t n = (rd32(x + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++)
		if (!memcmp(b->data + (rd64(x + 36 + 8 * i) - b->gpa), sig, 4))
			return table_at(b, rd64(x + 36 + 8 * i), sig);
	return NULL;
}

static const uint8_t *find_in_xsdt(const struct acpi_blob *b, const char *sig)
{
	const uint8_t *rsdp = b->data + (b->rsdp_addr - b->gpa);
	const uint8_t *x = table_at(b, rd64(rsdp + 24), "XSDT");
	uint32_t n = (rd32(x + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = b->data + (rd64(x + 36 + 8 * i) - b->gpa);

		if (!memcmp(t, sig, 4))
			return table_at(b, rd64(x + 36 + 8 * i), sig);
	}
	fail_msg("%s not in the XSDT", sig);
	return NULL;
}

static void test_rsdp(void **state)
{
	struct acpi_blob *b = build(1);
	const uint8_t *r = b->data;

	(void)state;
	assert_int_equal(b->rsdp_addr, 0xe0000);
	assert_int_equal(b->rsdp_addr & 15, 0);          /* found by the scan */
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(acpi_sum(r, 20), 0);
	assert_int_equal(acpi_sum(r, 36), 0);
	assert_int_equal(r[15], 2);                       /* revision */
	assert_int_equal(rd32(r + 20), 36);
	free(b);
}

static void test_tables_and_checksums(void **state)
{
	struct acpi_blob *b = build(4);
	const uint8_t *fadt = find_in_xsdt(b, "FACP");
	const uint8_t *dsdt;

	(void)state;
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	assert_true(rd32(fadt + 112) & (1u << 20));      /* HW_REDUCED_ACPI */
	dsdt = table_at(b, rd64(fadt + 140), "DSDT");
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
	/* Sleep control/status registers: system I/O, 8 bits, at our port. */
	assert_int_equal(fadt[244], 1);
	assert_int_equal(fadt[245], 8);
	assert_int_equal(rd64(fadt + 248), PORT_ACPI_SLEEP);
	assert_int_equal(rd64(fadt + 260), PORT_ACPI_SLEEP);
	assert_non_null(dsdt);
	find_in_xsdt(b, "MCFG");
	find_in_xsdt(b, "APIC");
	free(b);
}

static void test_madt(void **state)
{
	static const uint32_t counts[] = { 1, 4, 64 };

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct acpi_blob *b = build(counts[c]);
		const uint8_t *m = find_in_xsdt(b, "APIC");
		uint32_t len = rd32(m + 4), lapics = 0, ioapics = 0;

		assert_int_equal(rd32(m + 36), 0xfee00000);
		for (uint32_t off = 44; off < len; off += m[off + 1]) {
			assert_true(m[off + 1] >= 2 && off + m[off + 1] <= len);
			if (m[off] == 0) {
				assert_int_equal(m[off + 3], lapics);  /* APIC id */
				assert_int_equal(rd32(m + off + 4), 1); /* enabled */
				lapics++;
			} else if (m[off] == 1) {
				assert_int_equal(rd32(m + off + 4), 0xfec00000);
				ioapics++;
			}
		}
		assert_int_equal(lapics, counts[c]);
		assert_int_equal(ioapics, 1);
		free(b);
	}
}

static void test_mcfg(void **state)
{
	struct acpi_blob *b = build(1);
	const uint8_t *m = find_in_xsdt(b, "MCFG");

	(void)state;
	assert_int_equal(rd32(m + 4), 60);
	assert_int_equal(rd64(m + 44), GUEST_ECAM_ADDR);
	assert_int_equal(m[54], 0);                      /* start bus */
	assert_int_equal(m[55], 0);                      /* end bus */
	free(b);
}

static void test_dsdt_contents(void **state)
{
	/* Name(\_S5, Package(4){5, 5, 0, 0}) */
	static const uint8_t s5[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* Name(_HID, EISAID("PNP0A08")) */
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t com1[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t irq4[] = { 0x22, 0x10, 0x00, 0x79 };
	struct acpi_blob *b = build(2);
	const uint8_t *f = find_in_xsdt(b, "FACP");
	const uint8_t *d = table_at(b, rd64(f + 140), "DSDT");
	uint32_t len = rd32(d + 4);

	(void)state;
	assert_non_null(memmem(d, len, s5, sizeof(s5)));
	assert_non_null(memmem(d, len, hid, sizeof(hid)));
	assert_non_null(memmem(d, len, "PCI0", 4));
	/* COM1 (PNP0501) with IRQ 4 in its _CRS: the console's interrupt. */
	assert_non_null(memmem(d, len, com1, sizeof(com1)));
	assert_non_null(memmem(d, len, irq4, sizeof(irq4)));
	free(b);
}

static void test_deterministic(void **state)
{
	struct acpi_blob *a = build(8), *b = build(8), *c = build(9);

	(void)state;
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
	/* A different configuration gives different tables. */
	assert_true(a->len != c->len || memcmp(a->data, c->data, a->len));
	free(a);
	free(b);
	free(c);
}

/* Memory32Fixed(ReadWrite, 0xFED40000, 0x1000) */
static const uint8_t crb_mem[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd4, 0xfe,
				   0x00, 0x10, 0x00, 0x00 };

static void test_tpm2_table(void **state)
{
	struct acpi_blob *b = build(2);
	const uint8_t *t = find_in_xsdt(b, "TPM2");
	const uint8_t *f = find_in_xsdt(b, "FACP");
	const uint8_t *d = table_at(b, rd64(f + 140), "DSDT");

	(void)state;
	assert_int_equal(rd32(t + 4), 76);                  /* rev 4 with LAML/LASA */
	assert_int_equal(t[8], 4);
	assert_int_equal(acpi_sum(t, 76), 0);
	assert_int_equal(rd64(t + 40), 0xFED40040ull);      /* control area */
	assert_int_equal(rd32(t + 48), 7);                  /* start method CRB */
	assert_int_equal(rd32(t + 64), 64 * 1024);          /* LAML */
	assert_int_equal(rd64(t + 68), GUEST_EVLOG_ADDR);   /* LASA */
	/* LASA..LASA+LAML lies in the reserved e820 hole, after the tables. */
	assert_true(GUEST_EVLOG_ADDR >= GUEST_ACPI_ADDR + GUEST_ACPI_MAX);
	assert_true(GUEST_EVLOG_ADDR + 64 * 1024 <= GUEST_HIMEM_START);
	assert_true(b->gpa + b->len <= GUEST_EVLOG_ADDR);
	/* The DSDT device tpm_crb binds, with the CRB's 4 KiB. */
	assert_non_null(memmem(d, rd32(d + 4), "MSFT0101", 9));
	assert_non_null(memmem(d, rd32(d + 4), crb_mem, sizeof(crb_mem)));
	free(b);
}

static void test_no_vtpm(void **state)
{
	struct acpi_blob *on = build_vtpm(2, true), *off = build_vtpm(2, false);
	const uint8_t *f = find_in_xsdt(off, "FACP");
	const uint8_t *d = table_at(off, rd64(f + 140), "DSDT");

	(void)state;
	assert_null(xsdt_lookup(off, "TPM2"));
	assert_null(memmem(d, rd32(d + 4), "MSFT0101", 8));
	assert_null(memmem(d, rd32(d + 4), crb_mem, sizeof(crb_mem)));
	find_in_xsdt(off, "APIC");
	find_in_xsdt(off, "MCFG");
	/* Still a pure function of the configuration. */
	assert_true(on->len != off->len || memcmp(on->data, off->data, on->len));
	free(on);
	free(off);
}

static void test_aml_pkglen(void **state)
{
	uint8_t e[4];

	(void)state;
	assert_int_equal(aml_pkglen_encode(0, e), 1);
	assert_int_equal(e[0], 1);
	assert_int_equal(aml_pkglen_encode(62, e), 1);   /* total 63 */
	assert_int_equal(e[0], 63);
	assert_int_equal(aml_pkglen_encode(63, e), 2);   /* total 65 = 0x41 */
	assert_int_equal(e[0], 0x41);
	assert_int_equal(e[1], 0x04);
	assert_int_equal(aml_pkglen_encode(0xffd, e), 2); /* total 0xfff */
	assert_int_equal(aml_pkglen_encode(0xffe, e), 3); /* total 0x1001 */
	assert_int_equal(e[0], 0x81);
	assert_int_equal(e[1], 0x00);
	assert_int_equal(e[2], 0x01);
	assert_int_equal(aml_pkglen_encode(0x10000000, e), 0);
}

static void test_aml_names_and_errors(void **state)
{
	static const uint8_t dual[] = { 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0' };
	static const uint8_t pad[] = { 'S', '5', '_', '_' };
	uint8_t buf[64], tiny[3];
	struct aml a;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "_SB_.PCI0");
	assert_int_equal(a.err, 0);
	assert_memory_equal(buf, dual, sizeof(dual));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "S5");
	assert_memory_equal(buf, pad, sizeof(pad));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "lower");
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_name_eisaid(&a, "_HID", "PNP0A0");
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, tiny, sizeof(tiny));
	aml_integer(&a, 0x12345678);
	assert_int_equal(a.err, -ENOSPC);
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0x1234);
	assert_int_equal(a.len, 3);
	assert_int_equal(buf[0], 0x0b);
	assert_int_equal(buf[1], 0x34);
}

/* The DSDT of a default configuration (vTPM on, 2 vCPUs). */
static const uint8_t *dsdt_of(const struct acpi_blob *b)
{
	const uint8_t *f = find_in_xsdt(b, "FACP");

	return table_at(b, rd64(f + 140), "DSDT");
}

/*
 * \_SB.GED0 and \_SB.PWRB, byte for byte (ACPI 6.4 ch. 20), written out by
 * hand from the ASL in core/acpi.c, not from the emitter.
 */
static const uint8_t ged0[] = {
	0x5b, 0x82, 0x4d, 0x06, 'G', 'E', 'D', '0',      /* Device, PkgLength 109 */
	0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0', '0', '1', '3', 0x00,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0e, 0x0a, 0x0b,   /* Buffer(11) */
	0x89, 0x06, 0x00, 0x01, 0x01, 0x14, 0x00, 0x00, 0x00, /* Interrupt(Level) {20} */
	0x79, 0x00,
	0x5b, 0x80, 'G', 'E', 'D', 'R', 0x01, 0x0b, 0xc1, 0x03, 0x01, /* SystemIO 0x3C1, 1 */
	0x5b, 0x81, 0x0b, 'G', 'E', 'D', 'R', 0x01, 'G', 'S', 'T', 'S', 0x08,
	0x14, 0x25, '_', 'E', 'V', 'T', 0x09,            /* Method(_EVT, 1, Serialized) */
	0x70, 'G', 'S', 'T', 'S', 0x60,                  /* Store(GSTS, Local0) */
	0x70, 0x60, 'G', 'S', 'T', 'S',                  /* Store(Local0, GSTS) */
	0xa0, 0x12, 0x7b, 0x60, 0x01, 0x00,              /* If(And(Local0, One)) */
	0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0a, 0x80,
	0x5b, 0x82, 0x15, 'P', 'W', 'R', 'B',            /* Device(PWRB) */
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x0c,   /* PNP0C0C */
	0x08, '_', 'U', 'I', 'D', 0x00,
};

static void test_dsdt_ged(void **state)
{
	struct acpi_blob *on = build_vtpm(2, true), *off = build_vtpm(1, false);

	(void)state;
	static_assert(PORT_ACPI_GED == 0x3c1 && IRQ_GED == 20 &&
		      ACPI_GED_PWR_BUTTON == 1, "the bytes above");
	/* In both variants, inside \_SB (after the other devices). */
	assert_non_null(memmem(dsdt_of(on), rd32(dsdt_of(on) + 4), ged0, sizeof(ged0)));
	assert_non_null(memmem(dsdt_of(off), rd32(dsdt_of(off) + 4), ged0, sizeof(ged0)));
	/* FADT: still no fixed power button (the GED is the button). */
	assert_true(rd32(find_in_xsdt(on, "FACP") + 112) & (1u << 4));
	free(on);
	free(off);
}

/* The DSDT disassembles with ACPICA's iasl without an error or warning. */
static void test_dsdt_iasl(void **state)
{
	struct acpi_blob *b = build_vtpm(2, true);
	const uint8_t *d = dsdt_of(b);
	char dir[] = "/tmp/test_acpi.XXXXXX", cmd[512], path[256];
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, rd32(d + 4), f), rd32(d + 4));
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && iasl -d dsdt.aml >log 2>&1 && ! grep -qiE 'error|warning' log &&"
		 " grep -q 'Notify (\\\\_SB.PWRB, 0x80)' dsdt.dsl &&"
		 " grep -q 'Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive' dsdt.dsl &&"
		 " iasl -p re dsdt.dsl >>log 2>&1 && grep -q ' 0 Errors, 0 Warnings' log;"
		 " rc=$?; [ $rc = 0 ] || cat log; rm -rf %s; exit $rc", dir, dir);
	rc = system(cmd);
	assert_int_equal(rc, 0);
	free(b);
}

static void test_aml_methods_and_fields(void **state)
{
	/* Method(M1, 2, NotSerialized) { Store(Local7, Local1) } */
	static const uint8_t m1[] = { 0x14, 0x09, 'M', '1', '_', '_', 0x02, 0x70, 0x67, 0x61 };
	/* Field(R0, ByteAcc) { F1, 256 }: a two-byte bit length */
	static const uint8_t fld[] = { 0x5b, 0x81, 0x0c, 'R', '0', '_', '_', 0x01,
				       'F', '1', '_', '_', 0x40, 0x10 };
	uint8_t buf[64];
	struct aml a;
	size_t m;

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	m = aml_method_begin(&a, "M1", 2, 0);
	aml_store(&a);
	aml_local(&a, 7);
	aml_local(&a, 1);
	aml_method_end(&a, m);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.len, sizeof(m1));
	assert_memory_equal(buf, m1, sizeof(m1));
	aml_init(&a, buf, sizeof(buf));
	m = aml_field_begin(&a, "R0", AML_FIELD_BYTE_ACC);
	aml_field_unit(&a, "F1__", 256);
	aml_field_end(&a, m);
	assert_int_equal(a.err, 0);
	assert_memory_equal(buf, fld, sizeof(fld));
	/* Misuse is an error, never bytes a guest would misparse. */
	aml_init(&a, buf, sizeof(buf));
	aml_method_begin(&a, "M2", 8, 0);
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_local(&a, 8);
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_field_unit(&a, "F1", 8);          /* a field name is a full NameSeg */
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_field_unit(&a, "F1__", 0);
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_field_unit(&a, "F1__", 1u << 28);
	assert_int_equal(a.err, -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_tables_and_checksums),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_mcfg),
		cmocka_unit_test(test_dsdt_contents),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_tpm2_table),
		cmocka_unit_test(test_no_vtpm),
		cmocka_unit_test(test_aml_pkglen),
		cmocka_unit_test(test_aml_names_and_errors),
		cmocka_unit_test(test_dsdt_ged),
		cmocka_unit_test(test_dsdt_iasl),
		cmocka_unit_test(test_aml_methods_and_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
