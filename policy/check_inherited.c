/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reviewed list of inherited rules: what a reference-policy host grants
 * every member of `domain` (which a guest domain must be there: refpolicy
 * forbids any process permission to a type that is not) and Bulwark lets a
 * guest domain keep.  Everything else such a host grants every domain is
 * taken away from the guest domains by the constraints of
 * policy/refpolicy.cil; `bulwark policy check` lists each inherited rule as
 * removed or accepted (with the reason below), and fails on any other.
 * An entry covers only the permissions it names; a guest domain's own
 * rules (bulwark.cil) are on the allowlist (policy/check_allow.c).
 * Reviewed against Debian 12's selinux-policy-default 2:2.20221101-9.
 */
#include <stdio.h>
#include <string.h>

#include <sepol/policydb/services.h>

#include "core/util.h"
#include "policy/check.h"

struct inherited {
	const char *target; /* "self", a type or an attribute */
	const char *cls, *perms;
	const char *reason;
};

static const struct inherited accepted[] = {
	{ "self", "lnk_file", "ioctl",
	  "its own /proc/PID symlinks (exe, cwd, fd/N); no other process's" },
	{ "bulwark_sys_file", "file", "ioctl",
	  "file-system ioctls (FIEMAP, FS_IOC_GETFLAGS) on programs and libraries "
	  "it may already read and map; none of them writes" },
	{ "bulwark_sys_file", "dir", "ioctl",
	  "file-system ioctls on the folders of its libraries, which it may "
	  "already list" },
	{ "bulwark_sys_dir", "dir", "open ioctl",
	  "opening a folder it may already search, to search it by descriptor; "
	  "listing it (read) is taken away by a constraint" },
	{ "bulwark_sys_dir", "lnk_file", "read getattr",
	  "symlinks among the system folders (/var/run -> /run, /lib -> "
	  "usr/lib), which the loader follows" },
	{ "proc_t", "dir", "open",
	  "opening /proc to reach its own /proc/PID; other processes' entries "
	  "are denied by type and by the MCS constraints" },
	{ "root_t", "lnk_file", "ioctl",
	  "symlinks in / (/lib64 -> usr/lib64), which the loader follows" },
	{ "device_t", "lnk_file", "read getattr",
	  "symlinks in /dev (/dev/fd, /dev/stdin): they lead to its own "
	  "descriptors" },
};

const char *pc_inherited_reason(const struct pc *pc, uint32_t d, uint32_t t,
				uint16_t cls, uint32_t perms)
{
	const char *cname = pc->p->p_class_val_to_name[cls - 1];
	uint32_t covered = 0;
	const char *reason = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		const struct inherited *a = &accepted[i];

		if (strcmp(a->cls, cname) || !pc_target_matches(pc, a->target, d, t))
			continue;
		covered |= pc_perm_mask(cls, a->perms);
		reason = a->reason;
	}
	return (perms & ~covered) ? NULL : reason;
}
