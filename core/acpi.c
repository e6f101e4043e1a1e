/* SPDX-License-Identifier: Apache-2.0 */
/* ACPI tables for the guest, built deterministically from the configuration. */
#include "core/acpi.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/aml.h"
#include "core/log.h"
#include "core/util.h"

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr;
	uint32_t gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_len, gpe1_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt;
	struct acpi_gas x_pm2_cnt, x_pm_tmr, x_gpe0, x_gpe1;
	struct acpi_gas sleep_control, sleep_status;
	uint64_t hypervisor_vendor;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_header h;
	uint8_t reserved[8];
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved2;
} __attribute__((packed));

static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
static_assert(sizeof(struct acpi_gas) == 12, "GAS");
static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP 2.0");
static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.0");
static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT.X_DSDT");
static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "FADT sleep");
static_assert(sizeof(struct acpi_madt) == 44, "MADT");
static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC");
static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC");
static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI");
static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one entry");

/* TCG ACPI Specification 1.3, TPM2 table revision 4 with the log area. */
struct acpi_tpm2 {
	struct acpi_header h;
	uint16_t platform_class;        /* 0: client */
	uint16_t reserved;
	uint64_t control_area;
	uint32_t start_method;
	uint8_t start_params[12];
	uint32_t laml;
	uint64_t lasa;
} __attribute__((packed));
static_assert(sizeof(struct acpi_tpm2) == 76, "TPM2 rev 4 with LAML/LASA");
#define TPM2_START_CRB 7u

#define FADT_HW_REDUCED   (1u << 20)
#define FADT_PWR_BUTTON   (1u << 4)   /* no fixed power button */
#define FADT_SLP_BUTTON   (1u << 5)
#define BOOT_ARCH_NO_VGA  (1u << 2)
#define BOOT_ARCH_NO_CMOS (1u << 5)
#define MADT_PCAT_COMPAT  1u

uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return s;
}

