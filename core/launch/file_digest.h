/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 of a whole file through a descriptor the caller opened (OpenSSL):
 * the launcher's one loop for disks (snapshot DISKS), the SELinux policy
 * file (svirt/state.c) and the host allowlist's files
 * (attest/producer/host_allow_build.c).  The launcher's only: the VMM links
 * no crypto library (its one-shot digest is core/sha256.h).
 */
#ifndef BULWARK_LAUNCH_FILE_DIGEST_H
#define BULWARK_LAUNCH_FILE_DIGEST_H

#include <stdint.h>

/* FD read with pread from offset 0 to its end (its file offset is left as
 * it was).  0, or -errno (-ESPIPE for a pipe, -EIO for a digest failure). */
int sha256_fd(int fd, uint8_t out[32]);

#endif
