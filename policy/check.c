/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a binary policy and asking libsepol about it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sepol/debug.h>
#include <sepol/policydb.h>
#include <sepol/policydb/avtab.h>
#include <sepol/policydb/services.h>

#include "attest/vtpm/policy_digest.h"
#include "core/launch/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "policy/check.h"

uint32_t pc_type(const struct pc *pc, const char *name)
{
	type_datum_t *t = hashtab_search(pc->p->p_types.table, name);

	return t ? t->s.value : 0;
}

const char *pc_type_name(const struct pc *pc, uint32_t value)
{
	if (value == 0 || value > pc->p->p_types.nprim)
		return "?";
	return pc->p->p_type_val_to_name[value - 1];
}

bool pc_is_attr(const struct pc *pc, uint32_t value)
{
	return pc->p->type_val_to_struct[value - 1]->flavor == TYPE_ATTRIB;
}

/* Does type TYPE match A (A itself, or an attribute TYPE has)? */
bool pc_type_has(const struct pc *pc, uint32_t type, uint32_t a)
{
	if (type == a)
		return true;
	return ebitmap_get_bit(&pc->p->type_attr_map[type - 1], a - 1);
}

void pc_avtab_walk(avtab_t *h, int (*fn)(avtab_key_t *, avtab_datum_t *, void *),
		   void *arg)
{
	for (uint32_t i = 0; h->htable && i < h->nslot; i++)
		for (avtab_ptr_t n = h->htable[i]; n; n = n->next)
			fn(&n->key, &n->datum, arg);
}

const char *pc_perms_str(uint16_t cls, uint32_t av)
{
	const char *s = sepol_av_perm_to_string(cls, av);

	if (!s)
		return "?";
	while (*s == ' ')
		s++;
	return s;
}

void pc_fail(struct pc *pc, const char *fmt, ...)
{
	va_list ap;

	pc->violations++;
	fprintf(pc->out, "  FAIL ");
	va_start(ap, fmt);
	vfprintf(pc->out, fmt, ap);
	va_end(ap);
	fputc('\n', pc->out);
}

/* Class and permission values; a name the policy lacks falls under its
 * handle_unknown setting, which the caller must treat as "allowed" when it
 * is allow. */
static int pc_perm(const char *cls, const char *perm, sepol_security_class_t *c,
		   sepol_access_vector_t *av)
{
	if (sepol_string_to_security_class(cls, c) ||
	    sepol_string_to_av_perm(*c, perm, av))
		return -ENOENT;
	return 0;
}

int pc_allowed(struct pc *pc, const char *sctx, const char *tctx,
	       const char *cls, const char *perm, bool *allowed)
{
	struct sepol_av_decision avd;
	sepol_security_id_t s, t;
	sepol_security_class_t c;
	sepol_access_vector_t av;
	unsigned int reason = 0;

	pc->checks++;
	if (pc_perm(cls, perm, &c, &av)) {
		*allowed = pc->p->handle_unknown == ALLOW_UNKNOWN;
		return 0;
	}
	if (sepol_context_to_sid(sctx, strlen(sctx) + 1, &s) ||
	    sepol_context_to_sid(tctx, strlen(tctx) + 1, &t)) {
		fprintf(pc->out, "  ERROR invalid context %s or %s in this policy\n",
			sctx, tctx);
		return -EINVAL;
	}
	if (sepol_compute_av_reason(s, t, c, av, &avd, &reason))
		return -EIO;
	*allowed = (avd.allowed & av) == av;
	return 0;
}

/*
 * Which permissions of AV on class CLS (values) from guest type S survive
 * the constraints (MCS and type constraints alike) towards type T: the
 * guest runs at s0:c1,c2, and T is tried as an object and as a process, at
 * s0, at the guest's own pair and at the whole range.  A permission denied
 * in every one of these is taken away by a constraint that does not depend
 * on the target's level or role (a level-based denial always lets the
 * guest reach s0).  Contexts the policy finds invalid are skipped.
 */
uint32_t pc_effective(struct pc *pc, uint32_t s, uint32_t t, uint16_t cls,
		      uint32_t av)
{
	static const char *const roles[] = { "object_r", "system_r" };
	static const char *const levels[] = { "s0", "s0:c1,c2", "s0-s0:c0.c1023" };
	struct sepol_av_decision avd;
	sepol_security_id_t ssid, tsid;
	char sctx[256], tctx[256];
	uint32_t eff = 0;
	unsigned int reason;

	snprintf(sctx, sizeof(sctx), "system_u:system_r:%s:s0:c1,c2", pc_type_name(pc, s));
	if (sepol_context_to_sid(sctx, strlen(sctx) + 1, &ssid))
		return av;
	for (size_t r = 0; r < ARRAY_SIZE(roles); r++)
		for (size_t l = 0; l < ARRAY_SIZE(levels); l++) {
			snprintf(tctx, sizeof(tctx), "system_u:%s:%s:%s", roles[r],
				 pc_type_name(pc, t), levels[l]);
			if (sepol_context_to_sid(tctx, strlen(tctx) + 1, &tsid))
				continue;
			reason = 0;
			if (sepol_compute_av_reason(ssid, tsid, cls, av, &avd, &reason))
				return av;
			eff |= avd.allowed & av;
		}
	return eff;
}

struct rule_find {
	const struct pc *pc;
	uint32_t s, t;
	uint16_t cls;
	uint32_t av;
	char *buf;
	size_t len;
	bool found;
};

