// SPDX-License-Identifier: Apache-2.0
/* The security state's canonical text: encoded by the launcher, parsed by
 * the verifier from a log it does not trust (secstate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/secstate.h"
#include "core/util.h"

#define SECSTATE_MAX_LINES 64

/* ---- security state ----------------------------------------------------- */

struct kv_line {
	char key[64];
	char value[320];
};

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

int measure_value_ok(const char *v, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return 0;
	return 1;
}

static int kv_add(struct kv_line *l, size_t *n, const char *key, const char *value)
{
	if (*n == SECSTATE_MAX_LINES || strlen(key) >= sizeof(l->key) ||
	    strlen(value) >= sizeof(l->value) || !measure_value_ok(value, strlen(value)))
		return -EINVAL;
	for (const char *k = key; *k; k++)
		if (!key_char(*k))
			return -EINVAL;
	snprintf(l[*n].key, sizeof(l->key), "%s", key);
	snprintf(l[*n].value, sizeof(l->value), "%s", value);
	(*n)++;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a,b,c" from the names, sorted; "none" when there are none. */
static int off_list(const struct measure_secstate *s, char *out, size_t cap)
{
	const char *names[MEASURE_MAX_OFF];
	size_t used = 0;

	if (s->noff > MEASURE_MAX_OFF || (s->noff && !s->off))
		return -EINVAL;
	snprintf(out, cap, "none");
	for (size_t i = 0; i < s->noff; i++) {
		if (!s->off[i] || !s->off[i][0] || strchr(s->off[i], ','))
			return -EINVAL;
		names[i] = s->off[i];
	}
	qsort(names, s->noff, sizeof(names[0]), str_cmp);
	for (size_t i = 0; i < s->noff; i++) {
		int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "", names[i]);

		if (n < 0 || (size_t)n >= cap - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv_line *)a)->key, ((const struct kv_line *)b)->key);
}

static int secstate_lines(const struct measure_secstate *s, struct kv_line *l, size_t *n)
{
	static const char *const selinux[] = { "disabled", "permissive", "enforcing" };
	char buf[320], key[64];
	int rc;

	if ((unsigned)s->selinux >= ARRAY_SIZE(selinux) || !s->svirt ||
	    (strcmp(s->svirt, "dynamic") && strcmp(s->svirt, "static") &&
	     strcmp(s->svirt, "off")) || s->nfilters > MEASURE_MAX_FILTERS ||
	    (s->nfilters && !s->filters))
		return -EINVAL;
	rc = off_list(s, buf, sizeof(buf));
	rc = rc ? rc : kv_add(l, n, "protections.off", buf);
	rc = rc ? rc : kv_add(l, n, "seccomp", s->seccomp ? "on" : "off");
	rc = rc ? rc : kv_add(l, n, "selinux", selinux[s->selinux]);
	if (s->policy_sha256)
		hex_encode(s->policy_sha256, 32, buf);
	rc = rc ? rc : kv_add(l, n, "selinux.policy.sha256", s->policy_sha256 ? buf : "none");
	rc = rc ? rc : kv_add(l, n, "svirt", s->svirt);
	rc = rc ? rc : kv_add(l, n, "svirt.label", s->label ? s->label : "none");
	for (size_t i = 0; !rc && i < s->nfilters; i++) {
		const char *r = s->filters[i].role;

		if (!r || !r[0] || strchr(r, '.') || strlen(r) > 32)
			return -EINVAL;
		snprintf(key, sizeof(key), "seccomp.filter.%s.sha256", r);
		hex_encode(s->filters[i].sha256, 32, buf);
		rc = kv_add(l, n, key, buf);
	}
	return rc;
}

int measure_secstate_encode(const struct measure_secstate *s, char *buf, size_t cap,
			    size_t *len)
{
	struct kv_line *l = calloc(SECSTATE_MAX_LINES, sizeof(*l));
	size_t n = 0, used;
	int rc;

	if (!l)
		return -ENOMEM;
	rc = secstate_lines(s, l, &n);
	if (rc)
		goto out;
	qsort(l, n, sizeof(*l), line_cmp);
	used = (size_t)snprintf(buf, cap, "%s", MEASURE_SECSTATE_HEADER);
	for (size_t i = 0; used < cap && i < n; i++) {
		if (i && !strcmp(l[i - 1].key, l[i].key)) {
			rc = -EINVAL;           /* two filters for one role */
			goto out;
		}
		used += (size_t)snprintf(buf + used, cap - used, "%s=%s\n", l[i].key,
					 l[i].value);
	}
	rc = used < cap ? 0 : -ENOSPC;
	*len = used;
out:
	free(l);
	return rc;
}

/* One "key=value\n" line at data[*pos]; advances *pos past it. */
static int secstate_line(const uint8_t *data, size_t len, size_t *pos, struct measure_kv *kv)
{
	const char *s = (const char *)data + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	const char *eq = nl ? memchr(s, '=', (size_t)(nl - s)) : NULL;

	if (!eq || eq == s)
		return -EBADMSG;
	for (const char *k = s; k < eq; k++)
		if (!key_char(*k))
			return -EBADMSG;
	if (!measure_value_ok(eq + 1, (size_t)(nl - eq - 1)))
		return -EBADMSG;
	kv->key = s;
	kv->key_len = (size_t)(eq - s);
	kv->value = eq + 1;
	kv->value_len = (size_t)(nl - eq - 1);
	*pos += (size_t)(nl - s) + 1;
	return 0;
}

