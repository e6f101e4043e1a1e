/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every part of Bulwark. */
#ifndef BULWARK_UTIL_H
#define BULWARK_UTIL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef static_assert
#define static_assert _Static_assert
#endif

#define fallthrough __attribute__((__fallthrough__))
#define UNUSED __attribute__((unused))

/* Overflow-safe "does [off, off+len) fit inside [0, size)". */
static inline int range_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

#endif
