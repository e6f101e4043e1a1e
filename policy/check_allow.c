/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allowlist: everything a guest domain may do, whatever the levels.
 * Every allow rule that gives a guest domain anything else is a violation,
 * named; so is any way out of the domain (a process transition to another
 * type, dyntransition, setcurrent, setexec, or a type_transition).
 * Targets may be attributes the host glue fills in (bulwark_sys_file,
 * bulwark_launcher_domain); the report lists their members for the auditor.
 * No unix socket of a guest's own and no connectto are on the list: every
 * channel a guest has is a socketpair end its launcher made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sepol/policydb/avtab.h>
#include <sepol/policydb/services.h>

#include "core/util.h"
#include "policy/check.h"

struct allow_entry {
	const char *domain; /* NULL: every guest domain */
	const char *target; /* "self", a type or an attribute */
	const char *cls, *perms;
};

static const struct allow_entry allowlist[] = {
	{ NULL, "self", "process", "fork sigchld sigkill sigstop signull signal "
	  "getsched setsched getpgid getcap setcap getattr setrlimit getrlimit" },
	{ NULL, "self", "fd", "use" },
	{ NULL, "self", "fifo_file", "read write getattr ioctl" },
	{ NULL, "bulwark_sys_file", "dir", "search getattr read open" },
	{ NULL, "bulwark_sys_file", "file", "read open getattr map execute" },
	{ NULL, "bulwark_sys_file", "lnk_file", "read getattr" },
	{ NULL, "bulwark_sys_dir", "dir", "search getattr" },
	{ NULL, "bulwark_launcher_domain", "fd", "use" },
	{ NULL, "bulwark_launcher_domain", "process", "sigchld" },
	{ NULL, "bulwark_launcher_domain", "fifo_file", "read write append getattr ioctl" },
	{ NULL, "bulwark_launcher_domain", "unix_stream_socket",
	  "read write getattr getopt setopt shutdown" },
	/*
	 * What the reference policy grants every member of its `domain`
	 * attribute, which a guest domain must be on such a host (refpolicy
	 * forbids any process permission to a non-domain type): its own
	 * /proc/PID entries, /proc's symlinks, listing / and /dev, the null,
	 * zero and controlling-tty devices.  No other guest's object and no
	 * host secret is among them.  Names the policy lacks match nothing.
	 */
	{ NULL, "self", "dir", "getattr search open read lock ioctl" },
	{ NULL, "self", "file", "getattr open read write append ioctl lock" },
	{ NULL, "self", "lnk_file", "getattr read" },
	{ NULL, "proc_t", "dir", "getattr search" },
	{ NULL, "proc_t", "lnk_file", "getattr read" },
	{ NULL, "root_t", "dir", "getattr search open read lock ioctl" },
	{ NULL, "root_t", "lnk_file", "getattr read" },
	{ NULL, "device_t", "dir", "getattr search open read lock ioctl" },
	{ NULL, "null_device_t", "chr_file", "getattr open read write append ioctl lock" },
	{ NULL, "zero_device_t", "chr_file",
	  "getattr open read write append ioctl lock map" },
	{ NULL, "devtty_t", "chr_file", "getattr open read write append ioctl lock" },
	{ "bulwark_vmm_t", "bulwark_vmm_exec_t", "file",
	  "entrypoint read open getattr map execute" },
	{ "bulwark_vmm_t", "kvm_device_t", "chr_file", "read write open getattr ioctl map" },
	{ "bulwark_vmm_t", "tun_tap_device_t", "chr_file", "read write getattr ioctl" },
	{ "bulwark_vmm_t", "bulwark_image_t", "file",
	  "read write append open getattr lock ioctl map" },
	/* A block-device disk (a shared LUN), by the launcher's descriptor. */
	{ "bulwark_vmm_t", "bulwark_image_t", "blk_file", "read write getattr lock ioctl" },
	{ "bulwark_vmm_t", "bulwark_content_t", "file", "read open getattr lock ioctl map" },
	/* memfds by fd: the launcher's sealed ones (config, event log, given
	 * read-only) and the VMM's own (libseccomp's export). */
	{ "bulwark_vmm_t", "bulwark_memfd_t", "file", "read write getattr map" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_exec_t", "file",
	  "entrypoint read open getattr map execute" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_state_t", "dir",
	  "read open getattr search add_name remove_name write lock" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_state_t", "file",
	  "create read write append open getattr setattr lock unlink rename ioctl" },
	/* Its state key, through the descriptor the launcher hands swtpm: the
	 * kernel revalidates inherited descriptors at exec.  No open. */
	{ "bulwark_vtpm_t", "bulwark_key_t", "file", "read getattr" },
};

