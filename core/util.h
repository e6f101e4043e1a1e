/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every part of Bulwark. */
#ifndef BULWARK_UTIL_H
#define BULWARK_UTIL_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef static_assert
#define static_assert _Static_assert
#endif

#define fallthrough __attribute__((__fallthrough__))
#define UNUSED __attribute__((unused))

/* The one hex printer: lower-case hex of in[0..len) into out, which holds
 * 2 * len + 1 bytes (NUL-terminated). */
static inline void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* The one little-endian writer: the low n bytes of v at p; returns n. */
static inline size_t put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return n;
}

/* The one write_all: all of buf[0..len) to fd, through EINTR and short
 * writes.  0, -errno, or -EIO when the fd takes nothing. */
static inline int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Overflow-safe "does [off, off+len) fit inside [0, size)". */
static inline int range_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* open(PATH, FLAGS), tried again while it fails with EBUSY, for about 10 s
 * at most (then -EBUSY); the fd, or -errno.  selinuxfs lets one process at
 * a time hold /sys/fs/selinux/policy open, so two launchers starting at
 * once (two units started together, or a `policy check --loaded`) refused
 * each other's guest (seen in the host lab: "Device or resource busy"). */
static inline int open_busy_retry(const char *path, int flags)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		int fd = open(path, flags);

		if (fd >= 0 || errno != EBUSY)
			return fd >= 0 ? fd : -errno;
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 100 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
	return -EBUSY;
}

#endif
