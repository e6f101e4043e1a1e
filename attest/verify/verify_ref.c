/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values: each measured item's digests (every bank) must be one
 * of the manifest's, and the measured security state (measure.h, canonical
 * v1) must show SELinux enforcing with an allowed policy, the guest's own
 * well-formed label with a category pair, and seccomp on with allowed filters.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/vtpm/measure.h"
#include "attest/verify/verify_priv.h"
#include "core/util.h"

#define SECSTATE_MAX_KEYS 64

static const enum verify_reason item_reason[MANIFEST_ITEMS] = {
	[MANIFEST_VMM] = VR_REF_VMM, [MANIFEST_CONFIG] = VR_REF_CONFIG,
	[MANIFEST_ACPI] = VR_REF_ACPI, [MANIFEST_KERNEL] = VR_REF_KERNEL,
	[MANIFEST_CMDLINE] = VR_REF_CMDLINE, [MANIFEST_INITRD] = VR_REF_INITRD,
};

/* 1 if ev's digests in every log bank are one allowed value; -1: bank unpinned. */
static int item_allowed(const struct manifest *m, const struct evlog_banks *banks,
			const struct manifest_list *l, const struct evlog_event *ev)
{
	for (size_t v = 0; v < l->count; v++) {
		uint32_t b;

		for (b = 0; b < banks->count; b++) {
			int mi = manifest_bank(m, banks->alg[b]);

			if (mi < 0)
				return -1;
			if (memcmp(l->v[v].digest[mi], ev->digests[b].bytes, banks->size[b]))
				break;
		}
		if (b == banks->count)
			return 1;
	}
	return 0;
}

static void items_check(struct verify_ctx *ctx, struct verify_result *res)
{
	const struct verify_work *w = &ctx->w;

	for (int it = 0; it < MANIFEST_ITEMS; it++) {
		const struct manifest_list *l = &ctx->m->item[it];
		int ev = w->item[it], ok;

		if (it == MANIFEST_ACPI && !ctx->m->acpi_pinned)
			continue;
		if (ev < 0) {
			if (l->count)    /* only the initrd is optional in the log */
				verify_fail(res, item_reason[it], "%s: not measured",
					    manifest_item_name(it));
			continue;
		}
		ok = item_allowed(ctx->m, &w->log_banks, l, &w->ev[ev]);
		if (ok < 0)
			verify_fail(res, VR_MANIFEST_BANKS, "manifest pins no value for a bank "
				    "of the log");
		else if (!ok)
			verify_fail(res, item_reason[it], "%s: measured digest is not in the "
				    "manifest", manifest_item_name(it));
	}
}

static int kv_is(const struct measure_kv *kv, const char *s)
{
	return kv && kv->value_len == strlen(s) && !memcmp(kv->value, s, kv->value_len);
}

/* "cN" with N in 0..1023 written canonically; the number or -1. */
static int category(const char *s, size_t n)
{
	int v = 0;

	if (n < 2 || n > 5 || s[0] != 'c' || (s[1] == '0' && n > 2))
		return -1;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 1023 ? v : -1;
}

/*
 * user:role:type:sensitivity:cA,cB[,cC...] with the manifest's words: the
 * guest's private pair plus one category per shared-disk group (svirt.h),
 * at most 16, distinct and ascending (svirt writes a sorted set), so that
 * one set has one spelling and equal strings mean equal labels.
 */
static int label_valid(const struct manifest *m, const char *label)
{
	char want[4 * (MANIFEST_WORD_MAX + 1) + 1];
	size_t n = (size_t)snprintf(want, sizeof(want), "%s:%s:%s:%s:", m->label_user,
				    m->label_role, m->label_type, m->label_sensitivity);
	const char *p, *comma;
	int last = -1, count = 0;

	if (n >= sizeof(want) || strncmp(label, want, n))
		return -1;
	for (p = label + n; count < 16; p = comma + 1) {
		int c;

		comma = strchr(p, ',');
		c = category(p, comma ? (size_t)(comma - p) : strlen(p));
		if (c <= last)
			return -1;
		last = c;
		count++;
		if (!comma)
			return count >= 2 ? 0 : -1;
	}
	return -1;
}

/* The measured svirt mode; 0 (and a failure recorded) unless the manifest allows it. */
static unsigned svirt_check(const struct manifest *m, const struct measure_kv *kv, size_t n,
			    struct verify_result *res)
{
	const struct measure_kv *sv = measure_kv_find(kv, n, "svirt");
	unsigned mode = sv ? manifest_svirt_mode(sv->value, sv->value_len) : 0;

