/* SPDX-License-Identifier: Apache-2.0 */
/* swtpm's jail (attest/vtpm/swtpm_jail.c), shared with attest/vtpm/swtpm.c only. */
#ifndef BULWARK_ATTEST_SWTPM_PRIV_H
#define BULWARK_ATTEST_SWTPM_PRIV_H

#include <sys/types.h>

#include "attest/vtpm/swtpm.h"
#include "core/sandbox.h"

#define SWTPM_BIN "/usr/bin/swtpm"

/* swtpm's uid and gid for cfg (its own, or the pid-derived default). */
int swtpm_jail_ids(const struct swtpm_config *cfg, uid_t *uid, gid_t *gid);
/* The jail of cfg's swtpm, checked (the root prepared when it is the
 * default); keep_fds are added by the caller.  0 or -errno. */
int swtpm_jail_init(const struct swtpm_config *cfg, struct jail_config *j);
/* The state directory (0700) and its regular files (0600 at most) given to
 * uid:gid; anything but a regular file there is refused; a stale .lock is
 * removed (swtpm makes its own).  0 or -errno. */
int swtpm_state_own(const struct swtpm_config *cfg, uid_t uid, gid_t gid);
/* In the child of jail_clone(j), fds in place: hook, jail, NO_NEW_PRIVS,
 * exec.  Never returns (exit 126 on any failure). */
void swtpm_jail_child(const struct swtpm_config *cfg, const struct jail_config *j,
		      char *const argv[]) __attribute__((noreturn));
/* Bulwark's allowlist for swtpm (kill on anything else, ioctl ENOTTY) on
 * the calling thread; NO_NEW_PRIVS must be set.  0 or -errno. */
int swtpm_filter_install(void);
/* The live swtpm pid runs as uid:gid with no group and no capability,
 * NoNewPrivs 1, Seccomp 2 with two filters (ours, swtpm's), in namespaces and a root not ours.  0 or
 * -EPERM (what is wrong logged). */
int swtpm_jail_verify(const char *name, pid_t pid, uid_t uid, gid_t gid);

#endif
