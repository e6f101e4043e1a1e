/* SPDX-License-Identifier: Apache-2.0 */
/* Reference values from the artifacts (reference.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attest/producer/reference.h"
#include "core/log.h"
#include "core/util.h"

/* Which (pcr, type) carries which manifest item (measure.h). */
static const struct {
	uint32_t pcr, type;
	enum manifest_item item;
} items[] = {
	{ MEASURE_PCR_VMM, EV_POST_CODE, MANIFEST_VMM },
	{ MEASURE_PCR_CONFIG, EV_PLATFORM_CONFIG_FLAGS, MANIFEST_CONFIG },
	{ MEASURE_PCR_ACPI, EV_TABLE_OF_DEVICES, MANIFEST_ACPI },
	{ MEASURE_PCR_KERNEL, EV_EFI_BOOT_SERVICES_APPLICATION, MANIFEST_KERNEL },
	{ MEASURE_PCR_CMDLINE, EV_IPL, MANIFEST_CMDLINE },
	{ MEASURE_PCR_INITRD, EV_IPL, MANIFEST_INITRD },
};

static int values_from_log(const struct evlog_writer *log, struct manifest *m)
{
	struct evlog_parser p;
	struct evlog_event ev;
	int rc = evlog_parse_begin(&p, log->buf, log->len);

	while (!rc && (rc = evlog_parse_next(&p, &ev)) == 1) {
		rc = 0;
		for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
			struct manifest_list *l = &m->item[items[i].item];

			if (items[i].pcr != ev.pcr || items[i].type != ev.type)
				continue;
			if (l->count)
				return -EBADMSG;      /* one event per item */
			for (uint32_t b = 0; b < m->banks.count; b++)
				memcpy(l->v[0].digest[b], ev.digests[b].bytes, m->banks.size[b]);
			l->count = 1;
		}
	}
	return rc < 0 ? rc : 0;
}

/* user:role:type:sensitivity from "user:role:type:sens:cats". */
static int label_rules(const char *label, struct manifest *m)
{
	char *f[] = { m->label_user, m->label_role, m->label_type, m->label_sensitivity };
	const char *p = label;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : 0;

		if (!n || n > MANIFEST_WORD_MAX)
			return -EINVAL;
		memcpy(f[i], p, n);
		f[i][n] = '\0';
		p = end + 1;
	}
	return 0;
}

static int security_rules(const struct measure_secstate *s, struct manifest *m)
{
	m->selinux_enforcing = 1;
	if (!s->policy_sha256 || !s->label || s->nfilters > MANIFEST_MAX_ROLES)
		return -EINVAL;
	memcpy(m->policy_sha256[0], s->policy_sha256, 32);
	m->npolicy = 1;
	m->seccomp_required = 1;
	for (size_t i = 0; i < s->nfilters; i++) {
		struct manifest_role *r = &m->roles[i];

		if (strlen(s->filters[i].role) > MANIFEST_WORD_MAX)
			return -EINVAL;
		snprintf(r->role, sizeof(r->role), "%s", s->filters[i].role);
		memcpy(r->sha256[0], s->filters[i].sha256, 32);
		r->count = 1;
	}
	m->nroles = s->nfilters;
	m->svirt_allowed = MANIFEST_SVIRT_DYNAMIC;    /* a private pair per guest */
	return label_rules(s->label, m);
}

int reference_build(const struct measure_boot *b, const struct evlog_banks *banks,
		    const char *id, int pin_acpi, struct manifest *m)
{
	struct evlog_writer log;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!b->security || strlen(id) >= sizeof(m->id))
		return -EINVAL;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->host_required = 1;            /* guest-only only when asked (--guest-only) */
	m->banks = *banks;
	rc = measure_boot_run(-1, banks, b, &log);
	if (rc)
		return rc;
	rc = values_from_log(&log, m);
	evlog_writer_free(&log);
	rc = rc ? rc : security_rules(b->security, m);
	m->acpi_pinned = pin_acpi;
	if (!pin_acpi)
		m->item[MANIFEST_ACPI].count = 0;
	if (rc)
		log_err("reference values cannot be computed: %s", strerror(-rc));
	return rc;
}

static int list_merge(struct manifest_list *dst, const struct manifest_list *src)
{
	for (size_t i = 0; i < src->count; i++) {
		size_t j;

		for (j = 0; j < dst->count && memcmp(&dst->v[j], &src->v[i], sizeof(src->v[i])); j++)
			;
		if (j < dst->count)
			continue;
		if (dst->count == MANIFEST_MAX_VALUES)
			return -E2BIG;
		dst->v[dst->count++] = src->v[i];
	}
	return 0;
}

int reference_merge(struct manifest *m, const struct manifest *o)
{
	int rc = memcmp(&m->banks, &o->banks, sizeof(m->banks)) ? -EINVAL : 0;

	for (int it = 0; !rc && it < MANIFEST_ITEMS; it++)
		rc = list_merge(&m->item[it], &o->item[it]);
	return rc;
}
