/* SPDX-License-Identifier: Apache-2.0 */
/* Direct Linux boot, the VMM's half: write everything into guest memory. */
#include "core/vmm/boot_load.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"

static int boot_read_at(int fd, uint8_t *dst, uint64_t len, uint64_t off,
			const char *what)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("%s: read failed: %s", what, n ? strerror(errno) :
				"file shrank");
			return n ? -errno : -EIO;
		}
		dst += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Real mode, at F000:FFF0: mov al,0xfe; out 0x64,al (i8042 reset, which
 * dev_i8042.c answers by ending the VM); cli; hlt; jmp back to the cli. */
static void boot_write_reset_stub(uint8_t *mem)
{
	static const uint8_t stub[16] = {
		0xb0, 0xfe, 0xe6, 0x64, 0xfa, 0xf4, 0xeb, 0xfc,
	};

	static_assert(GUEST_RESET_STUB_ADDR + sizeof(stub) == GUEST_HIMEM_START,
		      "reset stub ends at 1 MiB");
	static_assert(GUEST_EVLOG_ADDR + GUEST_EVLOG_SIZE <= GUEST_RESET_STUB_ADDR,
		      "event log below the reset stub");
	memcpy(mem + GUEST_RESET_STUB_ADDR, stub, sizeof(stub));
}

void boot_write_tables(uint8_t *mem)
{
	static const uint64_t gdt[] = {
		0, 0,
		0x00af9b000000ffffULL,   /* 0x10: 64-bit code */
		0x00cf93000000ffffULL,   /* 0x18: data */
		0x008f8b000000ffffULL,   /* 0x20: TSS (busy) */
	};
	uint64_t *pml4 = (uint64_t *)(void *)(mem + GUEST_PML4_ADDR);
	uint64_t *pdpt = (uint64_t *)(void *)(mem + GUEST_PDPT_ADDR);
	uint64_t *pd = (uint64_t *)(void *)(mem + GUEST_PD_ADDR);

	memcpy(mem + GUEST_GDT_ADDR, gdt, sizeof(gdt));
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = GUEST_PDPT_ADDR | 0x3;             /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (GUEST_PD_ADDR + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;            /* present, writable, 2 MiB */
	boot_write_reset_stub(mem);
}

int boot_load(struct vm *vm, const struct boot_plan *plan, int kernel_fd,
	      int initrd_fd, const struct acpi_blob *acpi)
{
	const struct boot_layout *lay = &plan->lay;
	struct boot_params bp;
	uint8_t *k = vm_gpa(vm, lay->kernel_addr, plan->bz.kernel_size);
	uint8_t *c = vm_gpa(vm, lay->cmdline_addr, lay->cmdline_size);
	int rc;

	if (!k || !c || vm->low_size < GUEST_HIMEM_START)
		return -EINVAL;
	rc = boot_read_at(kernel_fd, k, plan->bz.kernel_size, plan->bz.kernel_offset,
			  "kernel");
	if (!rc && plan->initrd_size) {
		uint8_t *i = vm_gpa(vm, lay->initrd_addr, plan->initrd_size);

		rc = i ? boot_read_at(initrd_fd, i, plan->initrd_size, 0, "initrd")
		       : -EINVAL;
	}
	if (rc)
		return rc;
	memcpy(c, vm->cfg->cmdline, lay->cmdline_size);
	rc = bootparams_build(&plan->bz, lay, vm->mem_size, acpi->rsdp_addr, &bp);
	if (rc)
		return rc;
	memcpy(vm->mem + GUEST_BOOT_PARAMS, &bp, sizeof(bp));
	memcpy(vm->mem + acpi->gpa, acpi->data, acpi->len);
	boot_write_tables(vm->mem);
	return 0;
}
