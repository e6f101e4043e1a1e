/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The category allocator.  A guest's private set must not be comparable
 * with any other live guest's (neither contains the other: MCS would let the
 * larger one dominate the smaller), and must not touch a category that a
 * shared-disk group uses.  Group categories are likewise disjoint from every
 * private set, so a group's disk is reachable by its members only.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

#define RANDOM_TRIES 64

static bool in_groups(const struct svirt_entry *e, uint16_t c)
{
	for (uint16_t i = 0; i < e->ngroups; i++)
		if (e->groups[i].cat == c)
			return true;
	return false;
}

/* 0 when CAND may be a new guest's private set beside the LIVE ones. */
int svirt_alloc_check(const struct svirt_cats *cand,
		      const struct svirt_entry *live, size_t nlive)
{
	if (cand->n == 0)
		return -EINVAL;
	for (size_t i = 0; i < nlive; i++) {
		if (svirt_cats_subset(cand, &live[i].priv) ||
		    svirt_cats_subset(&live[i].priv, cand))
			return -EBUSY;
		for (uint16_t k = 0; k < cand->n; k++)
			if (in_groups(&live[i], cand->c[k]))
				return -EBUSY;
	}
	return 0;
}

static int try_pair(uint16_t a, uint16_t b, const struct svirt_entry *live,
		    size_t nlive, struct svirt_cats *out)
{
	struct svirt_cats c = { 0 };

	if (a == b)
		return -EBUSY;
	svirt_cats_add(&c, a);
	svirt_cats_add(&c, b);
	if (svirt_alloc_check(&c, live, nlive))
		return -EBUSY;
	*out = c;
	return 0;
}

/* Every pair of the range, starting at a random first category. */
static int scan_pairs(const struct svirt_config *cfg, const struct svirt_entry *live,
		      size_t nlive, struct svirt_cats *out)
{
	uint32_t span = (uint32_t)cfg->cat_hi - cfg->cat_lo + 1;
	uint16_t start;
	int rc;

	rc = svirt_random_range(0, (uint16_t)(span - 1), &start);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t a = (uint16_t)(cfg->cat_lo + (start + i) % span);

		for (uint32_t b = cfg->cat_lo; b <= cfg->cat_hi; b++)
			if (!try_pair(a, (uint16_t)b, live, nlive, out))
				return 0;
	}
	return -ENOSPC;
}

/*
 * A random pair cA,cB (A != B) from the configured range.  RANDOM_TRIES
 * draws from getrandom(); if all collide, a full scan decides for certain
 * whether any pair is left, so the answer is bounded and exact.
 */
int svirt_alloc_pair(const struct svirt_config *cfg,
		     const struct svirt_entry *live, size_t nlive,
		     struct svirt_cats *out)
{
	uint16_t a, b;
	int rc;

	if (cfg->cat_hi <= cfg->cat_lo || cfg->cat_hi >= SVIRT_CAT_LIMIT)
		return -EINVAL;
	for (int i = 0; i < RANDOM_TRIES; i++) {
		rc = svirt_random_range(cfg->cat_lo, cfg->cat_hi, &a);
		rc = rc ?: svirt_random_range(cfg->cat_lo, cfg->cat_hi, &b);
		if (rc)
			return rc;
		if (!try_pair(a, b, live, nlive, out))
			return 0;
	}
	rc = scan_pairs(cfg, live, nlive, out);
	if (rc == -ENOSPC)
		log_err("category range c%u.c%u exhausted: no pair is free beside "
			"the %zu registered guests",
			(unsigned)cfg->cat_lo, (unsigned)cfg->cat_hi, nlive);
	return rc;
}

static bool cat_taken(uint16_t c, const struct svirt_cats *mine,
		      const struct svirt_entry *live, size_t nlive)
{
	if (svirt_cats_has(mine, c))
		return true;
	for (size_t i = 0; i < nlive; i++)
		if (svirt_cats_has(&live[i].priv, c) || in_groups(&live[i], c))
			return true;
	return false;
}

/* The category of shared-disk group GROUP: the one its live members hold,
 * or a new one that no private set and no other group uses. */
int svirt_alloc_group(const struct svirt_config *cfg, const char *group,
		      const struct svirt_cats *mine,
		      const struct svirt_entry *live, size_t nlive, uint16_t *cat)
{
	uint32_t span = (uint32_t)cfg->cat_hi - cfg->cat_lo + 1;
	uint16_t start;
	int rc;

	for (size_t i = 0; i < nlive; i++)
		for (uint16_t j = 0; j < live[i].ngroups; j++)
			if (!strcmp(live[i].groups[j].name, group)) {
				*cat = live[i].groups[j].cat;
				return svirt_cats_has(mine, *cat) ? -EBUSY : 0;
			}
	rc = svirt_random_range(0, (uint16_t)(span - 1), &start);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t c = (uint16_t)(cfg->cat_lo + (start + i) % span);

		if (!cat_taken(c, mine, live, nlive)) {
			*cat = c;
			return 0;
		}
	}
	log_err("category range exhausted: no category left for group %s", group);
	return -ENOSPC;
}