uint32_t pc_perm_mask(uint16_t cls, const char *perms)
{
	char buf[256], *save = NULL;
	sepol_access_vector_t av, mask = 0;

	snprintf(buf, sizeof(buf), "%s", perms);
	for (char *p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save))
		if (!sepol_string_to_av_perm(cls, p, &av))
			mask |= av;
	return mask;
}

bool pc_target_matches(const struct pc *pc, const char *target, uint32_t d, uint32_t t)
{
	uint32_t at;

	if (!strcmp(target, "self"))
		return t == d;
	return (at = pc_type(pc, target)) && pc_type_has(pc, t, at);
}

/* What the allowlist lets domain D do to type T in class CLS. */
static uint32_t allowed_mask(const struct pc *pc, uint32_t d, uint32_t t, uint16_t cls)
{
	const char *cname = pc->p->p_class_val_to_name[cls - 1];
	uint32_t mask = 0;

	for (size_t i = 0; i < ARRAY_SIZE(allowlist); i++) {
		const struct allow_entry *a = &allowlist[i];

		if (strcmp(a->cls, cname) ||
		    (a->domain && strcmp(a->domain, pc_type_name(pc, d))))
			continue;
		if (!pc_target_matches(pc, a->target, d, t))
			continue;
		mask |= pc_perm_mask(cls, a->perms);
	}
	return mask;
}

struct scan {
	struct pc *pc;
	uint32_t guests[16];
	size_t nguests;
	FILE *inh;          /* the inherited rules, listed after the scan */
	unsigned removed, accepted;
};

static void rule_text(const struct pc *pc, const avtab_key_t *k, uint32_t data,
		      char *buf, size_t len)
{
	snprintf(buf, len, "allow %s %s:%s { %s }", pc_type_name(pc, k->source_type),
		 pc_type_name(pc, k->target_type),
		 pc->p->p_class_val_to_name[k->target_class - 1],
		 pc_perms_str(k->target_class, data));
}

static void rule_violation(struct scan *sc, uint32_t d, uint32_t t,
			   const avtab_key_t *k, uint32_t data, uint32_t extra)
{
	const struct pc *pc = sc->pc;
	const char *cname = pc->p->p_class_val_to_name[k->target_class - 1];
	char rule[512], ex[512];
	bool out = !strcmp(cname, "process") &&
		   (extra & pc_perm_mask(k->target_class,
				      "transition dyntransition setcurrent setexec"));

	rule_text(pc, k, data, rule, sizeof(rule));
	snprintf(ex, sizeof(ex), "%s", pc_perms_str(k->target_class, extra));
	pc_fail(sc->pc, "%s may %s:{ %s } on %s: \"%s\" is outside the allowlist%s",
		pc_type_name(pc, d), cname, ex, pc_type_name(pc, t), rule,
		out ? " (A WAY OUT OF THE DOMAIN)" : "");
}

/* A rule that gives guest domain D more than the allowlist, all of it
 * either taken away by a constraint or on the reviewed list: listed as
 * inherited, once per rule and domain. */
static void rule_inherited(struct scan *sc, uint32_t d, const avtab_key_t *k,
			   uint32_t data, uint32_t removed, const char *reason)
{
	const struct pc *pc = sc->pc;
	char rule[512], rm[512] = "";

	rule_text(pc, k, data, rule, sizeof(rule));
	if (removed)
		snprintf(rm, sizeof(rm), "%s", pc_perms_str(k->target_class, removed));
	if (reason) {
		sc->accepted++;
		fprintf(sc->inh, "  accepted %s: \"%s\"%s%s%s\n           because: %s\n",
			pc_type_name(pc, d), rule, removed ? " (removed: { " : "", rm,
			removed ? " })" : "", reason);
	} else {
		sc->removed++;
		fprintf(sc->inh, "  removed  %s: \"%s\" (a constraint denies { %s })\n",
			pc_type_name(pc, d), rule, rm);
	}
}

