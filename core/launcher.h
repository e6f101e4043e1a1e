/* SPDX-License-Identifier: Apache-2.0 */
/* The privileged launcher (`bulwark run`). */
#ifndef BULWARK_LAUNCHER_H
#define BULWARK_LAUNCHER_H

#include <stddef.h>

#include "core/acpi.h"
#include "core/boot.h"
#include "core/config.h"
#include "core/log.h"

/* Everything the launcher prepared before starting the VMM. */
struct launch {
	struct vm_config cfg;
	struct boot_plan plan;
	struct acpi_blob acpi;       /* the exact tables the guest will get */
	char *canonical;             /* config_canonical() bytes */
	size_t canonical_len;
	int kernel_fd, initrd_fd, kvm_fd, config_fd, vmm_fd;
	enum log_level level;
};

/* Flags and --config into CFG (validated).  1 for --help, 0, or -errno. */
int launcher_parse_args(struct vm_config *cfg, int argc, char **argv,
			enum log_level *level);

/*
 * Runs in the child between fork and exec, with the VMM's descriptors in
 * place and all others closed.  The svirt and least-privilege issues put the
 * SELinux exec label (setexeccon) and the jail set-up here; measurement into
 * the vTPM happens in the launcher before the fork.  Non-zero: the child
 * exits without exec (fail closed).
 */
int launcher_child_confine(const struct launch *l);

#endif
