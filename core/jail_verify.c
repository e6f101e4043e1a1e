// SPDX-License-Identifier: Apache-2.0
/*
 * What a jailed process checks of itself: no capability in any set and no
 * root id left (jail_creds_verify, also the last step of the launcher's
 * jail_creds_drop), and the after-exec half of the jail that bulwark-vmm
 * runs first (jail_finish_after_exec).  Holds no privilege and takes none:
 * the only code of the jail the guest-facing process links.
 */
#include "core/jail_priv.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

int jail_caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

/* 0 when no capability is in the bounding or the ambient set. */
static int jail_cap_sets_empty(void)
{
	for (int cap = 0; cap < JAIL_CAP_MAX; cap++) {
		int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		int a = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (b < 0 || a < 0)
			return errno == EINVAL && cap > 0 ? 0 : -errno;
		if (b || a)
			return -EPERM;
	}
	return 0;
}

int jail_creds_verify(void)
{
	struct __user_cap_data_struct d[2];
	uid_t r, e, s;
	gid_t gr, ge, gs;
	int rc;

	if (getresuid(&r, &e, &s) || getresgid(&gr, &ge, &gs))
		return -errno;
	if (!r || !e || !s || !gr || !ge || !gs || getgroups(0, NULL) != 0) {
		log_err("a root id or a supplementary group is left");
		return -EPERM;
	}
	rc = jail_caps_get(d);
	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
		if (d[i].effective || d[i].permitted || d[i].inheritable) {
			log_err("a capability is left");
			return -EPERM;
		}
	}
	rc = jail_cap_sets_empty();
	if (rc)
		log_err("the bounding or ambient set is not empty");
	return rc;
}

int jail_finish_after_exec(void)
{
	int rc;

	/* No exec can gain privilege any more (setuid, file capabilities,
	 * SELinux transitions).  Not set before the exec: it would have
	 * blocked the transition into the guest's SELinux domain. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	/* Not dumpable: no core file of guest memory, /proc/PID owned by
	 * root, no ptrace even by the same uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	/* Again: an SELinux transition at exec clears the parent-death
	 * signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return -errno;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -EPERM;
	rc = jail_creds_verify();
	if (rc)
		log_err("the VMM still holds privilege: refusing to run");
	return rc;
}
