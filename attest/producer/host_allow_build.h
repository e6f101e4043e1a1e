/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark reference --host-allowlist`: the host allowlist (host_allow.h)
 * from an installed host's files: the SHA-256 of every regular file under
 * the given paths, named as IMA would name it on that host.
 */
#ifndef BULWARK_ATTEST_HOST_ALLOW_BUILD_H
#define BULWARK_ATTEST_HOST_ALLOW_BUILD_H

#include <stddef.h>
#include <stdio.h>

/*
 * Walks root + paths[i] (each absolute, as on the host; root "" or "/" for
 * this machine, or a mounted image's directory) without following symlinks
 * (IMA names a file by its real path, and the target is listed where it
 * lies) and writes "sha256:HEX PATH\n" for each regular file, PATH without
 * root.  *count gets the lines written.  0 or -errno (a file that cannot be
 * read is an error naming it: a partial list would refuse what it missed).
 */
int host_allow_build(const char *root, const char *const *paths, size_t n, FILE *out,
		     size_t *count);

#endif
