/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port-I/O and MMIO buses: devices register address ranges with an ops
 * table at start-up; vCPU exits are dispatched here.  Registration happens
 * before any vCPU runs and the table is read-only afterwards, so dispatch
 * takes no lock (each device locks its own state).  An access nobody claims
 * reads as all-ones (absent hardware), writes are dropped, and it is logged
 * once per address at debug level.
 */
#ifndef BULWARK_BUS_H
#define BULWARK_BUS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops {
	/* OFF is relative to the registered base; LEN is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t off, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t off, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const char *name;
	const struct bus_ops *ops;
	void *opaque;
};

#define BUS_MAX_RANGES 64
#define BUS_SEEN_MAX   64

struct bus {
	const char *name;                     /* "pio" or "mmio" */
	struct bus_range r[BUS_MAX_RANGES];
	size_t n;
	pthread_mutex_t seen_lock;            /* for the log-once set only */
	uint64_t seen[BUS_SEEN_MAX];
	size_t nseen;
};

void bus_init(struct bus *b, const char *name);
/* -EINVAL for an empty or wrapping range, -EEXIST on overlap, -ENOSPC. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const char *name,
		 const struct bus_ops *ops, void *opaque);
/* Returns 0, or -ENOENT when no device claims ADDR (data set to all-ones). */
int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
	       int is_write);

#endif