static int kv_key_cmp(const struct measure_kv *a, const struct measure_kv *b)
{
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

int measure_secstate_parse(const uint8_t *data, size_t len, struct measure_kv *kv,
			   size_t max)
{
	size_t hlen = strlen(MEASURE_SECSTATE_HEADER), pos, n = 0;

	if (len > MEASURE_MAX_TEXT || len < hlen ||
	    memcmp(data, MEASURE_SECSTATE_HEADER, hlen))
		return -EBADMSG;
	for (pos = hlen; pos < len; n++) {
		struct measure_kv line;

		if (secstate_line(data, len, &pos, &line))
			return -EBADMSG;
		/* Strictly increasing keys: sorted, no duplicates. */
		if (n && kv_key_cmp(&kv[n - 1], &line) >= 0)
			return -EBADMSG;
		if (n == max)
			return -E2BIG;
		kv[n] = line;
	}
	return (int)n;
}

const struct measure_kv *measure_kv_find(const struct measure_kv *kv, size_t n,
					 const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (kv[i].key_len == strlen(key) && !memcmp(kv[i].key, key, kv[i].key_len))
			return &kv[i];
	return NULL;
}

/* ---- the restore event (secstate.h) ------------------------------------- */

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* "KEY=VALUE\n" with a known key at data[*pos]; the value and its length. */
static int restore_line(const uint8_t *data, size_t len, size_t *pos, const char *key,
			const char **value, size_t *vlen)
{
	size_t k = strlen(key);
	const uint8_t *nl;

	if (len - *pos <= k + 1 || memcmp(data + *pos, key, k) || data[*pos + k] != '=')
		return -EBADMSG;
	nl = memchr(data + *pos + k + 1, '\n', len - *pos - k - 1);
	if (!nl)
		return -EBADMSG;
	*value = (const char *)data + *pos + k + 1;
	*vlen = (size_t)(nl - (const uint8_t *)*value);
	*pos = (size_t)(nl - data) + 1;
	return measure_value_ok(*value, *vlen) ? 0 : -EBADMSG;
}

static int hex_nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* YYYY-MM-DDTHH:MM:SSZ with digits where digits belong, fields in range. */
static int time_ok(const char *t, size_t n)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	int mo, d, h, mi, s;

	if (n != MEASURE_RESTORE_TIME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (form[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != form[i])
			return 0;
	mo = (t[5] - '0') * 10 + t[6] - '0';
	d = (t[8] - '0') * 10 + t[9] - '0';
	h = (t[11] - '0') * 10 + t[12] - '0';
	mi = (t[14] - '0') * 10 + t[15] - '0';
	s = (t[17] - '0') * 10 + t[18] - '0';
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61;
}

/* A "KEY=HEX\n" line of 32 bytes. */
static int hex_line(const uint8_t *data, size_t len, size_t *pos, const char *key,
		    uint8_t out[32])
{
	const char *val;
	size_t n;

	if (restore_line(data, len, pos, key, &val, &n) || n != 64)
		return -EBADMSG;
	for (size_t i = 0; i < 32; i++) {
		int hi = hex_nibble(val[2 * i]), lo = hex_nibble(val[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Tag, size and header of a tagged event; *pos after the header. */
static int tagged_head(const uint8_t *data, size_t len, uint32_t tag, const char *header,
		       size_t *pos)
{
	size_t hl = strlen(header);

	*pos = 8 + hl;
	if (len < *pos || len > 8 + MEASURE_MAX_TEXT || le32_at(data) != tag ||
	    le32_at(data + 4) != len - 8 || memcmp(data + 8, header, hl))
		return -EBADMSG;
	return 0;
}

/* "time=...\n", then the security state's header must follow. */
static int tagged_tail(const uint8_t *data, size_t len, size_t *pos, char *time,
		       const uint8_t **sec, size_t *sec_len)
{
	const char *val;
	size_t n;

	if (restore_line(data, len, pos, "time", &val, &n) || !time_ok(val, n))
		return -EBADMSG;
	memcpy(time, val, n);
	if (len - *pos < strlen(MEASURE_SECSTATE_HEADER) ||
	    memcmp(data + *pos, MEASURE_SECSTATE_HEADER, strlen(MEASURE_SECSTATE_HEADER)))
		return -EBADMSG;
	*sec = data + *pos;
	*sec_len = len - *pos;
	return 0;
}

int measure_restore_parse(const uint8_t *data, size_t len, struct measure_restore_view *v)
{
	size_t pos;

	memset(v, 0, sizeof(*v));
	if (tagged_head(data, len, MEASURE_RESTORE_TAG, MEASURE_RESTORE_HEADER, &pos) ||
	    hex_line(data, len, &pos, "snapshot.sha256", v->snapshot_sha256))
		return -EBADMSG;
	return tagged_tail(data, len, &pos, v->time, &v->secstate, &v->secstate_len);
}

int measure_migrate_parse(const uint8_t *data, size_t len, struct measure_migrate_view *v)
{
	const char *val;
	size_t pos, n;

	memset(v, 0, sizeof(*v));
	if (tagged_head(data, len, MEASURE_MIGRATE_TAG, MEASURE_MIGRATE_HEADER, &pos) ||
	    restore_line(data, len, &pos, "source.host", &val, &n) ||
	    n > MEASURE_MIGRATE_HOST_MAX)
		return -EBADMSG;
	memcpy(v->source_host, val, n);
	if (hex_line(data, len, &pos, "source.cert.sha256", v->source_cert_sha256) ||
	    hex_line(data, len, &pos, "stream.sha256", v->stream_sha256))
		return -EBADMSG;
	return tagged_tail(data, len, &pos, v->time, &v->secstate, &v->secstate_len);
}

uint32_t measure_event_tag(const uint8_t *data, size_t len)
{
	return len < 8 ? 0 : le32_at(data);
}
