/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reservation under the registry lock: repair what dead guests left, then
 * pick this guest's categories beside the live ones and store its entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

int svirt_reg_live(struct svirt_reg *r, const struct svirt_config *cfg,
		   const char *boot_id, struct svirt_entry **live, size_t *nlive,
		   int *repaired)
{
	struct svirt_entry *v, tmp;
	size_t n, nl = 0;
	int rc;

	*repaired = 0;
	rc = svirt_reg_load(r, &v, &n);
	if (rc)
		return rc;
	/* Live entries to the front, dead ones behind them. */
	for (size_t i = 0; i < n; i++) {
		if (!svirt_entry_alive(&v[i], boot_id))
			continue;
		if (i != nl) {
			tmp = v[nl];
			v[nl] = v[i];
			v[i] = tmp;
		}
		nl++;
	}
	for (size_t i = nl; i < n; i++) {
		log_info("guest %s is gone; repairing its %u labels",
			 v[i].name, (unsigned)v[i].nfiles);
		if (!svirt_reclaim(r, &v[i], v, nl)) {
			(*repaired)++;
			if (cfg->gone)
				cfg->gone(v[i].name, v[i].nprocs > 1 ?
					  v[i].procs[v[i].nprocs - 1].pid : 0);
			continue;
		}
		/* Not repaired: its categories stay reserved, as if alive. */
		tmp = v[nl];
		v[nl] = v[i];
		v[i] = tmp;
		nl++;
	}
	*live = v;
	*nlive = nl;
	return 0;
}

static int pick_private(struct svirt_vm *vm, const struct svirt_entry *live,
			size_t nlive)
{
	int rc;

	if (vm->e->mode == SVIRT_MODE_DYNAMIC)
		return svirt_alloc_pair(&vm->cfg, live, nlive, &vm->e->priv);
	rc = svirt_alloc_check(&vm->e->priv, live, nlive);
	if (rc == -EBUSY)
		log_err("static label of %s: its categories contain, or are "
			"contained in, a live guest's or a group's; refusing",
			vm->e->name);
	return rc;
}

static int pick_groups(struct svirt_vm *vm, const char *const *groups,
		       size_t ngroups, const struct svirt_entry *live, size_t nlive)
{
	int rc;

	vm->full = vm->e->priv;
	for (size_t i = 0; i < ngroups; i++) {
		struct svirt_group *g = &vm->e->groups[i];

		rc = svirt_alloc_group(&vm->cfg, groups[i], &vm->full, live,
				       nlive, &g->cat);
		if (rc)
			return rc;
		snprintf(g->name, sizeof(g->name), "%s", groups[i]);
		vm->e->ngroups++;
		rc = svirt_cats_add(&vm->full, g->cat);
		if (rc)
			return rc;
	}
	return 0;
}

int svirt_vm_reserve(struct svirt_vm *vm, const char *const *groups,
		     size_t ngroups)
{
	struct svirt_entry *live = NULL;
	struct svirt_proc *me = &vm->e->procs[0];
	struct svirt_reg r;
	size_t nlive = 0;
	int rc, repaired;

	rc = svirt_boot_id(vm->e->boot_id, sizeof(vm->e->boot_id));
	me->pid = (int32_t)getpid();
	rc = rc ?: svirt_proc_start(me->pid, &me->start);
	if (rc)
		return rc;
	vm->e->nprocs = 1;
	rc = svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc)
		return rc;
	rc = svirt_reg_live(&r, &vm->cfg, vm->e->boot_id, &live, &nlive, &repaired);
	if (rc)
		goto out;
	for (size_t i = 0; i < nlive; i++)
		if (!strcmp(live[i].name, vm->e->name)) {
			log_err("a guest named %s is running already", vm->e->name);
			rc = -EEXIST;
			goto out;
		}
	rc = pick_private(vm, live, nlive);
	rc = rc ?: pick_groups(vm, groups, ngroups, live, nlive);
	rc = rc ?: svirt_cats_format(&vm->full, vm->level, sizeof(vm->level));
	rc = rc ?: svirt_reg_store(&r, vm->e);
out:
	free(live);
	svirt_reg_close(&r);
	return rc;
}

int svirt_gc(const struct svirt_config *cfg)
{
	char boot[SVIRT_BOOT_ID_MAX];
	struct svirt_entry *live = NULL;
	struct svirt_reg r;
	size_t nlive = 0;
	int rc, repaired = 0;

	rc = svirt_boot_id(boot, sizeof(boot));
	if (rc)
		return rc;
	rc = svirt_reg_open(cfg->registry_dir, &r);
	if (rc)
		return rc;
	rc = svirt_reg_live(&r, cfg, boot, &live, &nlive, &repaired);
	if (!rc)
		log_info("%d stale guests repaired, %zu still registered",
			 repaired, nlive);
	free(live);
	svirt_reg_close(&r);
	return rc ? rc : repaired;
}
