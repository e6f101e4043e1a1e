/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's ACPI tables, built deterministically from the canonical
 * configuration: the launcher (to measure them) and the VMM (to give them to
 * the guest) call acpi_build() with the same config and get the same bytes.
 *
 * Layout at GUEST_ACPI_ADDR (0xE0000, inside the legacy RSDP search area):
 * RSDP, DSDT, FADT (ACPI 6, hardware-reduced, sleep control/status at
 * PORT_ACPI_SLEEP), MADT, MCFG, with --vtpm TPM2, then the XSDT.
 *
 * The DSDT always holds \_SB.GED0 (a Generic Event Device, IRQ_GED, status
 * at PORT_ACPI_GED) and \_SB.PWRB, the power button it notifies.
 *
 * With --vtpm (cfg->vtpm) the DSDT also holds \_SB.TPM_ (MSFT0101, Memory32Fixed
 * GUEST_TPM_CRB_ADDR/4 KiB) and TPM2 points at the event log with the fixed
 * LASA GUEST_EVLOG_ADDR and LAML GUEST_EVLOG_SIZE: the tables are measured
 * before the log is complete, so they never depend on it.
 */
#ifndef BULWARK_ACPI_H
#define BULWARK_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/layout.h"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;            /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;         /* 1 byte .. 4 qword */
	uint64_t address;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

/*
 * The Generic Event Device's status register (one byte at PORT_ACPI_GED,
 * core/vmm/dev_ged.c): a bit per pending event, written back to acknowledge.
 */
#define ACPI_GED_PWR_BUTTON 0x01

/* SLP_TYP value of \_S5 and the sleep control register's bits. */
#define ACPI_S5_TYPE      5
#define ACPI_SLP_TYP(v)   (((v) >> 2) & 7)
#define ACPI_SLP_EN       0x20

struct acpi_blob {
	uint64_t gpa;                /* where data[0] goes: GUEST_ACPI_ADDR */
	uint64_t rsdp_addr;
	size_t len;
	uint8_t data[GUEST_ACPI_MAX];
};

int acpi_build(const struct vm_config *cfg, struct acpi_blob *out);

/* The byte sum of LEN bytes (a valid table sums to 0). */
uint8_t acpi_sum(const void *p, size_t len);

#endif
