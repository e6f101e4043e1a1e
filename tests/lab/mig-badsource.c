/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-migrate's trusted but lying source (lab only, never shipped): a
 * source with a trusted certificate that sends a guest's true HELLO, then a
 * migration stream that is not one.  The test's target must refuse it
 * naming the record and leave nothing behind.
 *   mig-badsource ADDR GUEST.json CERT KEY CA TRUSTED KIND [EVENTLOG
 *                 [GUEST-STATE-DIR EK-CHAIN.pem]]
 * KIND: header (another magic), skip (round 1 skipped), mem (MEM in a
 * migration stream), big (PAGES over a whole guest's RAM).  Prints the
 * target's answer ("REFUSE ...", "ABORT ...", or the channel's error) and
 * exits 0 when the target refused.  EVENTLOG: the guest's launcher log
 * (a guest with a vTPM: the target checks it is a launcher's first).
 * GUEST-STATE-DIR (its uuid, ek/ek-rsa2048.crt) and EK-CHAIN.pem: the
 * guest's true identity (the target checks its EK chain before READY).
 */
#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/launch/config_file.h"
#include "core/launch/migchan.h"
#include "core/launch/migwire.h"
#include "core/log.h"
#include "core/snapshot.h"

static uint8_t s[64 * 1024];
static size_t slen;

static void rec(uint32_t type, uint32_t index, uint64_t len)
{
	struct snap_rec r = { type, index, len };

	snap_rec_encode(&r, s + slen);
	slen += 16;
}

static void stream(const char *kind)
{
	uint64_t gpa = 1 << 20;

	memcpy(s, strcmp(kind, "header") ? SNAP_MIG_MAGIC : SNAP_MAGIC, SNAP_MAGIC_LEN);
	slen = SNAP_MAGIC_LEN;
	if (!strcmp(kind, "big")) {
		rec(SNAP_REC_PAGES, 0, 8 + (1ULL << 40));     /* a TiB of pages */
	} else {
		rec(!strcmp(kind, "mem") ? SNAP_REC_MEM : SNAP_REC_PAGES, 0, 8 + 4096);
		memcpy(s + slen, &gpa, 8);
		memset(s + slen + 8, 0x5a, 4096);
		slen += 8 + 4096;
	}
	rec(SNAP_REC_ROUND_END, 0, 0);
	rec(SNAP_REC_ROUND_END, !strcmp(kind, "skip") ? 2 : 1, 0);
}

/* The guest's identity into H (buffers static: HELLO points into them). */
static int identity(struct mig_hello *h, const char *state, const char *chain)
{
	static uint8_t ek[MIGWIRE_CERT_MAX], der[MIGWIRE_CHAIN_MAX][MIGWIRE_CERT_MAX];
	char path[4096];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/uuid", state);
	f = fopen(path, "r");
	if (!f || !fgets(h->uuid, sizeof(h->uuid), f))
		return -1;
	fclose(f);
	snprintf(path, sizeof(path), "%s/ek/ek-rsa2048.crt", state);
	f = fopen(path, "rb");
	h->ek_cert_len = f ? fread(ek, 1, sizeof(ek), f) : 0;
	h->ek_cert = ek;
	if (f)
		fclose(f);
	f = fopen(chain, "r");
	while (f && h->nchain < MIGWIRE_CHAIN_MAX && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		unsigned char *p = der[h->nchain];
		int n = i2d_X509(x, NULL);

		if (n > 0 && n <= (int)MIGWIRE_CERT_MAX && i2d_X509(x, &p) == n) {
			h->ek_chain[h->nchain] = der[h->nchain];
			h->ek_chain_len[h->nchain++] = (size_t)n;
		}
		X509_free(x);
	}
	if (f)
		fclose(f);
	return h->ek_cert_len && h->nchain ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	static uint8_t in[MIGWIRE_REASON_MAX + 8];
	struct migchan_conf c = { 0 };
	struct mig_hello h = { .version = MIGWIRE_VERSION };
	struct migchan *ch = NULL;
	char why[512], *canon = NULL, text[MIGWIRE_REASON_MAX + 1];
	uint8_t *buf = NULL;
	size_t len = 0, clen = 0;
	uint32_t type = 0;
	int rc;

	static uint8_t log[MIGWIRE_LOG_MAX];

	if (argc != 8 && argc != 9 && argc != 11)
		return fprintf(stderr, "usage: mig-badsource ADDR GUEST.json CERT KEY CA "
			       "TRUSTED header|skip|mem|big [EVENTLOG [GUEST-STATE-DIR "
			       "EK-CHAIN.pem]]\n"), 2;
	if (argc >= 9) {
		FILE *f = fopen(argv[8], "rb");

		h.log_len = f ? fread(log, 1, sizeof(log), f) : 0;
		h.log = log;
		if (f)
			fclose(f);
	}
	c = (struct migchan_conf){ argv[3], argv[4], argv[5], argv[6], 30000 };
	config_init(&cfg);
	if (config_load_file(&cfg, argv[2]) || config_canonical(&cfg, &canon, &clen))
		return fprintf(stderr, "mig-badsource: %s: not a guest\n", argv[2]), 2;
	snprintf(h.name, sizeof(h.name), "%s", cfg.name);
	h.flags = cfg.vtpm ? MIG_HELLO_F_VTPM : 0;
	h.config = (const uint8_t *)canon;
	h.config_len = clen;
	snprintf(h.host_id, sizeof(h.host_id), "badsource");
	if (argc == 11 && identity(&h, argv[9], argv[10]))
		return fprintf(stderr, "mig-badsource: %s, %s: no identity\n", argv[9],
			       argv[10]), 2;
	h.ndisks = cfg.ndisks;
	for (uint32_t i = 0; i < cfg.ndisks; i++) {
		FILE *f = fopen(cfg.disks[i].path, "rb");

		snprintf(h.disks[i].path, sizeof(h.disks[i].path), "%s", cfg.disks[i].path);
		if (f && !fseek(f, 0, SEEK_END))
			h.disks[i].size = (uint64_t)ftell(f);
		if (f)
			fclose(f);
		h.disks[i].flags = MIG_DISK_F_SHARED;
	}
	rc = migchan_connect(argv[1], &c, &ch, why, sizeof(why));
	rc = rc ? rc : migwire_hello_encode(&h, &buf, &len);
	rc = rc ? rc : migchan_send(ch, MIG_HELLO, buf, len);
	rc = rc ? rc : migchan_recv(ch, &type, in, sizeof(in), &len);
	if (!rc && type == MIG_READY) {
		stream(argv[7]);
		rc = migchan_send(ch, MIG_STREAM, s, slen);
		rc = rc ? rc : migchan_recv(ch, &type, in, sizeof(in), &len);
	}
	if (!rc && (type == MIG_REFUSE || type == MIG_ABORT) &&
	    !migwire_text_decode(type, in, len, text, sizeof(text), why, sizeof(why))) {
		printf("%s %s\n", migwire_name(type), text);
		rc = 0;
	} else {
		printf("no refusal: %s\n", rc ? (ch ? migchan_why(ch) : why) : migwire_name(type));
		rc = 1;
	}
	free(buf);
	free(canon);
	migchan_close(ch);
	return rc;
}