/*
 * One rule against one guest domain, target type by target type: what the
 * allowlist does not cover must be taken away by a constraint, or be on the
 * reviewed list of inherited rules; the first target type where neither
 * holds is a violation (one line per rule and domain).
 */
static void scan_domain(struct scan *sc, uint32_t d, const avtab_key_t *k,
			uint32_t data)
{
	struct pc *pc = sc->pc;
	uint32_t removed = 0;
	const char *reason = NULL;

	if (!pc_type_has(pc, d, k->source_type))
		return;
	if (k->specified & AVTAB_TRANSITION) {
		if (!strcmp(pc->p->p_class_val_to_name[k->target_class - 1], "process") &&
		    data != d)
			pc_fail(sc->pc, "%s: \"type_transition %s %s:process %s\" "
				"moves it out of its domain", pc_type_name(pc, d),
				pc_type_name(pc, k->source_type),
				pc_type_name(pc, k->target_type), pc_type_name(pc, data));
		return;
	}
	for (uint32_t t = 1; t <= pc->p->p_types.nprim; t++) {
		uint32_t extra, eff;
		const char *r;

		if (pc_is_attr(pc, t) || !pc_type_has(pc, t, k->target_type))
			continue;
		extra = data & ~allowed_mask(pc, d, t, k->target_class);
		if (!extra)
			continue;
		eff = pc_effective(pc, d, t, k->target_class, extra);
		removed |= extra & ~eff;
		if (!eff)
			continue;
		r = pc_inherited_reason(pc, d, t, k->target_class, eff);
		if (!r) {
			rule_violation(sc, d, t, k, data, eff);
			return;
		}
		reason = r;
	}
	if (removed || reason)
		rule_inherited(sc, d, k, data, removed, reason);
}

static int scan_rule(avtab_key_t *k, avtab_datum_t *d, void *arg)
{
	struct scan *sc = arg;

	if (!(k->specified & (AVTAB_ALLOWED | AVTAB_TRANSITION)))
		return 0;
	for (size_t i = 0; i < sc->nguests; i++)
		scan_domain(sc, sc->guests[i], k, d->data);
	return 0;
}

static void print_members(const struct pc *pc, const char *attr)
{
	uint32_t a = pc_type(pc, attr);

	fprintf(pc->out, "    %s:", attr);
	for (uint32_t t = 1; a && t <= pc->p->p_types.nprim; t++)
		if (!pc_is_attr(pc, t) && pc_type_has(pc, t, a))
			fprintf(pc->out, " %s", pc_type_name(pc, t));
	fprintf(pc->out, "%s\n", a ? "" : " (absent)");
}

int prop_allowlist(struct pc *pc)
{
	struct scan sc = { .pc = pc };
	uint32_t attr = pc_type(pc, "bulwark_guest_domain");
	unsigned before = pc->violations;
	char *inh = NULL;
	size_t len = 0;

	sc.inh = open_memstream(&inh, &len);
	if (!sc.inh)
		return -ENOMEM;
	fprintf(pc->out, "\n[5] guest domains reach only allowlisted types and "
		"permissions, and never leave their domain\n");
	print_members(pc, "bulwark_sys_file");
	print_members(pc, "bulwark_sys_dir");
	print_members(pc, "bulwark_launcher_domain");
	for (uint32_t t = 1; attr && t <= pc->p->p_types.nprim; t++)
		if (!pc_is_attr(pc, t) && pc_type_has(pc, t, attr) &&
		    sc.nguests < ARRAY_SIZE(sc.guests))
			sc.guests[sc.nguests++] = t;
	pc_avtab_walk(&pc->p->te_avtab, scan_rule, &sc);
	pc_avtab_walk(&pc->p->te_cond_avtab, scan_rule, &sc);
	pc->checks++;
	fprintf(pc->out, "%s every allow and type_transition rule of a guest domain\n",
		pc->violations == before ? "  ok  " : "  ->");
	fclose(sc.inh);
	/* Listed apart: what the host policy grants every domain beyond the
	 * allowlist, each rule removed by a constraint or accepted with the
	 * reason from the reviewed list (policy/check_inherited.c). */
	fprintf(pc->out, "\n[5b] inherited: rules beyond the allowlist that reach a "
		"guest domain, %u removed by a constraint, %u accepted\n%s",
		sc.removed, sc.accepted, inh ? inh : "");
	free(inh);
	return 0;
}
