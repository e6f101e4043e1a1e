/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux x86 boot protocol: bzImage header validation, guest placement of
 * kernel, initrd and command line, the e820 map and the zero page.
 */
#include "core/bootparams.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

static_assert(sizeof(struct setup_header) == 0x26c - SETUP_HDR_OFFSET,
	      "setup_header layout");
static_assert(offsetof(struct setup_header, pref_address) == 0x258 - 0x1f1,
	      "setup_header.pref_address");
static_assert(sizeof(struct e820_entry) == 20, "e820 entry");
static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "rsdp");
static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext_rd");
static_assert(offsetof(struct boot_params, cc_blob_address) == 0x13c, "cc_blob");
static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
static_assert(offsetof(struct boot_params, hdr) == SETUP_HDR_OFFSET, "hdr");
static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
static_assert(offsetof(struct boot_params, eddbuf) == 0xd00, "eddbuf");
static_assert(sizeof(struct boot_params) == 4096, "zero page is one page");

/* Protocol 2.12 ends its header with handover_offset (0x264..0x268). */
#define HDR_MIN_END 0x268

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int bzimage_check_magic(const uint8_t *buf, size_t len, size_t *hdr_len)
{
	size_t end;

	if (len < HDR_MIN_END) {
		log_err("kernel: file too small for a bzImage (%zu bytes)", len);
		return -ENOEXEC;
	}
	if (rd16(buf + 0x1fe) != BOOT_FLAG_MAGIC ||
	    memcmp(buf + 0x202, "HdrS", 4)) {
		log_err("kernel: not a bzImage (no 0xAA55/'HdrS' boot header)");
		return -ENOEXEC;
	}
	/* The jump at 0x200 (EB xx) skips the header: it gives its length. */
	end = 0x202 + (size_t)buf[0x201];
	if (end < HDR_MIN_END)
		end = HDR_MIN_END;
	if (end > 0x26c)
		end = 0x26c;
	if (end > len)
		end = len;              /* never copy past the file */
	*hdr_len = end - SETUP_HDR_OFFSET;
	return 0;
}

