/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a guest domain must never have, whoever else it is separated from
 * (issue 12): a channel to the vTPM, a unix socket of its own, the host's
 * secrets and the launcher's keys, and a way in from any program but
 * Bulwark's own.  Each violation names its property and the rule behind it.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sepol/policydb/avtab.h>
#include <sepol/policydb/services.h>

#include "core/util.h"
#include "policy/check.h"

/*
 * One rule scan: every allow rule that grants a source matching SRC to a
 * target matching TGT (each a type, or 0 for any) a permission of MASK on
 * class CLS, expanded to the concrete source and target types, is passed to
 * BAD, which says whether that pair is a violation, unless a constraint
 * takes those permissions away from the pair.  Each violating rule is
 * reported once.
 */
struct rscan {
	struct pc *pc;
	const char *what;
	uint32_t src, tgt;
	uint16_t cls;
	uint32_t mask;
	bool (*bad)(const struct rscan *rs, uint32_t s, uint32_t t);
	int found;
};

static bool rscan_pair(struct rscan *rs, const avtab_key_t *k, uint32_t data)
{
	struct pc *pc = rs->pc;
	uint32_t n = pc->p->p_types.nprim;

	for (uint32_t s = rs->src ? rs->src : 1; s <= (rs->src ? rs->src : n); s++) {
		if (pc_is_attr(pc, s) || !pc_type_has(pc, s, k->source_type))
			continue;
		for (uint32_t t = rs->tgt ? rs->tgt : 1; t <= (rs->tgt ? rs->tgt : n); t++) {
			char bad[256];

			if (pc_is_attr(pc, t) || !pc_type_has(pc, t, k->target_type) ||
			    !rs->bad(rs, s, t))
				continue;
			/* A rule a constraint takes away from this pair
			 * (policy/refpolicy.cil) grants nothing. */
			if (!pc_effective(pc, s, t, k->target_class, data & rs->mask))
				continue;
			/* pc_perms_str's buffer is static: one call per line. */
			snprintf(bad, sizeof(bad), "%s",
				 pc_perms_str(k->target_class, data & rs->mask));
			pc_fail(rs->pc, "%s: %s may %s:{ %s } on %s: \"allow %s %s:%s { %s }\"",
				rs->what, pc_type_name(pc, s),
				pc->p->p_class_val_to_name[k->target_class - 1], bad,
				pc_type_name(pc, t), pc_type_name(pc, k->source_type),
				pc_type_name(pc, k->target_type),
				pc->p->p_class_val_to_name[k->target_class - 1],
				pc_perms_str(k->target_class, data));
			return true;
		}
	}
	return false;
}

static int rscan_one(avtab_key_t *k, avtab_datum_t *d, void *arg)
{
	struct rscan *rs = arg;

	if (!(k->specified & AVTAB_ALLOWED) || k->target_class != rs->cls ||
	    !(d->data & rs->mask))
		return 0;
	if ((rs->src && !pc_type_has(rs->pc, rs->src, k->source_type)) ||
	    (rs->tgt && !pc_type_has(rs->pc, rs->tgt, k->target_type)))
		return 0;
	if (rscan_pair(rs, k, d->data))
		rs->found++;
	return 0;
}

/* Scans both rule tables; returns the number of violating rules, or
 * -ENOENT when the class or a permission is unknown to the policy (which,
 * under handle_unknown allow, would let everything through). */
static int rscan_run(struct rscan *rs, const char *cls, const char *perms)
{
	char buf[128], *save = NULL;
	sepol_security_class_t c;
	sepol_access_vector_t av;

	if (sepol_string_to_security_class(cls, &c))
		return -ENOENT;
	rs->cls = c;
	rs->mask = 0;
	snprintf(buf, sizeof(buf), "%s", perms);
	for (char *p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		if (sepol_string_to_av_perm(c, p, &av))
			return -ENOENT;
		rs->mask |= av;
	}
	rs->found = 0;
	rs->pc->checks++;
	pc_avtab_walk(&rs->pc->p->te_avtab, rscan_one, rs);
	pc_avtab_walk(&rs->pc->p->te_cond_avtab, rscan_one, rs);
	return rs->found;
}

