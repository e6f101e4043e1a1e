/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SELinux policy digest that Bulwark measures and an auditor can
 * recompute from the binary policy file alone.
 *
 * The kernel does not give back the bytes it loaded: /sys/fs/selinux/policy
 * is its own re-serialization (same size, version and counts, but symbols,
 * permissions and access-vector rules in the kernel's hash-table order), so
 * a plain SHA-256 of the policy file never equals one of the kernel's image.
 * Both are the same policy, though, and libsepol writes one image of a
 * policy whatever order it was read in:
 *
 *   policy digest = SHA-256( sepol_policydb_to_image( sepol_policydb_read(BYTES) ) )
 *
 * BYTES being the kernel's /sys/fs/selinux/policy (the launcher: what is
 * enforced) or the .pol file that was loaded (`bulwark reference --policy`).
 * The image keeps the policy's version and target platform.  Shown equal in
 * the lab for kernel 6.1 and libsepol 3.4 (tests/unit/test_policy_digest.c
 * pins the kernel's bytes).  Bulwark links libsepol statically, so the
 * launcher and `bulwark reference` of one build always serialize alike;
 * bulwark-verify only compares digests and links no libsepol.
 */
#ifndef BULWARK_ATTEST_POLICY_DIGEST_H
#define BULWARK_ATTEST_POLICY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* Largest binary policy accepted (Fedora's full policy is about 4 MiB). */
#define POLICY_DIGEST_MAX_SIZE (64u << 20)

/* The policy digest of a binary policy image in memory.  0, -EINVAL if the
 * bytes are not a binary policy libsepol reads, -ENOMEM, -EIO. */
int policy_digest_image(const uint8_t *buf, size_t len, uint8_t out[32]);

/* The same for a file (e.g. /sys/fs/selinux/policy or a .pol file). */
int policy_digest_file(const char *path, uint8_t out[32]);

#endif