static int bzimage_check_flags(const struct setup_header *h)
{
	if (h->version < BOOT_MIN_VERSION) {
		log_err("kernel: boot protocol %u.%02u, need at least 2.12 "
			"(64-bit entry)", h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	if (!(h->loadflags & LOADFLAG_LOADED_HIGH)) {
		log_err("kernel: not a bzImage (zImage loaded low)");
		return -ENOEXEC;
	}
	if (!h->relocatable_kernel) {
		log_err("kernel: not relocatable");
		return -ENOEXEC;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		log_err("kernel: has no 64-bit entry point (xloadflags 0x%x)",
			h->xloadflags);
		return -ENOEXEC;
	}
	if (h->kernel_alignment < 4096 || h->kernel_alignment > (1u << 30) ||
	    (h->kernel_alignment & (h->kernel_alignment - 1))) {
		log_err("kernel: bad kernel_alignment 0x%x", h->kernel_alignment);
		return -ENOEXEC;
	}
	if (h->cmdline_size == 0 || h->initrd_addr_max < GUEST_HIMEM_START) {
		log_err("kernel: bad cmdline_size %u or initrd_addr_max 0x%x",
			h->cmdline_size, h->initrd_addr_max);
		return -ENOEXEC;
	}
	return 0;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *out)
{
	struct bzimage_info bz;
	unsigned int sects;
	int rc;

	memset(&bz, 0, sizeof(bz));
	rc = bzimage_check_magic(buf, len, &bz.hdr_len);
	if (rc)
		return rc;
	memcpy(&bz.hdr, buf + SETUP_HDR_OFFSET, bz.hdr_len);
	rc = bzimage_check_flags(&bz.hdr);
	if (rc)
		return rc;
	sects = bz.hdr.setup_sects ? bz.hdr.setup_sects : 4;
	bz.hdr.setup_sects = (uint8_t)sects;
	bz.setup_size = (size_t)(sects + 1) * 512;
	if (bz.setup_size + 0x200 >= len) {
		log_err("kernel: setup_sects %u puts the kernel past the end of "
			"the %zu-byte file (truncated?)", sects, len);
		return -ENOEXEC;
	}
	bz.kernel_offset = bz.setup_size;
	bz.kernel_size = len - bz.setup_size;
	if (bz.hdr.syssize == 0 ||
	    (uint64_t)bz.hdr.syssize * 16 > ((uint64_t)bz.kernel_size + 15) / 16 * 16) {
		log_err("kernel: header says %llu bytes of kernel, the file has %zu "
			"(truncated?)", (unsigned long long)bz.hdr.syssize * 16,
			bz.kernel_size);
		return -ENOEXEC;
	}
	if (bz.hdr.init_size < bz.kernel_size || bz.hdr.init_size > (1u << 30)) {
		log_err("kernel: bad init_size %u for %zu bytes of kernel",
			bz.hdr.init_size, bz.kernel_size);
		return -ENOEXEC;
	}
	*out = bz;
	return 0;
}

void bootparams_ram_split(uint64_t mem_bytes, uint64_t *low, uint64_t *high)
{
	*low = mem_bytes < GUEST_MMIO_HOLE ? mem_bytes : GUEST_MMIO_HOLE;
	*high = mem_bytes - *low;
}

static int bootparams_place_kernel(const struct bzimage_info *bz, uint64_t low,
				   struct boot_layout *out)
{
	uint64_t align = bz->hdr.kernel_alignment;
	uint64_t size = bz->hdr.init_size;
	uint64_t pref = bz->hdr.pref_address;
	uint64_t addr;

	/* The preferred address avoids the kernel relocating itself. */
	if (pref >= GUEST_HIMEM_START && !(pref & (align - 1)) &&
	    range_fits(pref, size, low))
		addr = pref;
	else
		addr = (GUEST_HIMEM_START + align - 1) & ~(align - 1);
	if (!range_fits(addr, size, low)) {
		log_err("--memory: too small for this kernel (it needs %llu MiB "
			"from 0x%llx)", (unsigned long long)(size >> 20) + 1,
			(unsigned long long)addr);
		return -E2BIG;
	}
	out->kernel_addr = addr;
	out->kernel_end = addr + size;
	out->entry = addr + 0x200;
	return 0;
}

int bootparams_place(const struct bzimage_info *bz, uint64_t mem_bytes,
		     uint64_t initrd_size, size_t cmdline_len,
		     struct boot_layout *out)
{
	uint64_t low, high, top;
	int rc;

	memset(out, 0, sizeof(*out));
	bootparams_ram_split(mem_bytes, &low, &high);
	rc = bootparams_place_kernel(bz, low, out);
	if (rc)
		return rc;
	if (cmdline_len > bz->hdr.cmdline_size || cmdline_len >= GUEST_CMDLINE_MAX) {
		log_err("--cmdline: %zu bytes, this kernel accepts at most %u",
			cmdline_len, bz->hdr.cmdline_size);
		return -E2BIG;
	}
	out->cmdline_addr = GUEST_CMDLINE_ADDR;
	out->cmdline_size = cmdline_len + 1;
	if (!initrd_size)
		return 0;
	top = (uint64_t)bz->hdr.initrd_addr_max + 1;
	if (top > low)
		top = low;
	if (initrd_size > top || ((top - initrd_size) & ~0xfffULL) < out->kernel_end) {
		log_err("--initrd: %llu bytes do not fit between the kernel (ends "
			"at 0x%llx) and 0x%llx; raise --memory",
			(unsigned long long)initrd_size,
			(unsigned long long)out->kernel_end, (unsigned long long)top);
		return -E2BIG;
	}
	out->initrd_addr = (top - initrd_size) & ~0xfffULL;
	out->initrd_size = initrd_size;
	return 0;
}

int e820_build(uint64_t mem_bytes, struct e820_entry *map, size_t max)
{
	uint64_t low, high;
	struct e820_entry e[5];
	size_t n = 0;

	bootparams_ram_split(mem_bytes, &low, &high);
	if (low <= GUEST_HIMEM_START)
		return -EINVAL;
	e[n++] = (struct e820_entry){ 0, GUEST_LOWMEM_END, E820_RAM };
	e[n++] = (struct e820_entry){ GUEST_ACPI_ADDR,
				      GUEST_HIMEM_START - GUEST_ACPI_ADDR, E820_RESERVED };
	e[n++] = (struct e820_entry){ GUEST_HIMEM_START, low - GUEST_HIMEM_START,
				      E820_RAM };
	/* Linux uses the MCFG region only when the firmware reserved it. */
	e[n++] = (struct e820_entry){ GUEST_ECAM_ADDR, GUEST_ECAM_SIZE, E820_RESERVED };
	if (high)
		e[n++] = (struct e820_entry){ GUEST_4G, high, E820_RAM };
	if (n > max)
		return -ENOSPC;
	memcpy(map, e, n * sizeof(e[0]));
	return (int)n;
}

int bootparams_build(const struct bzimage_info *bz, const struct boot_layout *lay,
		     uint64_t mem_bytes, uint64_t rsdp_addr, struct boot_params *bp)
{
	int n;

	memset(bp, 0, sizeof(*bp));
	n = e820_build(mem_bytes, bp->e820_table, ARRAY_SIZE(bp->e820_table));
	if (n < 0)
		return n;
	bp->e820_entries = (uint8_t)n;
	memcpy(&bp->hdr, &bz->hdr, sizeof(bp->hdr));
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEF;
	bp->hdr.vid_mode = 0xffff;            /* "normal" */
	bp->hdr.code32_start = (uint32_t)lay->kernel_addr;
	bp->hdr.cmd_line_ptr = (uint32_t)lay->cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(lay->cmdline_addr >> 32);
	bp->hdr.ramdisk_image = (uint32_t)lay->initrd_addr;
	bp->ext_ramdisk_image = (uint32_t)(lay->initrd_addr >> 32);
	bp->hdr.ramdisk_size = (uint32_t)lay->initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(lay->initrd_size >> 32);
	bp->hdr.setup_data = 0;
	bp->hdr.hardware_subarch = 0;         /* a PC */
	bp->acpi_rsdp_addr = rsdp_addr;
	return 0;
}
