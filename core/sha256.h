/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 (FIPS 180-4), one shot, for the process that links no crypto
 * library (bulwark-vmm: the configuration's digest in a state stream's
 * META record, core/snapshot.h).  Not for secrets: no constant-time claim
 * is needed for public bytes.
 */
#ifndef BULWARK_SHA256_H
#define BULWARK_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
