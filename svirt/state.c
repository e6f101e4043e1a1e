/* SPDX-License-Identifier: Apache-2.0 */
/* The SELinux state a guest starts under, checked and recorded. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/launch/file_digest.h"
#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt.h"

/* SHA-256 of a file, read through one descriptor. */
static int digest_file(const char *path, uint8_t out[32])
{
	int fd = open_busy_retry(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0)
		return fd;
	rc = sha256_fd(fd, out);
	close(fd);
	return rc;
}

int svirt_state_probe(enum svirt_mode mode, const char *policy_path,
		      struct svirt_state *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->mode = mode;
	st->enforcing = is_selinux_enabled() == 1 ? security_getenforce() : -1;
	if (st->enforcing < -1 || st->enforcing > 1)
		st->enforcing = -1;
	rc = digest_file(policy_path ? policy_path : SVIRT_POLICY_PATH,
			 st->policy_sha256);
	st->have_policy_digest = rc == 0;
	if (mode == SVIRT_MODE_OFF) {
		log_warn("sVirt is off: guests are not separated by SELinux");
		return 0;
	}
	if (st->enforcing != 1) {
		log_err("SELinux is %s; refusing to start (only --svirt=off "
			"runs a guest without it)",
			st->enforcing == 0 ? "permissive" : "disabled");
		return -EPERM;
	}
	if (rc) {
		log_err("cannot read the loaded policy %s to measure it: %s",
			policy_path ? policy_path : SVIRT_POLICY_PATH, strerror(-rc));
		return rc;
	}
	return 0;
}
