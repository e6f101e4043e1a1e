/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BULWARK_LAUNCH_CONFIG_FILE_H
#define BULWARK_LAUNCH_CONFIG_FILE_H

#include "core/config.h"

/* Read PATH (at most CONFIG_FILE_MAX bytes, a regular file reached without
 * a symlink) and apply it.  0 or -errno (logged). */
int config_load_file(struct vm_config *cfg, const char *path);

#endif