/* Reserve LEN bytes, 16-byte aligned; returns the offset or -ENOSPC. */
static long acpi_alloc(struct acpi_blob *b, size_t len)
{
	size_t off = (b->len + 15) & ~(size_t)15;

	if (!range_fits(off, len, sizeof(b->data)))
		return -ENOSPC;
	b->len = off + len;
	return (long)off;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     size_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = rev;
	memcpy(h->oem_id, "BLWARK", 6);
	memcpy(h->oem_table_id, "BULWARK ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "BLWK", 4);
	h->creator_revision = 1;
}

static void acpi_checksum(struct acpi_blob *b, long off)
{
	struct acpi_header h;

	memcpy(&h, b->data + off, sizeof(h));
	b->data[off + offsetof(struct acpi_header, checksum)] = 0;
	b->data[off + offsetof(struct acpi_header, checksum)] =
		(uint8_t)-acpi_sum(b->data + off, h.length);
}

/*
 * An ACPI "address space" large resource descriptor (Word 0x88, DWord 0x87,
 * QWord 0x8A): type, fixed min/max, then granularity, min, max, translation
 * and length in fields of SIZE bytes.
 */
static size_t acpi_res_addr(uint8_t *p, uint8_t tag, size_t size, uint8_t type,
			    uint8_t tflags, uint64_t min, uint64_t len)
{
	size_t n = 0;

	p[n++] = tag;
	n += put_le(p + n, 3 + 5 * size, 2);
	p[n++] = type;
	p[n++] = 0x0c;                 /* MinFixed | MaxFixed, producer */
	p[n++] = tflags;
	n += put_le(p + n, 0, size);   /* granularity */
	n += put_le(p + n, min, size);
	n += put_le(p + n, min + len - 1, size);
	n += put_le(p + n, 0, size);   /* translation */
	n += put_le(p + n, len, size);
	return n;
}

/* IO(Decode16, port, port, 1, len): a small I/O port descriptor. */
static size_t acpi_res_io(uint8_t *p, uint16_t port, uint8_t len)
{
	size_t n = 0;

	p[n++] = 0x47;
	p[n++] = 0x01;                 /* 16-bit decode */
	n += put_le(p + n, port, 2);   /* minimum */
	n += put_le(p + n, port, 2);   /* maximum */
	p[n++] = 0x01;                 /* alignment */
	p[n++] = len;
	return n;
}

/* IRQNoFlags: a small IRQ descriptor with the mask of ISA lines. */
static size_t acpi_res_irq(uint8_t *p, uint16_t mask)
{
	p[0] = 0x22;
	return 1 + put_le(p + 1, mask, 2);
}

/* End tag, checksum 0 ("treat as correct"). */
static size_t acpi_res_end(uint8_t *p)
{
	p[0] = 0x79;
	p[1] = 0x00;
	return 2;
}

/* The PCI root bridge's resources: bus 0, config ports, I/O and MMIO windows
 * (I/O: below the config ports, and from PCI_IO_HIGH, the customary start
 * of the upper window, to the end of the port space). */
#define PCI_IO_HIGH 0xd00u
static size_t acpi_pci_crs(uint8_t *p)
{
	size_t n = 0;

	n += acpi_res_addr(p + n, 0x88, 2, 2, 0, 0, 1);              /* bus 0 */
	n += acpi_res_io(p + n, PORT_PCI_CONFIG, 8);
	n += acpi_res_addr(p + n, 0x88, 2, 1, 3, 0, PORT_PCI_CONFIG); /* I/O */
	n += acpi_res_addr(p + n, 0x88, 2, 1, 3, PCI_IO_HIGH, 0x10000 - PCI_IO_HIGH);
	n += acpi_res_addr(p + n, 0x87, 4, 0, 1, GUEST_PCI_MMIO32,
			   GUEST_PCI_MMIO32_SIZE);
	n += acpi_res_addr(p + n, 0x8a, 8, 0, 1, GUEST_PCI_MMIO64,
			   GUEST_PCI_MMIO64_SIZE);
	return n + acpi_res_end(p + n);
}

static void acpi_dsdt_pci(struct aml *a)
{
	uint8_t crs[160];
	size_t dev = aml_device_begin(a, "PCI0");

	aml_name_eisaid(a, "_HID", "PNP0A08");
	aml_name_eisaid(a, "_CID", "PNP0A03");
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_name_integer(a, "_UID", 0);
	aml_name_buffer(a, "_CRS", crs, acpi_pci_crs(crs));
	aml_device_end(a, dev);
}

/*
 * COM1.  In hardware-reduced mode Linux has no legacy PIC and maps no ISA
 * IRQ on its own: the console's IRQ 4 reaches the IOAPIC only through this
 * _CRS (8250_pnp), as on Firecracker.
 */
static void acpi_dsdt_com1(struct aml *a)
{
	uint8_t crs[16];
	size_t n = acpi_res_io(crs, PORT_COM1, 8), dev;

	n += acpi_res_irq(crs + n, 1u << IRQ_COM1);
	n += acpi_res_end(crs + n);
	dev = aml_device_begin(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_integer(a, "_UID", 0);
	aml_name_buffer(a, "_CRS", crs, n);
	aml_device_end(a, dev);
}

/* The CMOS RTC, so rtc_cmos binds by PNP (and gets /dev/rtc0) without a
 * legacy IRQ mapping; the device raises no interrupt. */
static void acpi_dsdt_rtc(struct aml *a)
{
	uint8_t crs[16];
	size_t n = acpi_res_io(crs, PORT_CMOS, 2), dev;

	n += acpi_res_irq(crs + n, 1u << IRQ_RTC);
	n += acpi_res_end(crs + n);
	dev = aml_device_begin(a, "RTC_");
	aml_name_eisaid(a, "_HID", "PNP0B00");
	aml_name_buffer(a, "_CRS", crs, n);
	aml_device_end(a, dev);
}

/* The vTPM's CRB interface (tpm_crb binds MSFT0101 and maps this _CRS). */
static void acpi_dsdt_tpm(struct aml *a)
{
	uint8_t crs[14];
	size_t n = 0, dev = aml_device_begin(a, "TPM_");

	crs[n++] = 0x86;                          /* Memory32Fixed */
	n += put_le(crs + n, 9, 2);
	crs[n++] = 0x01;                          /* read-write */
	n += put_le(crs + n, GUEST_TPM_CRB_ADDR, 4);
	n += put_le(crs + n, GUEST_TPM_CRB_SIZE, 4);
	n += acpi_res_end(crs + n);
	aml_name_string(a, "_HID", "MSFT0101");
	aml_name_integer(a, "_UID", 1);
	aml_name_buffer(a, "_CRS", crs, n);
	aml_device_end(a, dev);
}

/*
 * The power button of the hardware-reduced platform (no fixed-feature
 * button, no GPE blocks): a Generic Event Device (ACPI 6.4, 5.6.9) whose
 * level-triggered interrupt makes Linux's evged run _EVT, and _EVT turns
 * the events core/vmm/dev_ged.c has pending into Notify(PWRB, 0x80), the ACPI
 * power-button event (button.c: KEY_POWER on the "Power Button" input).
 *
 *   Device (GED0) {
 *     Name (_HID, "ACPI0013")  Name (_UID, Zero)
 *     Name (_CRS, ResourceTemplate () {
 *       Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { IRQ_GED } })
 *     OperationRegion (GEDR, SystemIO, PORT_ACPI_GED, One)
 *     Field (GEDR, ByteAcc, NoLock, Preserve) { GSTS, 8 }
 *     Method (_EVT, 1, Serialized) {
 *       Store (GSTS, Local0)      // what is pending
 *       Store (Local0, GSTS)      // acknowledge exactly that (write 1 to clear)
 *       If (And (Local0, One)) { Notify (\_SB.PWRB, 0x80) }
 *     }
 *   }
 *   Device (PWRB) { Name (_HID, EisaId ("PNP0C0C"))  Name (_UID, Zero) }
 */
static void acpi_dsdt_ged(struct aml *a)
{
	uint8_t crs[11];
	size_t n = 0, dev = aml_device_begin(a, "GED0"), m, cond;

	crs[n++] = 0x89;                          /* Extended Interrupt */
	n += put_le(crs + n, 6, 2);
	crs[n++] = 0x01;                          /* consumer, level, high, exclusive */
	crs[n++] = 1;                             /* one interrupt */
	n += put_le(crs + n, IRQ_GED, 4);
	crs[n++] = 0x79;                          /* end tag */
	crs[n++] = 0x00;
	aml_name_string(a, "_HID", "ACPI0013");
	aml_name_integer(a, "_UID", 0);
	aml_name_buffer(a, "_CRS", crs, n);
	aml_opregion(a, "GEDR", AML_SPACE_SYSTEM_IO, PORT_ACPI_GED, 1);
	m = aml_field_begin(a, "GEDR", AML_FIELD_BYTE_ACC);
	aml_field_unit(a, "GSTS", 8);
	aml_field_end(a, m);
	m = aml_method_begin(a, "_EVT", 1, 1);
	aml_store(a);
	aml_namestring(a, "GSTS");
	aml_local(a, 0);
	aml_store(a);
	aml_local(a, 0);
	aml_namestring(a, "GSTS");
	cond = aml_if_begin(a);
	aml_and(a);
	aml_local(a, 0);
	aml_integer(a, ACPI_GED_PWR_BUTTON);
	aml_no_target(a);
	aml_notify(a);
	aml_namestring(a, "\\_SB_.PWRB");
	aml_integer(a, 0x80);
	aml_if_end(a, cond);
	aml_method_end(a, m);
	aml_device_end(a, dev);
	dev = aml_device_begin(a, "PWRB");
	aml_name_eisaid(a, "_HID", "PNP0C0C");
	aml_name_integer(a, "_UID", 0);
	aml_device_end(a, dev);
}

static int acpi_build_dsdt(const struct vm_config *cfg, struct acpi_blob *b,
			   uint64_t *addr)
{
	static const uint64_t s5[] = { ACPI_S5_TYPE, ACPI_S5_TYPE, 0, 0 };
	struct acpi_header h;
	struct aml a;
	size_t scope;
	long off = acpi_alloc(b, sizeof(h));

	if (off < 0)
		return (int)off;
	aml_init(&a, b->data + off + sizeof(h), sizeof(b->data) - b->len);
	scope = aml_scope_begin(&a, "\\_SB_");
	acpi_dsdt_pci(&a);
	acpi_dsdt_com1(&a);
	acpi_dsdt_rtc(&a);
	if (cfg->vtpm)
		acpi_dsdt_tpm(&a);
	acpi_dsdt_ged(&a);
	aml_scope_end(&a, scope);
	aml_name_package(&a, "\\_S5_", s5, ARRAY_SIZE(s5));
	if (a.err)
		return a.err;
	b->len += a.len;
	memset(&h, 0, sizeof(h));
	acpi_header_init(&h, "DSDT", sizeof(h) + a.len, 2);
	memcpy(b->data + off, &h, sizeof(h));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

static struct acpi_gas acpi_io_gas(uint16_t port)
{
	return (struct acpi_gas){ .space_id = 1, .bit_width = 8, .access_size = 1,
				  .address = port };
}

static int acpi_build_fadt(struct acpi_blob *b, uint64_t dsdt, uint64_t *addr)
{
	struct acpi_fadt f;
	long off = acpi_alloc(b, sizeof(f));

	if (off < 0)
		return (int)off;
	memset(&f, 0, sizeof(f));
	acpi_header_init(&f.h, "FACP", sizeof(f), 6);
	f.minor_version = 0;
	f.dsdt = (uint32_t)dsdt;
	f.x_dsdt = dsdt;
	/* Hardware-reduced: no PM1/GPE blocks, no SCI; power off is a write of
	 * SLP_TYP|SLP_EN to the sleep control register. */
	f.flags = FADT_HW_REDUCED | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
	f.iapc_boot_arch = BOOT_ARCH_NO_VGA;
	f.sleep_control = acpi_io_gas(PORT_ACPI_SLEEP);
	f.sleep_status = acpi_io_gas(PORT_ACPI_SLEEP);
	memcpy(&f.hypervisor_vendor, "BULWARK\0", 8);
	memcpy(b->data + off, &f, sizeof(f));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

static int acpi_build_madt(const struct vm_config *cfg, struct acpi_blob *b,
			   uint64_t *addr)
{
	struct acpi_madt m;
	struct madt_ioapic io = { .type = 1, .length = sizeof(io), .id = 0,
				  .address = (uint32_t)GUEST_IOAPIC_ADDR };
	struct madt_lapic_nmi nmi = { .type = 4, .length = sizeof(nmi),
				      .uid = 0xff, .flags = 0, .lint = 1 };
	size_t len = sizeof(m) + cfg->cpus * sizeof(struct madt_lapic) +
		     sizeof(io) + sizeof(nmi);
	long off = acpi_alloc(b, len);
	size_t pos;

	if (off < 0)
		return (int)off;
	memset(&m, 0, sizeof(m));
	acpi_header_init(&m.h, "APIC", len, 5);
	m.lapic_addr = (uint32_t)GUEST_LAPIC_ADDR;
	m.flags = MADT_PCAT_COMPAT;
	memcpy(b->data + off, &m, sizeof(m));
	pos = (size_t)off + sizeof(m);
	/* APIC id = vCPU index: vcpu_setup_cpuid() reports the same ids. */
	for (uint32_t i = 0; i < cfg->cpus; i++) {
		struct madt_lapic l = { .type = 0, .length = sizeof(l),
					.uid = (uint8_t)i, .apic_id = (uint8_t)i,
					.flags = 1 };

		memcpy(b->data + pos, &l, sizeof(l));
		pos += sizeof(l);
	}
	memcpy(b->data + pos, &io, sizeof(io));
	memcpy(b->data + pos + sizeof(io), &nmi, sizeof(nmi));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

static int acpi_build_mcfg(struct acpi_blob *b, uint64_t *addr)
{
	struct acpi_mcfg m;
	long off = acpi_alloc(b, sizeof(m));

	if (off < 0)
		return (int)off;
	memset(&m, 0, sizeof(m));
	acpi_header_init(&m.h, "MCFG", sizeof(m), 1);
	m.base = GUEST_ECAM_ADDR;
	m.segment = 0;
	m.bus_start = 0;
	m.bus_end = 0;
	memcpy(b->data + off, &m, sizeof(m));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

/* TPM2 (rev 4, 76 bytes): CRB start method, the event log at a fixed LASA
 * with LAML = its whole region, whatever the log's length. */
static int acpi_build_tpm2(struct acpi_blob *b, uint64_t *addr)
{
	struct acpi_tpm2 t;
	long off = acpi_alloc(b, sizeof(t));

	if (off < 0)
		return (int)off;
	memset(&t, 0, sizeof(t));
	acpi_header_init(&t.h, "TPM2", sizeof(t), 4);
	t.control_area = GUEST_TPM_CRB_ADDR + GUEST_TPM_CRB_CTRL_OFF;
	t.start_method = TPM2_START_CRB;
	t.laml = (uint32_t)GUEST_EVLOG_SIZE;
	t.lasa = GUEST_EVLOG_ADDR;
	memcpy(b->data + off, &t, sizeof(t));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

static int acpi_build_xsdt(struct acpi_blob *b, const uint64_t *tables, size_t n,
			   uint64_t *addr)
{
	struct acpi_header h;
	size_t len = sizeof(h) + n * sizeof(uint64_t);
	long off = acpi_alloc(b, len);

	if (off < 0)
		return (int)off;
	memset(&h, 0, sizeof(h));
	acpi_header_init(&h, "XSDT", len, 1);
	memcpy(b->data + off, &h, sizeof(h));
	memcpy(b->data + off + sizeof(h), tables, n * sizeof(uint64_t));
	acpi_checksum(b, off);
	*addr = b->gpa + (uint64_t)off;
	return 0;
}

static void acpi_build_rsdp(struct acpi_blob *b, uint64_t xsdt)
{
	struct acpi_rsdp r;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, "BLWARK", 6);
	r.revision = 2;
	r.length = sizeof(r);
	r.xsdt_address = xsdt;
	r.checksum = (uint8_t)-acpi_sum(&r, 20);
	r.ext_checksum = (uint8_t)-acpi_sum(&r, sizeof(r));
	memcpy(b->data, &r, sizeof(r));
}

int acpi_build(const struct vm_config *cfg, struct acpi_blob *out)
{
	uint64_t dsdt, xsdt, tables[4];
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->gpa = GUEST_ACPI_ADDR;
	out->rsdp_addr = GUEST_ACPI_ADDR;
	out->len = sizeof(struct acpi_rsdp);
	rc = acpi_build_dsdt(cfg, out, &dsdt);
	if (!rc)
		rc = acpi_build_fadt(out, dsdt, &tables[n++]);
	if (!rc)
		rc = acpi_build_madt(cfg, out, &tables[n++]);
	if (!rc)
		rc = acpi_build_mcfg(out, &tables[n++]);
	if (!rc && cfg->vtpm)
		rc = acpi_build_tpm2(out, &tables[n++]);
	if (!rc)
		rc = acpi_build_xsdt(out, tables, n, &xsdt);
	if (rc) {
		log_err("ACPI tables do not fit in %llu bytes", GUEST_ACPI_MAX);
		return rc;
	}
	acpi_build_rsdp(out, xsdt);
	return 0;
}
