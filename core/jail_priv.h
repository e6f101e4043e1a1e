/* SPDX-License-Identifier: Apache-2.0 */
/* Steps of the jail, shared between core/jail*.c only. */
#ifndef BULWARK_JAIL_PRIV_H
#define BULWARK_JAIL_PRIV_H

#include "core/sandbox.h"

/* core/jail_fs.c: private mounts, empty read-only root, pivot_root. */
int jail_fs_enter(const struct jail_config *cfg);
/* core/jail_creds.c: securebits, capability sets, groups, gid, uid. */
int jail_creds_drop(uid_t uid, gid_t gid);
/* Checks that no capability in any set and no root id is left. */
int jail_creds_verify(void);

#endif
