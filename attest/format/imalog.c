/* SPDX-License-Identifier: Apache-2.0 */
/* The host's IMA measurement list (ima-ng): parser, PCR 10 replay (imalog.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>



#include "attest/format/imalog.h"
#include "core/util.h"

static const char template_ng[] = "ima-ng";
#define NAME_NG_LEN (sizeof(template_ng) - 1)

static const uint16_t file_algs[] = {
	EVLOG_ALG_SHA1, EVLOG_ALG_SHA256, EVLOG_ALG_SHA384, EVLOG_ALG_SHA512,
};

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static int fail(struct imalog_parser *p, size_t at, const char *field, const char *fmt, ...)
{
	va_list ap;

	p->err.offset = at;
	snprintf(p->err.field, sizeof(p->err.field), "entry[%u].%s", p->next_index, field);
	va_start(ap, fmt);
	vsnprintf(p->err.reason, sizeof(p->err.reason), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Takes n bytes at *pos of [buf, end), or fails naming field. */
static int take(struct imalog_parser *p, size_t *pos, size_t end, size_t n,
		const uint8_t **out, const char *field)
{
	if (n > end - *pos)
		return fail(p, *pos, field, "truncated: need %zu bytes, %zu left", n,
			    end - *pos);
	*out = p->buf + *pos;
	*pos += n;
	return 0;
}

static int take32(struct imalog_parser *p, size_t *pos, size_t end, uint32_t *v,
		  const char *field)
{
	if (end - *pos < 4)
		return fail(p, *pos, field, "truncated: need 4 bytes, %zu left", end - *pos);
	*v = get_le32(p->buf + *pos);
	*pos += 4;
	return 0;
}

/* d-ng: "ALG:\0" || digest, ALG supported and digest of its size. */
static int parse_dng(struct imalog_parser *p, size_t at, const uint8_t *f, uint32_t n,
		     struct imalog_entry *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_algs); i++) {
		const char *name = evlog_alg_name(file_algs[i]);
		size_t nl = strlen(name);
		uint16_t size = evlog_alg_size(file_algs[i]);

		if (n < nl + 2 || memcmp(f, name, nl) || f[nl] != ':' || f[nl + 1])
			continue;
		if (n != nl + 2 + size)
			return fail(p, at, "d-ng", "%s digest of %u bytes", name,
				    (unsigned)(n - nl - 2));
		e->file_alg = file_algs[i];
		e->file_digest_size = size;
		e->file_digest = f + nl + 2;
		return 0;
	}
	return fail(p, at, "d-ng", "not \"sha1|sha256|sha384|sha512:\\0\" and a digest");
}

/* n-ng: 1..IMALOG_MAX_PATH bytes, a NUL, nothing else. */
static int parse_nng(struct imalog_parser *p, size_t at, const uint8_t *f, uint32_t n,
		     struct imalog_entry *e)
{
	const uint8_t *nul;

	if (n < 2 || n > IMALOG_MAX_PATH + 1)
		return fail(p, at, "n-ng", "name of %u bytes (2..%u)", n, IMALOG_MAX_PATH + 1);
	nul = memchr(f, 0, n);
	if (nul != f + n - 1)
		return fail(p, at, "n-ng", "name not one NUL-terminated string");
	e->path = (const char *)f;
	e->path_len = n - 1;
	return 0;
}

/* template_data = d-ng field, n-ng field, and nothing after them. */
static int parse_fields(struct imalog_parser *p, size_t pos, size_t end,
			struct imalog_entry *e)
{
	const uint8_t *f = NULL;
	uint32_t n;
	size_t at;
	int rc;

	at = pos;
	if ((rc = take32(p, &pos, end, &n, "d-ng.len")) ||
	    (rc = take(p, &pos, end, n, &f, "d-ng")) || (rc = parse_dng(p, at, f, n, e)))
		return rc;
	at = pos;
	if ((rc = take32(p, &pos, end, &n, "n-ng.len")) ||
	    (rc = take(p, &pos, end, n, &f, "n-ng")) || (rc = parse_nng(p, at, f, n, e)))
		return rc;
	if (pos != end)
		return fail(p, pos, "template_data", "%zu bytes after the n-ng field",
			    end - pos);
	return 0;
}

int imalog_parse_begin(struct imalog_parser *p, const uint8_t *buf, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	if (len > IMALOG_MAX_SIZE)
		return fail(p, 0, "list", "%zu bytes, more than %u", len, IMALOG_MAX_SIZE);
	return 0;
}

/* The logged SHA-1 must be the template data's (or zero: a violation). */
static int check_template_digest(struct imalog_parser *p, struct imalog_entry *e)
{
	static const uint8_t zero[IMALOG_SHA1_SIZE];
	struct evlog_digest d;

	e->violation = !memcmp(e->template_sha1, zero, sizeof(zero));
	if (e->violation) {
		for (uint16_t i = 0; i < e->file_digest_size; i++)
			if (e->file_digest[i])
				return fail(p, e->offset + 4, "d-ng",
					    "a violation's file digest is not zero");
		return 0;
	}
	if (evlog_hash(EVLOG_ALG_SHA1, e->template_data, e->template_data_len, &d))
		return -EIO;
	if (memcmp(d.bytes, e->template_sha1, IMALOG_SHA1_SIZE))
		return fail(p, e->offset + 4, "template_digest",
			    "not the SHA-1 of the template data");
	return 0;
}

