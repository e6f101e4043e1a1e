/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials of the jailed VMM: no capability in any set (effective,
 * permitted, inheritable, ambient, bounding), locked securebits, no
 * supplementary group, and an unprivileged uid and gid in all three slots.
 */
#include "core/jail_priv.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"


static int jail_caps_clear(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int jail_bounding_drop(void)
{
	for (int cap = 0; cap < JAIL_CAP_MAX; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		return errno == EINVAL && cap > 0 ? 0 : -errno;
	}
	return 0;
}

int jail_creds_drop(uid_t uid, gid_t gid)
{
	int rc;

	/* Locked for this process and all it execs: uid 0 and setuid-root
	 * files give no capabilities, a uid change always clears them, and
	 * no ambient capability can ever be raised. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		  SECBIT_NO_CAP_AMBIENT_RAISE |
		  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0))
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -errno;
	/* Empty bounding set (needs CAP_SETPCAP, so before the uid change):
	 * no exec, of a file with capabilities either, can give any back. */
	rc = jail_bounding_drop();
	if (rc)
		return rc;
	/* No supplementary groups: the VMM reaches no file by group. */
	if (setgroups(0, NULL))
		return -errno;
	if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		return -errno;
	/* The uid change cleared the permitted and effective sets (setuid
	 * fixup, locked on); clear the inheritable set too. */
	rc = jail_caps_clear();
	if (rc)
		return rc;
	/* Getting root back must fail. */
	if (setresuid(0, 0, 0) == 0 || errno != EPERM)
		return -EPERM;
	return jail_creds_verify();
}
