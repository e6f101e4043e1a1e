/* SPDX-License-Identifier: Apache-2.0 */
/* Direct Linux boot: validate, plan and load. */
#include "core/boot.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/layout.h"
#include "core/log.h"
#include "core/util.h"

static int boot_file_size(int fd, const char *what, uint64_t max, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		log_err("%s: %s", what, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file", what);
		return -EINVAL;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > max) {
		log_err("%s: size %lld is empty or larger than %llu bytes", what,
			(long long)st.st_size, (unsigned long long)max);
		return -EFBIG;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int boot_plan(const struct vm_config *cfg, int kernel_fd, int initrd_fd,
	      struct boot_plan *plan)
{
	uint64_t ksize, mem = cfg->memory_mib << 20;
	void *k;
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = boot_file_size(kernel_fd, "--kernel", BOOT_KERNEL_MAX, &ksize);
	if (rc)
		return rc;
	k = mmap(NULL, ksize, PROT_READ, MAP_PRIVATE, kernel_fd, 0);
	if (k == MAP_FAILED) {
		log_err("--kernel: cannot map: %s", strerror(errno));
		return -errno;
	}
	rc = bzimage_parse(k, ksize, &plan->bz);
	munmap(k, ksize);
	if (rc)
		return rc;
	if (initrd_fd >= 0) {
		rc = boot_file_size(initrd_fd, "--initrd", mem, &plan->initrd_size);
		if (rc)
			return rc;
	}
	return bootparams_place(&plan->bz, mem, plan->initrd_size,
				strlen(cfg->cmdline), &plan->lay);
}
