/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's physical address map.  One place, so the e820 map, the ACPI
 * tables, the page tables and the device registrations agree.
 *
 *   0x00000000  RAM (real-mode IVT, BDA; GDT, zero page, page tables, cmdline)
 *   0x000A0000  legacy VGA/ROM hole (reserved; 0xE0000.. holds the ACPI tables,
 *               0xE8000.. the TPM event log: LASA, LAML = 64 KiB; 0xFFFF0 the
 *               reset stub, where a real-mode restart jumps)
 *   0x00100000  RAM (kernel at its pref_address, initrd at the top)
 *   0xC0000000  32-bit PCI MMIO window (BARs)
 *   0xE0000000  PCI ECAM, bus 0 only (1 MiB)
 *   0xFEC00000  IOAPIC          0xFED40000  TPM CRB (vTPM issue)
 *   0xFEE00000  LAPIC
 *   0x100000000 RAM above 4 GiB, when --memory exceeds the 3 GiB below the hole
 *   0x2000000000 64-bit PCI MMIO window (64 GiB)
 */
#ifndef BULWARK_LAYOUT_H
#define BULWARK_LAYOUT_H

#define GUEST_GDT_ADDR        0x500ULL
#define GUEST_BOOT_PARAMS     0x7000ULL
#define GUEST_PML4_ADDR       0x9000ULL
#define GUEST_PDPT_ADDR       0xA000ULL
#define GUEST_PD_ADDR         0xB000ULL     /* four pages: 4 GiB of 2 MiB pages */
#define GUEST_STACK_TOP       0x8FF0ULL
#define GUEST_CMDLINE_ADDR    0x20000ULL
#define GUEST_CMDLINE_MAX     0x10000ULL    /* our buffer; the kernel's limit is lower */
#define GUEST_LOWMEM_END      0xA0000ULL
#define GUEST_ACPI_ADDR       0xE0000ULL    /* RSDP first: the BIOS search area */
#define GUEST_ACPI_MAX        0x8000ULL
/* The event log of the measured boot (TPM2 table LASA/LAML): fixed, so the
 * ACPI tables do not depend on the log (they are measured before it ends).
 * Inside the reserved 0xE0000..0x100000 e820 entry. */
#define GUEST_EVLOG_ADDR      0xE8000ULL
#define GUEST_EVLOG_SIZE      0x10000ULL    /* EVLOG_MAX_SIZE */
/* F000:FFF0, the x86 reset vector in real mode.  Bulwark has no firmware,
 * but Linux's restart path ends there (machine_real_restart(), which x86
 * Linux picks on a hardware-reduced ACPI platform without EFI): a 16-byte
 * stub pulses the i8042 reset line, as a BIOS would.  Above the log. */
#define GUEST_RESET_STUB_ADDR 0xFFFF0ULL
#define GUEST_HIMEM_START     0x100000ULL
#define GUEST_MMIO_HOLE       0xC0000000ULL /* RAM below 4 GiB ends here */
#define GUEST_PCI_MMIO32      0xC0000000ULL
#define GUEST_PCI_MMIO32_SIZE 0x20000000ULL
#define GUEST_ECAM_ADDR       0xE0000000ULL
#define GUEST_ECAM_SIZE       0x100000ULL   /* bus 0: 32 devices x 8 functions x 4 KiB */
#define GUEST_IOAPIC_ADDR     0xFEC00000ULL
#define GUEST_TPM_CRB_ADDR    0xFED40000ULL
#define GUEST_TPM_CRB_SIZE    0x1000ULL
/* Inside the CRB page: the control area (the TPM2 table points at it) and
 * the command/response buffer, whose size bounds every guest TPM command. */
#define GUEST_TPM_CRB_CTRL_OFF  0x40u
#define GUEST_TPM_CRB_DATA_OFF  0x80u
#define GUEST_TPM_CRB_DATA_SIZE 3968u   /* 0x80 .. 0xFFF */
#define GUEST_LAPIC_ADDR      0xFEE00000ULL
#define GUEST_4G              0x100000000ULL
#define GUEST_PCI_MMIO64      0x2000000000ULL
#define GUEST_PCI_MMIO64_SIZE 0x1000000000ULL

/* Port I/O of the platform devices. */
#define PORT_CMOS          0x70   /* 2 ports */
#define PORT_I8042_DATA    0x60
#define PORT_I8042_CMD     0x64
#define PORT_ACPI_SLEEP    0x3C0  /* hardware-reduced sleep control/status */
#define PORT_ACPI_GED      0x3C1  /* Generic Event Device status (power button) */
#define PORT_COM1          0x3F8  /* 8 ports */
#define PORT_PCI_CONFIG    0xCF8  /* 8 ports: address + data */
#define IRQ_COM1           4
#define IRQ_RTC            8      /* named in the RTC's _CRS; never raised */
#define IRQ_GED            20     /* IOAPIC only (GSI >= 16: no PIC), level */

#define VM_MAX_CPUS        64
#define VM_MIN_MEMORY_MIB  64ULL
#define VM_MAX_MEMORY_MIB  65536ULL

#endif
