// SPDX-License-Identifier: Apache-2.0
/*
 * --config FILE: the launcher reads the operator's JSON through the one safe
 * opener (core/path.c).  Launcher only: the VMM gets the canonical
 * configuration in a sealed memfd and never opens a path.
 */
#include "core/launch/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/path.h"

int config_load_file(struct vm_config *cfg, const char *path)
{
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -EINVAL;

	fd = path_open_regular(path, O_RDONLY, "--config", NULL);
	if (fd < 0)
		return fd;
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	while ((n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > CONFIG_FILE_MAX)
			break;
	}
	if (n < 0) {
		rc = -errno;
		log_err("--config: %s: %s", path, strerror(errno));
		goto out_free;
	}
	rc = config_apply_json(cfg, buf, len, path);
out_free:
	free(buf);
out_close:
	close(fd);
	return rc;
}