	if (!mode)
		verify_fail(res, VR_SECSTATE_MALFORMED, "svirt mode missing or unknown");
	else if (!(m->svirt_allowed & mode))
		verify_fail(res, VR_SVIRT_MODE, "svirt was %s; the manifest allows %s%s%s",
			    manifest_svirt_name(mode),
			    m->svirt_allowed & MANIFEST_SVIRT_DYNAMIC ? "dynamic " : "",
			    m->svirt_allowed & MANIFEST_SVIRT_STATIC ? "static " : "",
			    m->svirt_allowed & MANIFEST_SVIRT_OFF ? "off" : "");
	return m->svirt_allowed & mode;
}

/* A state before a restore ran under another label (a restored guest gets
 * a fresh pair): well-formed is all it must be. */
static void earlier_label_check(const struct manifest *m, const struct measure_kv *lab,
				unsigned svirt, struct verify_result *res)
{
	char label[BUNDLE_LABEL_MAX + 1];

	if (svirt == MANIFEST_SVIRT_OFF)
		return;
	if (!lab || lab->value_len >= sizeof(label)) {
		verify_fail(res, VR_LABEL_MALFORMED, "no well-formed label measured");
		return;
	}
	memcpy(label, lab->value, lab->value_len);
	label[lab->value_len] = 0;
	if (label_valid(m, label))
		verify_fail(res, VR_LABEL_MALFORMED, "label %s: not %s:%s:%s:%s:cA,cB[,...] "
			    "ascending", label, m->label_user, m->label_role, m->label_type,
			    m->label_sensitivity);
}

/* last: the state the guest runs under now, whose label the bundle names. */
static void selinux_check(struct verify_ctx *ctx, const struct measure_kv *kv, size_t n,
			  int last, struct verify_result *res)
{
	const struct measure_kv *mode = measure_kv_find(kv, n, "selinux");
	const struct measure_kv *pol = measure_kv_find(kv, n, "selinux.policy.sha256");
	const struct measure_kv *lab = measure_kv_find(kv, n, "svirt.label");
	const struct manifest *m = ctx->m;
	uint8_t d[32];
	size_t dl = 0, i;
	unsigned svirt;

	if (m->selinux_enforcing && !kv_is(mode, "enforcing"))
		verify_fail(res, VR_SELINUX_NOT_ENFORCING, "SELinux was %.*s",
			    mode ? (int)mode->value_len : 4, mode ? mode->value : "none");
	for (i = 0; pol && !bundle_hex_decode(pol->value, pol->value_len, d, 32, &dl) &&
		    dl == 32 && i < m->npolicy && memcmp(m->policy_sha256[i], d, 32); i++)
		;
	if (!pol || dl != 32 || i == m->npolicy)
		verify_fail(res, VR_SELINUX_POLICY, "policy digest not allowed");
	svirt = svirt_check(m, kv, n, res);
	if (!last) {
		earlier_label_check(m, lab, svirt, res);
		return;
	}
	if (!lab || lab->value_len != strlen(ctx->w.b.label) ||
	    memcmp(lab->value, ctx->w.b.label, lab->value_len))
		verify_fail(res, VR_LABEL_MISMATCH, "bundle label is not the measured label");
	else if (svirt == MANIFEST_SVIRT_OFF)
		;     /* allowed without a label: nothing more to check, none to share */
	else if (label_valid(m, ctx->w.b.label))
		verify_fail(res, VR_LABEL_MALFORMED, "label %s: not %s:%s:%s:%s:cA,cB[,...] ascending",
			    ctx->w.b.label, m->label_user, m->label_role, m->label_type,
			    m->label_sensitivity);
	else
		memcpy(res->label, ctx->w.b.label, sizeof(res->label));
}

/* "seccomp.filter.ROLE.sha256" -> ROLE; NULL if kv is not a filter key. */
static const char *filter_role(const struct measure_kv *kv, size_t *len)
{
	static const char pre[] = "seccomp.filter.", suf[] = ".sha256";

	if (kv->key_len <= strlen(pre) + strlen(suf) || memcmp(kv->key, pre, strlen(pre)) ||
	    memcmp(kv->key + kv->key_len - strlen(suf), suf, strlen(suf)))
		return NULL;
	*len = kv->key_len - strlen(pre) - strlen(suf);
	return kv->key + strlen(pre);
}

