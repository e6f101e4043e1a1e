/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles: the writer (the producer side, `bulwark attest`), which
 * is also the definition of the one canonical encoding (BUNDLE.md, "Canonical
 * form"): keys in the documented order, two spaces of indentation per level,
 * `"key":value` without spaces, banks in ascending TPM_ALG_ID order, PCRs in
 * ascending order, a final newline.  Written by hand rather than by json-c so
 * that the form does not change with the JSON library's version.
 *
 * One walk over the bundle drives a sink that either appends (bundle_write)
 * or compares with the bytes a bundle was parsed from (bundle_canonical),
 * so the writer and the check cannot disagree.  The check does not re-encode
 * base64: the parser decoded each base64 value strictly (one spelling per
 * blob), so the raw bytes are canonical when they are that value unescaped,
 * of the length the blob encodes to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle.h"
#include "core/util.h"

struct sink {
	FILE *f;                  /* writing, or NULL: comparing with in */
	const uint8_t *in;
	size_t len, pos;
	int differs;
};

static void emit(struct sink *s, const void *p, size_t n)
{
	if (s->f) {
		fwrite(p, 1, n, s->f);
	} else if (!s->differs) {
		size_t k = 0, m = n < s->len - s->pos ? n : s->len - s->pos;

		while (k < m && s->in[s->pos + k] == ((const uint8_t *)p)[k])
			k++;
		s->differs = k < n;
		s->pos += k;      /* on a difference: the first byte that differs */
	}
}

static void emits(struct sink *s, const char *str)
{
	emit(s, str, strlen(str));
}

/* A JSON string of printable ASCII ('"' and '\' escaped); -EINVAL otherwise. */
static int put_str(struct sink *s, const char *str)
{
	emits(s, "\"");
	for (; *str; str++) {
		if (*str < 0x20 || *str > 0x7e)
			return -EINVAL;
		if (*str == '"' || *str == '\\')
			emits(s, "\\");
		emit(s, str, 1);
	}
	emits(s, "\"");
	return 0;
}

/*
 * Comparing: the raw value is one JSON string without escapes (no quote, no
 * backslash inside), as long as the blob's encoding.  The parser decoded
 * that string strictly (one spelling per blob), so it is the encoding.
 */
static void match_b64(struct sink *s, size_t n)
{
	const uint8_t *v = s->in + s->pos + 1;

	if (s->differs || n + 2 > s->len - s->pos || v[-1] != '"' || v[n] != '"' ||
	    memchr(v, '"', n) || memchr(v, '\\', n)) {
		s->differs = 1;
		return;
	}
	s->pos += n + 2;
}

static int put_b64(struct sink *s, const struct bundle_blob *blob)
{
	size_t n = 4 * ((blob->len + 2) / 3);
	char *str;

	if (!blob->len)
		return -EINVAL;
	if (!s->f) {
		match_b64(s, n);
		return 0;
	}
	str = malloc(n + 1);
	if (!str)
		return -ENOMEM;
	bundle_b64_encode(blob->data, blob->len, str);
	emits(s, "\"");
	emit(s, str, n);
	emits(s, "\"");
	free(str);
	return 0;
}

static void put_hex(struct sink *s, const uint8_t *b, size_t len)
{
	char str[2 * EVLOG_MAX_DIGEST + 1];

	hex_encode(b, len, str);
	emits(s, "\"");
	emits(s, str);
	emits(s, "\"");
}

/* A chain object's body; ind: extra indentation ("" at the top level). */
static int put_chain(struct sink *s, const char *ind, const struct bundle_chain *c,
		     const struct bundle_blob *pub)
{
	int rc = 0;

	if (c->nchain > BUNDLE_MAX_CHAIN)
		return -EINVAL;
	if (pub) {
		emits(s, ind);
		emits(s, "    \"public\":");
		rc = put_b64(s, pub);
		emits(s, ",\n");
	}
	emits(s, ind);
	emits(s, "    \"certificate\":");
	rc = rc ? rc : put_b64(s, &c->cert);
	emits(s, ",\n");
	emits(s, ind);
	emits(s, "    \"chain\":[\n");
	for (size_t i = 0; !rc && i < c->nchain; i++) {
		emits(s, ind);
		emits(s, "      ");
		rc = put_b64(s, &c->chain[i]);
		emits(s, i + 1 < c->nchain ? ",\n" : "\n");
	}
	emits(s, ind);
	emits(s, "    ]\n");
	emits(s, ind);
	emits(s, "  }");
	return rc;
}

/* Version 2, optional: the host quote made at enrollment, after the host's "ek". */
static int put_enroll(struct sink *s, const struct bundle_host *h)
{
	const struct bundle_host_enroll *e = &h->enroll;
	int rc;

	emits(s, ",\n    \"enrollment\":{\n      \"attest\":");
	rc = put_b64(s, &e->attest);
	emits(s, ",\n      \"signature\":");
	rc = rc ? rc : put_b64(s, &e->signature);
	emits(s, ",\n      \"pcr10\":");
	put_hex(s, e->pcr10, evlog_alg_size(h->pcr_alg));
	emits(s, ",\n      \"ima_log\":");
	rc = rc ? rc : put_b64(s, &e->ima_log);
	emits(s, "\n    }");
	return rc;
}

/* The host quote's fields, each key at indentation k (4 or 6 spaces). */
static int put_host_fields(struct sink *s, const char *k, const struct bundle_host *h)
{
	uint16_t size = evlog_alg_size(h->pcr_alg);
	int rc = size ? 0 : -EINVAL;

	emits(s, k);
	emits(s, "\"attest\":");
	rc = rc ? rc : put_b64(s, &h->attest);
	emits(s, ",\n");
	emits(s, k);
	emits(s, "\"signature\":");
	rc = rc ? rc : put_b64(s, &h->signature);
	emits(s, ",\n");
	emits(s, k);
	emits(s, "\"pcr_bank\":\"");
	emits(s, size ? evlog_alg_name(h->pcr_alg) : "");
	emits(s, "\",\n");
	emits(s, k);
	emits(s, "\"pcr10\":");
	put_hex(s, h->pcr10, size);
	emits(s, ",\n");
	emits(s, k);
	emits(s, "\"ima_log\":");
	rc = rc ? rc : put_b64(s, &h->ima_log);
	emits(s, ",\n");
	emits(s, k);
	emits(s, "\"ak\":{\n");
	rc = rc ? rc : put_chain(s, k + 2, &h->ak, &h->ak_public);
	emits(s, ",\n");
	emits(s, k);
	emits(s, "\"ek\":{\n");
	rc = rc ? rc : put_chain(s, k + 2, &h->ek, NULL);
	return rc;
}

/* Version 2: the host's evidence, after "ek" (BUNDLE.md, "Host evidence"). */
static int put_host(struct sink *s, const struct bundle_host *h)
{
	int rc;

	emits(s, ",\n  \"host\":{\n");
	rc = put_host_fields(s, "    ", h);
	rc = rc || !h->enroll.present ? rc : put_enroll(s, h);
	emits(s, "\n  }");
	return rc;
}

/* Version 2, optional: each migration's source host, after "host" (issue 18). */
static int put_hops(struct sink *s, const struct bundle *b)
{
	int rc = b->nhops > BUNDLE_MAX_HOPS ? -EINVAL : 0;

	emits(s, ",\n  \"migrations\":[\n");
	for (size_t i = 0; !rc && i < b->nhops; i++) {
		emits(s, "    {\n      \"stream_sha256\":");
		put_hex(s, b->hops[i].stream_sha256, 32);
		emits(s, ",\n");
		rc = put_host_fields(s, "      ", &b->hops[i].host);
		emits(s, i + 1 < b->nhops ? "\n    },\n" : "\n    }\n");
	}
	emits(s, "  ]");
	return rc;
}

/* Banks in ascending algorithm order, whatever order the log lists them in. */
static void pcrs_order(const struct bundle_pcrs *p, uint32_t *order)
{
	for (uint32_t i = 0; i < p->banks.count; i++) {
		uint32_t j = i;

		for (; j > 0 && p->banks.alg[order[j - 1]] > p->banks.alg[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

static int put_bank(struct sink *s, const struct bundle_pcrs *p, uint32_t i)
{
	uint32_t left = p->mask[i];
	char key[16];

	if (!left || p->banks.size[i] > EVLOG_MAX_DIGEST)
		return -EINVAL;
	emits(s, "    \"");
	emits(s, evlog_alg_name(p->banks.alg[i]));
	emits(s, "\":{\n");
	for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
		if (!(left & (1u << pcr)))
			continue;
		left &= ~(1u << pcr);
		snprintf(key, sizeof(key), "      \"%u\":", pcr);
		emits(s, key);
		put_hex(s, p->value[i][pcr], p->banks.size[i]);
		emits(s, left ? ",\n" : "\n");
	}
	return 0;
}

static int put_pcrs(struct sink *s, const struct bundle_pcrs *p)
{
	uint32_t order[EVLOG_MAX_BANKS];
	int rc = 0;

	if (!p->banks.count || p->banks.count > EVLOG_MAX_BANKS)
		return -EINVAL;
	pcrs_order(p, order);
	emits(s, "  \"pcrs\":{\n");
	for (uint32_t k = 0; !rc && k < p->banks.count; k++) {
		rc = put_bank(s, p, order[k]);
		emits(s, k + 1 < p->banks.count ? "    },\n" : "    }\n");
	}
	emits(s, "  },\n");
	return rc;
}

static int put_bundle(struct sink *s, const struct bundle *b)
{
	int rc;

	if (b->nonce_len > BUNDLE_MAX_NONCE ||
	    (b->version != BUNDLE_VERSION && b->version != BUNDLE_VERSION_HOST && b->version))
		return -EINVAL;
	emits(s, "{\n  \"format\":\"" BUNDLE_FORMAT "\",\n  \"version\":");
	emits(s, b->version == BUNDLE_VERSION_HOST ? "2" : "1");
	emits(s, ",\n  \"created\":");
	rc = put_str(s, b->created);
	emits(s, ",\n  \"guest\":{\n    \"name\":");
	rc = rc ? rc : put_str(s, b->name);
	emits(s, ",\n    \"uuid\":");
	rc = rc ? rc : put_str(s, b->uuid);
	emits(s, ",\n    \"label\":");
	rc = rc ? rc : put_str(s, b->label);
	emits(s, "\n  },\n  \"nonce\":");
	put_hex(s, b->nonce, b->nonce_len);
	emits(s, ",\n  \"quote\":{\n    \"attest\":");
	rc = rc ? rc : put_b64(s, &b->attest);
	emits(s, ",\n    \"signature\":");
	rc = rc ? rc : put_b64(s, &b->signature);
	emits(s, "\n  },\n");
	rc = rc ? rc : put_pcrs(s, &b->pcrs);
	emits(s, "  \"event_log\":");
	rc = rc ? rc : put_b64(s, &b->event_log);
	emits(s, ",\n  \"ak\":{\n");
	rc = rc ? rc : put_chain(s, "", &b->ak, &b->ak_public);
	emits(s, ",\n  \"ek\":{\n");
	rc = rc ? rc : put_chain(s, "", &b->ek, NULL);
	if (b->version == BUNDLE_VERSION_HOST)
		rc = rc ? rc : put_host(s, &b->host);
	if (b->nhops)
		rc = rc ? rc : b->version == BUNDLE_VERSION_HOST ? put_hops(s, b) : -EINVAL;
	emits(s, "\n}\n");
	return rc;
}
static_assert(BUNDLE_VERSION == 1 && BUNDLE_VERSION_HOST == 2, "the writer spells the version");

int bundle_write(const struct bundle *b, char **out, size_t *out_len)
{
	char *buf = NULL;
	size_t len = 0;
	struct sink s = { .f = open_memstream(&buf, &len) };
	int rc;

	if (!s.f)
		return -errno;
	rc = put_bundle(&s, b);
	if (ferror(s.f))
		rc = -ENOMEM;
	if (fclose(s.f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int bundle_canonical(const uint8_t *buf, size_t len, const struct bundle *b, size_t *at)
{
	struct sink s = { .in = buf, .len = len };
	int rc = put_bundle(&s, b);

	*at = s.pos;
	return rc ? rc : s.differs || s.pos != len ? -EBADMSG : 0;
}