/* A class the policy does not declare is checked by handle_unknown. */
static int rscan_class(struct rscan *rs, const char *cls, const char *perms)
{
	int rc = rscan_run(rs, cls, perms);

	if (rc != -ENOENT)
		return rc;
	if (rs->pc->p->handle_unknown != ALLOW_UNKNOWN)
		return 0;
	pc_fail(rs->pc, "%s: class %s or one of { %s } is unknown to the policy, "
		"and unknown permissions are allowed", rs->what, cls, perms);
	return 1;
}

static bool any_target(const struct rscan *rs, uint32_t s, uint32_t t)
{
	(void)rs, (void)s, (void)t;
	return true;
}

int prop_vtpm_channel(struct pc *pc)
{
	static const struct perms p = { "unix_stream_socket", "connectto" };
	static const char what[] = "vtpm-channel";
	uint32_t vmm = pc_type(pc, "bulwark_vmm_t"), vtpm = pc_type(pc, "bulwark_vtpm_t");
	struct rscan rs = { .pc = pc, .what = what, .src = vmm, .bad = any_target };
	int rc, bad = 0;

	fprintf(pc->out, "\n[6] vtpm-channel: the VMM connects to no unix socket, "
		"its own vTPM's least\n    (the launcher proxies every TPM "
		"command; no swtpm channel reaches the VMM)\n");
	if (!vmm || !vtpm) {
		pc_fail(pc, "%s: type bulwark_vmm_t or bulwark_vtpm_t is missing", what);
		return 0;
	}
	rc = pc_expect(pc, vmm, "s0:c1,c2", vtpm, "s0:c1,c2", true, &p, false, what);
	if (rc < 0)
		return rc;
	bad += rc;
	/* No connectto to any type: every socket the VMM has is a socketpair
	 * end the launcher handed over. */
	rc = rscan_class(&rs, p.cls, p.perms);
	if (rc < 0)
		return rc;
	return pc_report(pc, bad + rc, "the VMM domain has no connectto, to any type");
}

int prop_unix_sockets(struct pc *pc)
{
	static const struct perms p[] = {
		{ "unix_stream_socket", "create bind listen accept" },
		{ "unix_dgram_socket", "create bind" },
	};
	static const char what[] = "unix-sockets";
	uint32_t g[GUESTS_MAX];
	size_t ng = pc_guests(pc, g);
	struct rscan rs = { .pc = pc, .what = what, .bad = any_target };
	int rc, bad = 0;

	fprintf(pc->out, "\n[7] unix-sockets: no guest domain creates, binds, "
		"listens on or accepts a unix socket\n");
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < ARRAY_SIZE(p); j++) {
			/* The kernel checks creation against the creator's own
			 * label: ask it as the kernel would ... */
			rc = pc_expect(pc, g[i], "s0:c1,c2", g[i], "s0:c1,c2", true,
				       &p[j], false, what);
			if (rc < 0)
				return rc;
			bad += rc;
			/* ... and refuse any rule that would grant it for another
			 * label (setsockcreatecon, a type transition). */
			rs.src = g[i];
			rc = rscan_class(&rs, p[j].cls, p[j].perms);
			if (rc < 0)
				return rc;
			bad += rc;
		}
	return pc_report(pc, bad, "guest domains have no unix socket of their own");
}

/* The types no guest domain may reach: the launcher's keys (required) and
 * the host's secrets, under the names the standalone policy and the
 * reference policy give them. */
static const char *const secret_types[] = {
	"bulwark_key_t", "host_secret_t", "shadow_t",
};

/* What no guest domain may do to a secret... */
static const struct perms secret_perms[] = {
	{ "file", "read write append open getattr map execute ioctl lock "
		  "relabelfrom relabelto unlink rename link" },
	{ "dir", "read write search open getattr add_name remove_name" },
	{ "lnk_file", "read getattr" },
};

/* ... but swtpm reads its own state key through the descriptor the launcher
 * hands it (the kernel revalidates inherited descriptors at exec): read and
 * getattr on the file, never open, and no search in the key folder. */