static int filter_allowed(const struct manifest *m, const struct measure_kv *kv)
{
	size_t rl = 0, dl = 0;
	const char *role = filter_role(kv, &rl);
	uint8_t d[32];

	if (bundle_hex_decode(kv->value, kv->value_len, d, sizeof(d), &dl) || dl != 32)
		return 0;
	for (size_t r = 0; r < m->nroles; r++) {
		if (strlen(m->roles[r].role) != rl || memcmp(m->roles[r].role, role, rl))
			continue;
		for (size_t i = 0; i < m->roles[r].count; i++)
			if (!memcmp(m->roles[r].sha256[i], d, 32))
				return 1;
	}
	return 0;
}

static void seccomp_check(const struct manifest *m, const struct measure_kv *kv, size_t n,
			  struct verify_result *res)
{
	size_t filters = 0, rl;

	if (m->seccomp_required && !kv_is(measure_kv_find(kv, n, "seccomp"), "on"))
		verify_fail(res, VR_SECCOMP_OFF, "seccomp filters were not installed");
	for (size_t i = 0; i < n; i++) {
		if (!filter_role(&kv[i], &rl))
			continue;
		filters++;
		if (!filter_allowed(m, &kv[i]))
			verify_fail(res, VR_SECCOMP_FILTER, "%.*s not allowed", (int)kv[i].key_len,
				    kv[i].key);
	}
	if (m->seccomp_required && filters != m->nroles)
		verify_fail(res, VR_SECCOMP_FILTER, "%zu filters measured, manifest has %zu roles",
			    filters, m->nroles);
}

static void off_check(const struct manifest *m, const struct measure_kv *off,
		      struct verify_result *res)
{
	const char *p, *end;

	if (!off) {
		verify_fail(res, VR_SECSTATE_MALFORMED, "protections.off missing");
		return;
	}
	if (kv_is(off, "none"))
		return;
	for (p = off->value, end = off->value + off->value_len; p < end;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((c ? c : end) - p), i;

		for (i = 0; i < m->noff; i++)
			if (strlen(m->off_allowed[i]) == len && !memcmp(m->off_allowed[i], p, len))
				break;
		if (i == m->noff)
			verify_fail(res, VR_PROTECTION_OFF, "protection %.*s was off", (int)len, p);
		p += len + 1;
	}
}

/* The value of key (at most cap - 1 bytes) into out, "" if absent. */
static void kv_copy(const struct measure_kv *kv, size_t n, const char *key, char *out,
		    size_t cap)
{
	const struct measure_kv *v = measure_kv_find(kv, n, key);
	size_t len = v ? (v->value_len < cap ? v->value_len : cap - 1) : 0;

	if (len)
		memcpy(out, v->value, len);
	out[len] = 0;
}

/* What the report shows of one security state. */
static void link_fill(struct verify_link *l, const struct measure_kv *kv, size_t n)
{
	size_t used = 0, rl;

	kv_copy(kv, n, "svirt.label", l->label, sizeof(l->label));
	kv_copy(kv, n, "svirt", l->svirt, sizeof(l->svirt));
	kv_copy(kv, n, "selinux", l->selinux, sizeof(l->selinux));
	kv_copy(kv, n, "selinux.policy.sha256", l->policy, sizeof(l->policy));
	l->filters[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const char *role = filter_role(&kv[i], &rl);
		int w;

		if (!role)
			continue;
		w = snprintf(l->filters + used, sizeof(l->filters) - used, "%s%.*s=%.*s",
			     used ? "," : "", (int)rl, role,
			     (int)(kv[i].value_len < 16 ? kv[i].value_len : 16), kv[i].value);
		if (w < 0 || (size_t)w >= sizeof(l->filters) - used)
			break;
		used += (size_t)w;
	}
}

/* One security state appraised against the manifest. */
static void secstate_appraise(struct verify_ctx *ctx, const uint8_t *data, size_t len,
			      int last, struct verify_link *link, struct verify_result *res)
{
	struct measure_kv kv[SECSTATE_MAX_KEYS];
	int n = measure_secstate_parse(data, len, kv, ARRAY_SIZE(kv));

	if (n < 0) {
		verify_fail(res, VR_SECSTATE_MALFORMED, "security state does not parse");
		return;
	}
	link_fill(link, kv, (size_t)n);
	selinux_check(ctx, kv, (size_t)n, last, res);
	seccomp_check(ctx->m, kv, (size_t)n, res);
	off_check(ctx->m, measure_kv_find(kv, (size_t)n, "protections.off"), res);
}

