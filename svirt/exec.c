/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's process label: set before exec, verified after it. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include <selinux/selinux.h>

#include "core/log.h"
#include "svirt/svirt.h"

/*
 * In the child between fork and exec: the next exec runs in LABEL.  The
 * policy allows the transition only into an entrypoint of that domain, so
 * an exec of anything else fails instead of running unconfined.
 */
int svirt_child_setexec(const char *label)
{
	if (setexeccon_raw(label) < 0)
		return -errno;
	return 0;
}

/*
 * In the parent once the child has exec'd (its CLOEXEC pipe closed): the
 * child must run exactly in EXPECTED, else it is killed before it gets any
 * guest data.
 */
int svirt_parent_verify(pid_t pid, const char *expected)
{
	char *con = NULL;
	int rc = 0;

	if (getpidcon_raw(pid, &con) < 0) {
		rc = -errno;
		log_err("cannot read the label of process %d: %s", (int)pid,
			strerror(errno));
	} else if (strcmp(con, expected)) {
		rc = -EPERM;
		log_err("process %d runs as %s, not %s; killing it", (int)pid,
			con, expected);
	}
	freecon(con);
	if (rc)
		kill(pid, SIGKILL);
	return rc;
}
