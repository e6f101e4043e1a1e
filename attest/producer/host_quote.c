/* SPDX-License-Identifier: Apache-2.0 */
/* The host's evidence: PCR 10 quote bound to a guest quote, IMA prefix (host_quote.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "attest/format/imalog.h"
#include "attest/producer/host_quote.h"
#include "core/log.h"
#include "core/util.h"

/* Reads the whole list to EOF (securityfs reports no size), bounded. */
static int ima_read(const char *path, uint8_t **buf, size_t *len)
{
	size_t cap = 1u << 20, got = 0;
	uint8_t *b = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;

	if (fd < 0 || !b) {
		rc = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			uint8_t *nb = cap >= IMALOG_MAX_SIZE ? NULL : realloc(b, cap * 2);

			if (!nb) {
				rc = cap >= IMALOG_MAX_SIZE ? -EFBIG : -ENOMEM;
				goto out;
			}
			b = nb;
			cap *= 2;
		}
		n = read(fd, b + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
out:
	free(b);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The prefix of list whose PCR 10 replay in bank, hashed with hash, is the
 * quoted pcrDigest: *cut bytes, *pcr its value.  0 or -ESTALE.
 */
static int ima_prefix(const uint8_t *list, size_t len, uint16_t bank, uint16_t hash,
		      const TPM2B_DIGEST *quoted, size_t *cut, uint8_t *pcr)
{
	struct imalog_parser p;
	struct imalog_entry e;
	struct evlog_digest v = { .alg = bank, .size = evlog_alg_size(bank) }, t, d;
	uint8_t buf[2 * EVLOG_MAX_DIGEST];
	int rc = imalog_parse_begin(&p, list, len);

	for (;;) {
		if (evlog_hash(hash, v.bytes, v.size, &d) == 0 && d.size == quoted->size &&
		    !memcmp(d.bytes, quoted->buffer, d.size)) {
			*cut = p.pos;
			memcpy(pcr, v.bytes, v.size);
			return 0;
		}
		if (rc || imalog_parse_next(&p, &e) != 1)
			return -ESTALE;
		if (e.violation)
			memset(t.bytes, 0xff, v.size);
		else if (evlog_hash(bank, e.template_data, e.template_data_len, &t))
			return -EIO;
		memcpy(buf, v.bytes, v.size);
		memcpy(buf + v.size, t.bytes, v.size);
		if (evlog_hash(bank, buf, 2u * v.size, &v))
			return -EIO;
	}
}

static int blob_dup(struct bundle_blob *b, const void *data, size_t len)
{
	b->data = len ? malloc(len) : NULL;
	if (len && !b->data)
		return -ENOMEM;
	if (len)
		memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

static int chain_dup(struct bundle_chain *out, const struct bundle_chain *in)
{
	int rc = in->nchain > BUNDLE_MAX_CHAIN ? -EINVAL : blob_dup(&out->cert, in->cert.data,
								    in->cert.len);

	for (size_t i = 0; !rc && i < in->nchain; i++, out->nchain++)
		rc = blob_dup(&out->chain[i], in->chain[i].data, in->chain[i].len);
	return rc;
}

/* The quote (locality set around it, AK flushed): attest, signature, AK public. */
static int host_sign(const struct host_source *s, const uint8_t bind[32], struct bundle_blob *attest_out,
		     struct bundle_blob *sig_out, struct bundle_blob *pub_out)
{
	TPML_PCR_SELECTION sel = { .count = 1, .pcrSelections = { { .hash = s->bank,
		.sizeofSelect = 3, .pcrSelect = { 0, 0x04, 0 } } } };
	uint8_t attest[BUNDLE_MAX_TPM], sig[BUNDLE_MAX_TPM], pub[BUNDLE_MAX_TPM];
	size_t alen = 0, slen = 0, plen = 0;
	struct quote_key ak;
	int rc = s->set_locality ? quote_ak_create(s->t, s->alg, s->uuid, &ak) :
				   quote_ak_create_host(s->t, s->alg, s->uuid, &ak);

	if (rc)
		return rc;
	rc = s->set_locality ? s->set_locality(s->arg, QUOTE_LOCALITY) : 0;
	rc = rc ? rc : quote_sign(s->t, &ak, bind, BUNDLE_HOST_BINDING_LEN, &sel, attest, &alen,
				  sig, sizeof(sig), &slen);
	if (s->set_locality)
		s->set_locality(s->arg, 0);
	quote_flush(s->t, ak.handle);
	if (!rc && Tss2_MU_TPMT_PUBLIC_Marshal(&ak.pub.publicArea, pub, sizeof(pub), &plen))
		rc = -EIO;
	rc = rc ? rc : blob_dup(attest_out, attest, alen);
	rc = rc ? rc : blob_dup(sig_out, sig, slen);
	return rc || !pub_out ? rc : blob_dup(pub_out, pub, plen);
}

/* Quote PCR 10 with bind as qualifying data, then the IMA prefix it covers. */
static int host_evidence(const struct host_source *s, const uint8_t bind[32],
			 struct bundle_blob *attest, struct bundle_blob *sig,
			 struct bundle_blob *pub, uint8_t *pcr10, struct bundle_blob *ima)
{
	uint8_t *list = NULL;
	TPMS_ATTEST a;
	size_t len = 0, cut = 0, off = 0;
	int rc;

	if (!s->ima_path || !evlog_alg_size(s->bank))
		return -EINVAL;
	rc = host_sign(s, bind, attest, sig, pub);
	rc = rc ? rc : Tss2_MU_TPMS_ATTEST_Unmarshal(attest->data, attest->len, &off, &a)
		? -EIO : 0;
	rc = rc ? rc : ima_read(s->ima_path, &list, &len);
	/* The AK signs with SHA-256 (quote.h): pcrDigest = SHA-256(PCR 10). */
	rc = rc ? rc : ima_prefix(list, len, s->bank, EVLOG_ALG_SHA256,
				  &a.attested.quote.pcrDigest, &cut, pcr10);
	if (rc == -ESTALE)
		log_err("no prefix of %s replays to the quoted PCR 10", s->ima_path);
	rc = rc ? rc : blob_dup(ima, list, cut);
	free(list);
	return rc;
}

int host_quote_collect(const struct host_source *s, const struct bundle *g,
		       struct bundle_host *out)
{
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = bundle_host_binding(g, bind);
	rc = rc ? rc : host_evidence(s, bind, &out->attest, &out->signature, &out->ak_public,
				     out->pcr10, &out->ima_log);
	out->pcr_alg = s->bank;
	rc = rc ? rc : chain_dup(&out->ak, &s->ak);
	rc = rc ? rc : chain_dup(&out->ek, &s->ek);
	if (rc)
		bundle_host_free(out);
	return rc;
}

int host_quote_hop(const struct host_source *s, const uint8_t stream[32],
		   struct bundle_hop *out)
{
	struct bundle_host *h = &out->host;
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->stream_sha256, stream, sizeof(out->stream_sha256));
	rc = bundle_hop_binding(stream, bind);
	rc = rc ? rc : host_evidence(s, bind, &h->attest, &h->signature, &h->ak_public,
				     h->pcr10, &h->ima_log);
	h->pcr_alg = s->bank;
	rc = rc || h->ima_log.len <= BUNDLE_HOP_IMA_MAX ? rc : -EFBIG;
	rc = rc ? rc : chain_dup(&h->ak, &s->ak);
	rc = rc ? rc : chain_dup(&h->ek, &s->ek);
	if (rc)
		bundle_hop_free(out);
	return rc;
}

int host_quote_enroll(const struct host_source *s, const uint8_t *ak_name, size_t name_len,
		      struct bundle_host_enroll *out)
{
	uint8_t bind[BUNDLE_HOST_BINDING_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = bundle_host_enroll_binding(ak_name, name_len, bind);
	rc = rc ? rc : host_evidence(s, bind, &out->attest, &out->signature, NULL, out->pcr10,
				     &out->ima_log);
	if (rc) {
		free(out->attest.data);
		free(out->signature.data);
		free(out->ima_log.data);
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->present = 1;
	return 0;
}