/* Failures from index from on say which restore they are about. */
static void failures_prefix(struct verify_result *res, size_t from, size_t restore,
			    const char *what)
{
	for (size_t i = from; i < res->nfail; i++) {
		char tmp[sizeof(res->fail[i].detail)];

		snprintf(tmp, sizeof(tmp), "after %s %zu: %s", what, restore,
			 res->fail[i].detail);
		memcpy(res->fail[i].detail, tmp, sizeof(tmp));
	}
}

/* A restore event into link L: 0, or -1 (not a restore record). */
static int restore_link(const struct evlog_event *ev, struct verify_link *l,
			const uint8_t **sec, size_t *sec_len)
{
	struct measure_restore_view v;

	if (measure_restore_parse(ev->data, ev->data_size, &v))
		return -1;
	l->restored = 1;
	hex_encode(v.snapshot_sha256, 32, l->snapshot);
	memcpy(l->time, v.time, sizeof(l->time));
	*sec = v.secstate;
	*sec_len = v.secstate_len;
	return 0;
}

/* A migration event into link L: 0, or -1 (not a migration record). */
static int migrate_link(const struct evlog_event *ev, struct verify_link *l,
			const uint8_t **sec, size_t *sec_len)
{
	struct measure_migrate_view v;

	static_assert(sizeof(l->source) == sizeof(v.source_host), "one bound");
	if (measure_migrate_parse(ev->data, ev->data_size, &v))
		return -1;
	l->migrated = 1;
	hex_encode(v.stream_sha256, 32, l->snapshot);
	hex_encode(v.source_cert_sha256, 32, l->source_cert);
	memcpy(l->source, v.source_host, sizeof(l->source));
	memcpy(l->time, v.time, sizeof(l->time));
	*sec = v.secstate;
	*sec_len = v.secstate_len;
	return 0;
}

/* Each event after the boot (a restore or a migration, by its tag): its
 * form, its security state, the manifest's word. */
static void restores_check(struct verify_ctx *ctx, struct verify_result *res)
{
	struct verify_work *w = &ctx->w;
	size_t nres = 0, nmig = 0;
	const char *last_res = "?", *last_mig = "?";

	for (size_t i = 0; i < w->nrestore; i++) {
		const struct evlog_event *ev = &w->ev[w->restore[i]];
		struct verify_link *l = &res->chain[res->nchain];
		bool mig = measure_event_tag(ev->data, ev->data_size) == MEASURE_MIGRATE_TAG;
		const uint8_t *sec;
		size_t before = res->nfail, sec_len;

		memset(l, 0, sizeof(*l));
		if ((mig ? migrate_link : restore_link)(ev, l, &sec, &sec_len)) {
			verify_fail(res, mig ? VR_MIGRATE_MALFORMED : VR_RESTORE_MALFORMED,
				    "event %zu after the boot: not a %s record", i + 1,
				    mig ? "migration" : "restore");
			continue;
		}
		res->nchain++;
		secstate_appraise(ctx, sec, sec_len, i + 1 == w->nrestore, l, res);
		failures_prefix(res, before, i + 1, mig ? "migration" : "restore");
		if (mig) {
			nmig++;
			last_mig = l->time;
		} else {
			nres++;
			last_res = l->time;
		}
	}
	if (nres && !ctx->m->allow_restore)
		verify_fail(res, VR_RESTORE_NOT_ALLOWED, "restored %zu time(s) from a snapshot, "
			    "last at %s; the manifest does not allow restores", nres, last_res);
	if (nmig && !ctx->m->allow_migrate)
		verify_fail(res, VR_MIGRATE_NOT_ALLOWED, "arrived by live migration %zu time(s), "
			    "last at %s; the manifest does not allow migrations", nmig, last_mig);
}

void verify_references(struct verify_ctx *ctx, struct verify_result *res)
{
	const struct evlog_event *ev;

	items_check(ctx, res);
	if (ctx->w.secstate < 0) {
		verify_fail(res, VR_SECSTATE_MALFORMED, "no security state measured");
		return;
	}
	ev = &ctx->w.ev[ctx->w.secstate];
	res->nchain = 1;
	memset(&res->chain[0], 0, sizeof(res->chain[0]));
	secstate_appraise(ctx, ev->data, ev->data_size, ctx->w.nrestore == 0, &res->chain[0],
			  res);
	restores_check(ctx, res);
}
