/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the setup
 * header inside a bzImage, the zero page (struct boot_params) the kernel
 * reads at entry, and the e820 memory map in it.  Guest-visible: every
 * layout is pinned by static_asserts in bootparams.c.
 */
#ifndef BULWARK_BOOTPARAMS_H
#define BULWARK_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

struct setup_header {
	uint8_t setup_sects;          /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;           /* 0x1fe: 0xAA55 */
	uint16_t jump;                /* 0x200 */
	uint32_t header;              /* 0x202: "HdrS" */
	uint16_t version;             /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;       /* 0x210 */
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;        /* 0x214 */
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;        /* 0x228 */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;   /* 0x234 */
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;        /* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;        /* 0x258 */
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;  /* 0x268 */
} __attribute__((packed));

#define E820_RAM       1
#define E820_RESERVED  2
#define E820_ACPI      3
#define E820_MAX       128

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t screen_info[0x40];
	uint8_t apm_bios_info[0x14];
	uint8_t _pad2[4];
	uint64_t tboot_addr;
	uint8_t ist_info[0x10];
	uint64_t acpi_rsdp_addr;      /* 0x070 */
	uint8_t _pad3[8];
	uint8_t hd0_info[16];
	uint8_t hd1_info[16];
	uint8_t sys_desc_table[16];
	uint8_t olpc_ofw_header[16];
	uint32_t ext_ramdisk_image;   /* 0x0c0 */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t _pad4[112];
	uint32_t cc_blob_address;
	uint8_t edid_info[128];
	uint8_t efi_info[32];
	uint32_t alt_mem_k;           /* 0x1e0 */
	uint32_t scratch;
	uint8_t e820_entries;         /* 0x1e8 */
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t _pad5[2];
	uint8_t sentinel;
	uint8_t _pad6[1];
	struct setup_header hdr;      /* 0x1f1 */
	uint8_t _pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];
	struct e820_entry e820_table[E820_MAX]; /* 0x2d0 */
	uint8_t _pad8[48];
	uint8_t eddbuf[0x1ec];
	uint8_t _pad9[276];
} __attribute__((packed));

#define SETUP_HDR_OFFSET   0x1f1
#define SETUP_MAGIC        0x53726448u  /* "HdrS" */
#define BOOT_FLAG_MAGIC    0xAA55
#define BOOT_MIN_VERSION   0x020c       /* 2.12: xloadflags, 64-bit entry */
#define LOADFLAG_LOADED_HIGH 0x01
#define XLF_KERNEL_64      0x0001
#define LOADER_TYPE_UNDEF  0xff

/* What bzimage_parse() learned from a kernel file (validated). */
struct bzimage_info {
	struct setup_header hdr;      /* as found, setup_sects 0 -> 4 */
	size_t hdr_len;               /* bytes of setup_header in the file */
	size_t setup_size;            /* (setup_sects + 1) * 512 */
	size_t kernel_offset;         /* file offset of the protected-mode kernel */
	size_t kernel_size;
	uint64_t load_addr;           /* chosen by bootparams_place() */
};

/*
 * Validate a bzImage held in memory.  Refuses anything that is not a
 * relocatable, 64-bit-entry bzImage of protocol >= 2.12 with a message
 * naming what is wrong.  Never reads past BUF + LEN.
 */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *out);

/* Where each part goes in guest memory; computed before anything is created. */
struct boot_layout {
	uint64_t kernel_addr;
	uint64_t kernel_end;          /* kernel_addr + init_size */
	uint64_t initrd_addr;         /* 0 when there is no initrd */
	uint64_t initrd_size;
	uint64_t cmdline_addr;
	uint64_t cmdline_size;        /* including the NUL */
	uint64_t entry;               /* 64-bit entry point */
};

/*
 * Decide the guest layout for MEM_BYTES of RAM, an initrd of INITRD_SIZE
 * bytes (0: none) and a command line of CMDLINE_LEN bytes (without NUL).
 * Fails with a clear message when something does not fit.
 */
int bootparams_place(const struct bzimage_info *bz, uint64_t mem_bytes,
		     uint64_t initrd_size, size_t cmdline_len,
		     struct boot_layout *out);

/* RAM below the 32-bit MMIO hole and above 4 GiB for MEM_BYTES of RAM. */
void bootparams_ram_split(uint64_t mem_bytes, uint64_t *low, uint64_t *high);

/* Fill the e820 map: returns the number of entries (<= max) or -errno. */
int e820_build(uint64_t mem_bytes, struct e820_entry *map, size_t max);

/* Build the zero page. */
int bootparams_build(const struct bzimage_info *bz, const struct boot_layout *lay,
		     uint64_t mem_bytes, uint64_t rsdp_addr, struct boot_params *bp);

#endif
