/* SPDX-License-Identifier: Apache-2.0 */
/* Steps of the jail, shared between core/jail*.c only. */
#ifndef BULWARK_JAIL_PRIV_H
#define BULWARK_JAIL_PRIV_H

#include <linux/capability.h>

#include "core/sandbox.h"

/* core/launch/jail_fs.c: private mounts, empty read-only root, pivot_root. */
int jail_fs_enter(const struct jail_config *cfg);
/* core/launch/jail_creds.c: securebits, capability sets, groups, gid, uid. */
int jail_creds_drop(uid_t uid, gid_t gid);
/* core/jail_verify.c: checks that no capability in any set and no root id
 * is left; capget of this process. */
int jail_creds_verify(void);
int jail_caps_get(struct __user_cap_data_struct d[2]);
/* Capability numbers go up to 63 at most; the kernel answers EINVAL past
 * its last one, which ends each walk. */
#define JAIL_CAP_MAX 64

#endif