int imalog_parse_next(struct imalog_parser *p, struct imalog_entry *e)
{
	const uint8_t *b = NULL;
	uint32_t pcr, n;
	size_t pos = p->pos;
	int rc;

	if (pos == p->len)
		return 0;
	memset(e, 0, sizeof(*e));
	e->offset = pos;
	e->index = p->next_index;
	if ((rc = take32(p, &pos, p->len, &pcr, "pcr")))
		return rc;
	if (pcr != IMALOG_PCR)
		return fail(p, e->offset, "pcr", "PCR %u, not %u", pcr, IMALOG_PCR);
	if ((rc = take(p, &pos, p->len, IMALOG_SHA1_SIZE, &b, "template_digest")))
		return rc;
	memcpy(e->template_sha1, b, IMALOG_SHA1_SIZE);
	if ((rc = take32(p, &pos, p->len, &n, "template_name.len")))
		return rc;
	if (n != NAME_NG_LEN || (rc = take(p, &pos, p->len, n, &b, "template_name")) ||
	    memcmp(b, template_ng, NAME_NG_LEN))
		return rc ? rc : fail(p, pos, "template_name", "not \"ima-ng\"");
	if ((rc = take32(p, &pos, p->len, &n, "template_data.len")) ||
	    (rc = take(p, &pos, p->len, n, &b, "template_data")))
		return rc;
	e->template_data = b;
	e->template_data_len = n;
	if ((rc = parse_fields(p, pos - n, pos, e)) || (rc = check_template_digest(p, e)))
		return rc;
	p->pos = pos;
	p->next_index++;
	return 1;
}

static int extend(uint16_t alg, struct evlog_digest *pcr, const uint8_t *t)
{
	uint8_t buf[2 * EVLOG_MAX_DIGEST];

	memcpy(buf, pcr->bytes, pcr->size);
	memcpy(buf + pcr->size, t, pcr->size);
	return evlog_hash(alg, buf, 2u * pcr->size, pcr);
}

int imalog_replay(const uint8_t *buf, size_t len, uint16_t alg, struct evlog_digest *pcr,
		  uint32_t *entries, struct evlog_error *err)
{
	struct imalog_parser p;
	struct imalog_entry e;
	struct evlog_digest t;
	int rc;

	memset(pcr, 0, sizeof(*pcr));
	pcr->alg = alg;
	pcr->size = evlog_alg_size(alg);
	if (!pcr->size)
		return -EINVAL;
	rc = imalog_parse_begin(&p, buf, len);
	while (!rc && (rc = imalog_parse_next(&p, &e)) == 1) {
		if (e.violation)
			memset(t.bytes, 0xff, pcr->size);
		else if ((rc = evlog_hash(alg, e.template_data, e.template_data_len, &t)))
			break;
		if ((rc = extend(alg, pcr, t.bytes)))
			break;
	}
	if (rc == -EBADMSG && err)
		*err = p.err;
	if (entries)
		*entries = p.next_index;
	return rc;
}

static int put(uint8_t *buf, size_t *len, size_t cap, const void *src, size_t n)
{
	if (!range_fits(*len, n, cap))
		return -ENOSPC;
	memcpy(buf + *len, src, n);
	*len += n;
	return 0;
}

static int put32(uint8_t *buf, size_t *len, size_t cap, uint32_t v)
{
	uint8_t b[4];

	put_le(b, v, 4);
	return put(buf, len, cap, b, 4);
}

int imalog_append(uint8_t *buf, size_t *len, size_t cap, const char *path,
		  const struct evlog_digest *fd, int violation)
{
	uint8_t td[16 + EVLOG_MAX_DIGEST + 4 + IMALOG_MAX_PATH + 1];
	const char *alg = evlog_alg_name(fd->alg);
	size_t tl = 0, pl = strlen(path), al;
	struct evlog_digest sha1;
	int rc;

	if (!alg || fd->size != evlog_alg_size(fd->alg) || !pl || pl > IMALOG_MAX_PATH)
		return -EINVAL;
	al = strlen(alg);
	put32(td, &tl, sizeof(td), (uint32_t)(al + 2 + fd->size));
	put(td, &tl, sizeof(td), alg, al);
	put(td, &tl, sizeof(td), ":", 2);
	put(td, &tl, sizeof(td), fd->bytes, fd->size);
	put32(td, &tl, sizeof(td), (uint32_t)(pl + 1));
	put(td, &tl, sizeof(td), path, pl + 1);
	memset(&sha1, 0, sizeof(sha1));
	if (!violation && (rc = evlog_hash(EVLOG_ALG_SHA1, td, tl, &sha1)))
		return rc;
	if (!range_fits(*len, 4 + IMALOG_SHA1_SIZE + 4 + NAME_NG_LEN + 4 + tl, cap))
		return -ENOSPC;  /* whole entry or nothing */
	put32(buf, len, cap, IMALOG_PCR);
	put(buf, len, cap, sha1.bytes, IMALOG_SHA1_SIZE);
	put32(buf, len, cap, NAME_NG_LEN);
	put(buf, len, cap, template_ng, NAME_NG_LEN);
	put32(buf, len, cap, (uint32_t)tl);
	return put(buf, len, cap, td, tl);
}