static int rule_find_one(avtab_key_t *k, avtab_datum_t *d, void *arg)
{
	struct rule_find *rf = arg;

	if (rf->found || !(k->specified & AVTAB_ALLOWED) || k->target_class != rf->cls ||
	    !(d->data & rf->av) || !pc_type_has(rf->pc, rf->s, k->source_type) ||
	    !pc_type_has(rf->pc, rf->t, k->target_type))
		return 0;
	snprintf(rf->buf, rf->len, "allow %s %s:%s { %s }",
		 pc_type_name(rf->pc, k->source_type),
		 pc_type_name(rf->pc, k->target_type),
		 rf->pc->p->p_class_val_to_name[k->target_class - 1],
		 pc_perms_str(k->target_class, d->data));
	rf->found = true;
	return 0;
}

void pc_rule(const struct pc *pc, uint32_t s, uint32_t t, const char *cls,
	     const char *perm, char *buf, size_t len)
{
	struct rule_find rf = { .pc = pc, .s = s, .t = t, .buf = buf, .len = len };
	sepol_security_class_t c;

	snprintf(buf, len, "no allow rule (unknown class or permission allowed)");
	if (pc_perm(cls, perm, &c, &rf.av))
		return;
	rf.cls = c;
	pc_avtab_walk(&pc->p->te_avtab, rule_find_one, &rf);
	if (!rf.found)
		pc_avtab_walk(&pc->p->te_cond_avtab, rule_find_one, &rf);
	if (!rf.found)
		snprintf(buf, len, "no allow rule found");
}

static void print_hex(FILE *out, const char *label, const unsigned char *md, size_t n)
{
	char hex[2 * 64 + 1];

	if (n > 64)
		n = 64;
	hex_encode(md, n, hex);
	fprintf(out, "%s: %s\n", label, hex);
}

static void print_digest(const char *path, FILE *out)
{
	unsigned char md[32], buf[65536];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rbe");
	size_t n;

	if (!ctx || !f || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (!EVP_DigestFinal_ex(ctx, md, &len))
		goto out;
	print_hex(out, "file sha256", md, len);
	/* What the launcher measures into PCR 7 (attest/vtpm/policy_digest.h), so
	 * the auditor's report names the value a bundle must carry. */
	if (!policy_digest_file(path, md))
		print_hex(out, "policy digest (measured, PCR 7)", md, 32);
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
}

static int pc_load(struct pc *pc, const char *path)
{
	sepol_policy_file_t *pf = NULL;
	FILE *f;
	int rc = -EINVAL;

	f = fopen(path, "rbe");
	if (!f) {
		fprintf(stderr, "bulwark policy: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (sepol_policy_file_create(&pf) || sepol_policydb_create(&pc->pdb))
		goto out;
	sepol_policy_file_set_fp(pf, f);
	if (sepol_policydb_read(pc->pdb, pf)) {
		fprintf(stderr, "bulwark policy: %s: not a binary policy libsepol "
			"can read\n", path);
		goto out;
	}
	pc->p = &pc->pdb->p;
	if (!pc->p->mls) {
		fprintf(stderr, "bulwark policy: %s: not an MLS policy; "
			"MCS separation cannot hold\n", path);
		goto out;
	}
	if (sepol_set_policydb(pc->p) || sepol_sidtab_init(&pc->sidtab) ||
	    sepol_set_sidtab(&pc->sidtab))
		goto out;
	rc = 0;
out:
	sepol_policy_file_free(pf);
	fclose(f);
	return rc;
}

static void pc_unload(struct pc *pc)
{
	if (pc->p)
		sepol_sidtab_destroy(&pc->sidtab);
	sepol_policydb_free(pc->pdb);
	pc->pdb = NULL;
	pc->p = NULL;
}

int policy_check_file(const char *path, FILE *out)
{
	static int (*const props[])(struct pc *) = {
		prop_positive, prop_cross_pair, prop_content_readonly,
		prop_vtpm_state, prop_allowlist, prop_vtpm_channel,
		prop_unix_sockets, prop_fd_signal, prop_secrets, prop_entrypoints,
	};
	struct pc pc = { .out = out };
	int rc;

	sepol_debug(0);
	rc = pc_load(&pc, path);
	if (rc) {
		pc_unload(&pc);
		return rc;
	}
	fprintf(out, "bulwark policy check\npolicy: %s\n", path);
	print_digest(path, out);
	fprintf(out, "policy version %u, MLS, unknown permissions %s\n",
		pc.p->policyvers, pc.p->handle_unknown == ALLOW_UNKNOWN ? "allowed" :
		pc.p->handle_unknown == DENY_UNKNOWN ? "denied" : "rejected");
	for (size_t i = 0; i < ARRAY_SIZE(props) && rc >= 0; i++)
		rc = props[i](&pc);
	if (rc >= 0) {
		fprintf(out, "result: %u checks, %u violations: %s\n", pc.checks,
			pc.violations, pc.violations ? "FAIL" : "PASS");
		rc = (int)pc.violations;
	}
	pc_unload(&pc);
	return rc;
}

/* The policy the running kernel enforces, as selinuxfs serves it. */
#define POLICY_LOADED "/sys/fs/selinux/policy"

int cmd_policy(int argc, char **argv)
{
	const char *path;
	int rc;

	if (argc != 3 || strcmp(argv[1], "check")) {
		fprintf(stderr, "usage: bulwark policy check POLICYFILE|--loaded\n");
		return 2;
	}
	path = argv[2];
	if (!strcmp(path, "--loaded")) {
		path = POLICY_LOADED;
		if (access(path, R_OK)) {
			fprintf(stderr, "bulwark policy: --loaded: cannot read %s (%s): "
				"is SELinux enabled, and selinuxfs mounted?\n", path,
				strerror(errno));
			return 2;
		}
	}
	rc = policy_check_file(path, stdout);
	if (rc < 0) {
		fprintf(stderr, "bulwark policy: cannot check %s: %s\n", path,
			strerror(-rc));
		return 2;
	}
	return rc ? 1 : 0;
}
