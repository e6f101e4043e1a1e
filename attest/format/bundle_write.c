/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles: the writer (the producer side, `bulwark attest`), which
 * is also the definition of the one canonical encoding (BUNDLE.md, "Canonical
 * form"): keys in the documented order, two spaces of indentation per level,
 * `"key":value` without spaces, banks in ascending TPM_ALG_ID order, PCRs in
 * ascending order, a final newline.  bundle_parse() re-encodes what it read
 * with this writer and refuses any other bytes, so one piece of evidence is
 * archived under one hash.  Written by hand rather than by json-c so that
 * the form does not change with the JSON library's version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/format/bundle.h"
#include "core/util.h"

/* A JSON string of printable ASCII ('"' and '\' escaped); -EINVAL otherwise. */
static int put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return -EINVAL;
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
	return 0;
}

static int put_b64(FILE *f, const struct bundle_blob *blob)
{
	char *s;

	if (!blob->len)
		return -EINVAL;
	s = malloc(4 * ((blob->len + 2) / 3) + 1);
	if (!s)
		return -ENOMEM;
	bundle_b64_encode(blob->data, blob->len, s);
	fprintf(f, "\"%s\"", s);
	free(s);
	return 0;
}

static void put_hex(FILE *f, const uint8_t *b, size_t len)
{
	char s[2 * EVLOG_MAX_DIGEST + 1];

	bundle_hex_encode(b, len, s);
	fprintf(f, "\"%s\"", s);
}

static int put_chain(FILE *f, const struct bundle_chain *c, const struct bundle_blob *pub)
{
	int rc = 0;

	if (c->nchain > BUNDLE_MAX_CHAIN)
		return -EINVAL;
	if (pub) {
		fputs("    \"public\":", f);
		rc = put_b64(f, pub);
		fputs(",\n", f);
	}
	fputs("    \"certificate\":", f);
	rc = rc ? rc : put_b64(f, &c->cert);
	fputs(",\n    \"chain\":[\n", f);
	for (size_t i = 0; !rc && i < c->nchain; i++) {
		fputs("      ", f);
		rc = put_b64(f, &c->chain[i]);
		fputs(i + 1 < c->nchain ? ",\n" : "\n", f);
	}
	fputs("    ]\n  }", f);
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

static int put_pcrs(FILE *f, const struct bundle_pcrs *p)
{
	uint32_t order[EVLOG_MAX_BANKS];

	if (!p->banks.count || p->banks.count > EVLOG_MAX_BANKS)
		return -EINVAL;
	pcrs_order(p, order);
	fputs("  \"pcrs\":{\n", f);
	for (uint32_t k = 0; k < p->banks.count; k++) {
		uint32_t i = order[k], left = p->mask[i];

		if (!left || p->banks.size[i] > EVLOG_MAX_DIGEST)
			return -EINVAL;
		fprintf(f, "    \"%s\":{\n", evlog_alg_name(p->banks.alg[i]));
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++) {
			if (!(left & (1u << pcr)))
				continue;
			left &= ~(1u << pcr);
			fprintf(f, "      \"%u\":", pcr);
			put_hex(f, p->value[i][pcr], p->banks.size[i]);
			fputs(left ? ",\n" : "\n", f);
		}
		fputs(k + 1 < p->banks.count ? "    },\n" : "    }\n", f);
	}
	fputs("  },\n", f);
	return 0;
}

static int put_bundle(FILE *f, const struct bundle *b)
{
	int rc;

	fprintf(f, "{\n  \"format\":\"%s\",\n  \"version\":%d,\n  \"created\":", BUNDLE_FORMAT,
		BUNDLE_VERSION);
	rc = put_str(f, b->created);
	fputs(",\n  \"guest\":{\n    \"name\":", f);
	rc = rc ? rc : put_str(f, b->name);
	fputs(",\n    \"uuid\":", f);
	rc = rc ? rc : put_str(f, b->uuid);
	fputs(",\n    \"label\":", f);
	rc = rc ? rc : put_str(f, b->label);
	fputs("\n  },\n  \"nonce\":", f);
	if (b->nonce_len > BUNDLE_MAX_NONCE)
		return -EINVAL;
	put_hex(f, b->nonce, b->nonce_len);
	fputs(",\n  \"quote\":{\n    \"attest\":", f);
	rc = rc ? rc : put_b64(f, &b->attest);
	fputs(",\n    \"signature\":", f);
	rc = rc ? rc : put_b64(f, &b->signature);
	fputs("\n  },\n", f);
	rc = rc ? rc : put_pcrs(f, &b->pcrs);
	fputs("  \"event_log\":", f);
	rc = rc ? rc : put_b64(f, &b->event_log);
	fputs(",\n  \"ak\":{\n", f);
	rc = rc ? rc : put_chain(f, &b->ak, &b->ak_public);
	fputs(",\n  \"ek\":{\n", f);
	rc = rc ? rc : put_chain(f, &b->ek, NULL);
	fputs("\n}\n", f);
	return rc;
}

int bundle_write(const struct bundle *b, char **out, size_t *out_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -errno;
	rc = put_bundle(f, b);
	if (ferror(f))
		rc = -ENOMEM;
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