static const struct perms vtpm_key_perms[] = {
	{ "file", "write append open map execute ioctl lock relabelfrom "
		  "relabelto unlink rename link" },
	{ "dir", "read write search open getattr add_name remove_name" },
	{ "lnk_file", "read getattr" },
};

static const struct perms *secret_denied(const struct pc *pc, uint32_t d,
					 const char *secret)
{
	if (d == pc_type(pc, "bulwark_vtpm_t") && !strcmp(secret, "bulwark_key_t"))
		return vtpm_key_perms;
	return secret_perms;
}

int prop_secrets(struct pc *pc)
{
	static_assert(ARRAY_SIZE(secret_perms) == ARRAY_SIZE(vtpm_key_perms),
		      "one entry per class");
	static const char *const levels[] = { "s0", "s0:c1,c2" };
	static const char what[] = "secrets";
	uint32_t g[GUESTS_MAX];
	size_t ng = pc_guests(pc, g);
	int rc, bad = 0;

	fprintf(pc->out, "\n[9] secrets: no guest domain reaches the launcher's "
		"state keys and CA keys, or the host's secrets\n    (swtpm reads "
		"its own key only through the descriptor the launcher hands it)\n");
	if (!pc_type(pc, secret_types[0])) {
		pc_fail(pc, "%s: type %s is missing", what, secret_types[0]);
		return 0;
	}
	for (size_t s = 0; s < ARRAY_SIZE(secret_types); s++) {
		uint32_t t = pc_type(pc, secret_types[s]);

		if (!t || pc_is_attr(pc, t))
			continue;
		fprintf(pc->out, "    %s\n", secret_types[s]);
		for (size_t i = 0; i < ng; i++) {
			const struct perms *p = secret_denied(pc, g[i], secret_types[s]);

			for (size_t l = 0; l < ARRAY_SIZE(levels); l++)
				for (size_t j = 0; j < ARRAY_SIZE(secret_perms); j++) {
					rc = pc_expect(pc, g[i], "s0:c1,c2", t, levels[l],
						       false, &p[j], false, what);
					if (rc < 0)
						return rc;
					bad += rc;
				}
		}
	}
	return pc_report(pc, bad, "no guest domain opens, writes or lists a secret");
}

/* Entrypoints: each guest domain's own program type, nothing else. */
static const struct {
	const char *domain, *exec;
} entries[] = {
	{ "bulwark_vmm_t", "bulwark_vmm_exec_t" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_exec_t" },
};

static bool wrong_entry(const struct rscan *rs, uint32_t s, uint32_t t)
{
	const struct pc *pc = rs->pc;

	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(entries); i++)
		if (rs->src == pc_type(pc, entries[i].domain))
			return t != pc_type(pc, entries[i].exec);
	return true; /* a guest domain Bulwark does not know has no entrypoint */
}

/* A transition into a guest domain from anything but a launcher. */
static bool not_launcher(const struct rscan *rs, uint32_t s, uint32_t t)
{
	uint32_t la = pc_type(rs->pc, LAUNCHER_ATTR);

	(void)t;
	return !(la && pc_type_has(rs->pc, s, la));
}

int prop_entrypoints(struct pc *pc)
{
	static const char what[] = "entrypoints";
	uint32_t g[GUESTS_MAX];
	size_t ng = pc_guests(pc, g);
	struct rscan rs;
	int rc, bad = 0;

	fprintf(pc->out, "\n[10] entrypoints: only bulwark_vmm_exec_t enters the "
		"VMM domain, only bulwark_vtpm_exec_t\n     the vTPM domain, and "
		"only a launcher domain transitions into either\n");
	for (size_t i = 0; i < ng; i++) {
		rs = (struct rscan){ .pc = pc, .what = what, .src = g[i],
				     .bad = wrong_entry };
		rc = rscan_class(&rs, "file", "entrypoint");
		if (rc < 0)
			return rc;
		bad += rc;
		rs = (struct rscan){ .pc = pc, .what = what, .tgt = g[i],
				     .bad = not_launcher };
		rc = rscan_class(&rs, "process", "transition dyntransition");
		if (rc < 0)
			return rc;
		bad += rc;
	}
	return pc_report(pc, bad, "entrypoints and transitions into guest domains");
}
