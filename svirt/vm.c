/* SPDX-License-Identifier: Apache-2.0 */
/* A guest's svirt record: settings, modes, creation and release. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

static const char *const mode_names[] = {
	[SVIRT_MODE_DYNAMIC] = "dynamic",
	[SVIRT_MODE_STATIC] = "static",
	[SVIRT_MODE_OFF] = "off",
};

void svirt_config_default(struct svirt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->registry_dir, sizeof(cfg->registry_dir), "%s",
		 SVIRT_REGISTRY_DIR);
	cfg->cat_lo = 0;
	cfg->cat_hi = SVIRT_CAT_LIMIT - 1;
	cfg->user = "system_u";
	cfg->domain_role = "system_r";
	cfg->object_role = "object_r";
	cfg->vmm_type = "bulwark_vmm_t";
	cfg->vtpm_type = "bulwark_vtpm_t";
	cfg->memfd_type = "bulwark_memfd_t";
	cfg->obj_type[SVIRT_OBJ_IMAGE] = "bulwark_image_t";
	cfg->obj_type[SVIRT_OBJ_CONTENT] = "bulwark_content_t";
	cfg->obj_type[SVIRT_OBJ_SHARED] = "bulwark_image_t";
	cfg->obj_type[SVIRT_OBJ_VTPM_STATE] = "bulwark_vtpm_state_t";
}

int svirt_mode_parse(const char *s, enum svirt_mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i])) {
			*out = (enum svirt_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *svirt_mode_name(enum svirt_mode mode)
{
	return (unsigned)mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

int svirt_range_parse(const char *s, struct svirt_config *cfg)
{
	struct svirt_cats c;
	char level[32];
	int n;

	n = snprintf(level, sizeof(level), "s0:%s", s);
	if (n < 0 || (size_t)n >= sizeof(level) || !strchr(s, '.') ||
	    strchr(s, ',') || svirt_cats_parse_level(level, &c) == -EINVAL)
		return -EINVAL;
	/* The set is too big to hold, but its ends are what we need. */
	if (sscanf(s, "c%hu.c%hu", &cfg->cat_lo, &cfg->cat_hi) != 2 ||
	    cfg->cat_hi >= SVIRT_CAT_LIMIT || cfg->cat_hi <= cfg->cat_lo)
		return -EINVAL;
	return 0;
}

const struct svirt_cats *svirt_vm_cats(const struct svirt_vm *vm)
{
	return &vm->full;
}

int svirt_vm_exec_label(const struct svirt_vm *vm, enum svirt_role role,
			char *buf, size_t len)
{
	const char *type = role == SVIRT_ROLE_VTPM ? vm->cfg.vtpm_type :
						     vm->cfg.vmm_type;

	return svirt_label_compose(vm->cfg.user, vm->cfg.domain_role, type,
				   &vm->full, buf, len);
}

int svirt_vm_state(const struct svirt_vm *vm, struct svirt_state *st)
{
	return svirt_vm_exec_label(vm, SVIRT_ROLE_VMM, st->vmm_label,
				   sizeof(st->vmm_label)) ?:
	       svirt_vm_exec_label(vm, SVIRT_ROLE_VTPM, st->vtpm_label,
				   sizeof(st->vtpm_label));
}

/* The static label: a valid context of the VMM type at one level. */
static int static_cats(const struct svirt_config *cfg, const char *label,
		       struct svirt_cats *out)
{
	char type[SVIRT_LABEL_MAX];
	const char *level;

	if (!label || !svirt_label_valid(label) ||
	    svirt_label_split(label, type, sizeof(type), &level)) {
		log_err("static label '%s' is not a context", label ? label : "");
		return -EINVAL;
	}
	if (strcmp(type, cfg->vmm_type)) {
		log_err("static label %s: type must be %s", label, cfg->vmm_type);
		return -EINVAL;
	}
	if (svirt_cats_parse_level(level, out) || out->n == 0) {
		log_err("static label %s: level must be s0 with 1..%d categories",
			label, SVIRT_SET_MAX - SVIRT_GROUPS_MAX);
		return -EINVAL;
	}
	if (security_check_context_raw(label)) {
		log_err("static label %s is not valid in the loaded policy", label);
		return -EINVAL;
	}
	return 0;
}

static int vm_validate(const struct svirt_config *cfg, const char *name,
		       enum svirt_mode mode, const char *const *groups,
		       size_t ngroups)
{
	if (!svirt_name_valid(name)) {
		log_err("guest name '%s' is invalid (1-%d of [A-Za-z0-9._-])",
			name, SVIRT_NAME_MAX - 1);
		return -EINVAL;
	}
	if (mode != SVIRT_MODE_DYNAMIC && mode != SVIRT_MODE_STATIC)
		return -EINVAL;
	if (ngroups > SVIRT_GROUPS_MAX) {
		log_err("at most %d shared-disk groups per guest", SVIRT_GROUPS_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < ngroups; i++)
		if (!svirt_name_valid(groups[i])) {
			log_err("group name '%s' is invalid", groups[i]);
			return -EINVAL;
		}
	if (cfg->cat_hi <= cfg->cat_lo || cfg->cat_hi >= SVIRT_CAT_LIMIT)
		return -EINVAL;
	return 0;
}

void svirt_vm_forget(struct svirt_vm *vm)
{
	if (!vm)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(vm->fds); i++)
		if (vm->fds[i] >= 0)
			close(vm->fds[i]);
	free(vm->e);
	free(vm);
}

struct svirt_vm *svirt_vm_alloc(const struct svirt_config *cfg)
{
	struct svirt_vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->e = calloc(1, sizeof(*vm->e));
	if (!vm->e) {
		free(vm);
		return NULL;
	}
	vm->cfg = *cfg;
	for (size_t i = 0; i < ARRAY_SIZE(vm->fds); i++)
		vm->fds[i] = -1;
	return vm;
}

int svirt_vm_create(const struct svirt_config *cfg, const char *name,
		    enum svirt_mode mode, const char *static_label,
		    const char *const *groups, size_t ngroups,
		    struct svirt_vm **out)
{
	struct svirt_cats fixed = { 0 };
	struct svirt_vm *vm;
	int rc;

	*out = NULL;
	rc = vm_validate(cfg, name, mode, groups, ngroups);
	if (!rc && mode == SVIRT_MODE_STATIC)
		rc = static_cats(cfg, static_label, &fixed);
	if (rc)
		return rc;
	vm = svirt_vm_alloc(cfg);
	if (!vm)
		return -ENOMEM;
	snprintf(vm->e->name, sizeof(vm->e->name), "%s", name);
	vm->e->mode = mode;
	vm->e->priv = fixed;
	rc = svirt_vm_reserve(vm, groups, ngroups);
	if (rc) {
		svirt_vm_forget(vm);
		return rc;
	}
	log_info("guest %s: categories %s reserved (%s)", name, vm->level,
		 svirt_mode_name(mode));
	*out = vm;
	return 0;
}

int svirt_vm_add_pid(struct svirt_vm *vm, pid_t pid)
{
	struct svirt_reg r;
	struct svirt_proc *p;
	int rc;

	if (vm->e->nprocs >= ARRAY_SIZE(vm->e->procs))
		return -E2BIG;
	p = &vm->e->procs[vm->e->nprocs];
	p->pid = (int32_t)pid;
	rc = svirt_proc_start(p->pid, &p->start);
	if (rc)
		return rc;
	rc = svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc)
		return rc;
	vm->e->nprocs++;
	rc = svirt_reg_store(&r, vm->e);
	if (rc)
		vm->e->nprocs--;
	svirt_reg_close(&r);
	return rc;
}
