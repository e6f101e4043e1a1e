/* SPDX-License-Identifier: Apache-2.0 */
/* Port-I/O and MMIO dispatch. */
#include "core/vmm/bus.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	pthread_mutex_init(&b->seen_lock, NULL);
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, const char *name,
		 const struct bus_ops *ops, void *opaque)
{
	if (!len || base + len < base || !ops)
		return -EINVAL;
	for (size_t i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];

		if (base < r->base + r->len && r->base < base + len) {
			log_err("%s: %s at 0x%llx overlaps %s", b->name, name,
				(unsigned long long)base, r->name);
			return -EEXIST;
		}
	}
	if (b->n >= BUS_MAX_RANGES)
		return -ENOSPC;
	b->r[b->n++] = (struct bus_range){ base, len, name, ops, opaque };
	return 0;
}

static void bus_log_unknown(struct bus *b, uint64_t addr, uint32_t len, int is_write)
{
	int first = 1;

	pthread_mutex_lock(&b->seen_lock);
	for (size_t i = 0; i < b->nseen; i++)
		if (b->seen[i] == addr)
			first = 0;
	if (first && b->nseen < BUS_SEEN_MAX)
		b->seen[b->nseen++] = addr;
	else if (first && b->nseen == BUS_SEEN_MAX)
		first = 0;   /* the set is full: stay quiet rather than flood */
	pthread_mutex_unlock(&b->seen_lock);
	if (first)
		log_debug("%s: no device at 0x%llx (%s of %u bytes); absent",
			  b->name, (unsigned long long)addr,
			  is_write ? "write" : "read", len);
}

int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len,
	       int is_write)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->r[i];

		if (addr < r->base || addr - r->base >= r->len ||
		    len > r->len - (addr - r->base))
			continue;
		if (is_write && r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
		else if (!is_write && r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
		else if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	if (!is_write)
		memset(data, 0xff, len);
	bus_log_unknown(b, addr, len, is_write);
	return -ENOENT;
}
