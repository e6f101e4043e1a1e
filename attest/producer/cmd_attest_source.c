/* SPDX-License-Identifier: Apache-2.0 */
/* A guest's attestation directory and its vTPM (cmd_attest.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "attest/producer/attestd.h"
#include "attest/producer/cmd_attest.h"
#include "core/log.h"
#include "core/util.h"

static int set_locality(void *arg, uint8_t loc)
{
	return swtpm_ctrl(arg, SWTPM_CMD_SET_LOCALITY, &loc, 1, NULL, 0);
}

static int read_in(const char *dir, const char *name, size_t max, struct bundle_blob *b)
{
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = bundle_read_file(path, max, &b->data, &b->len);
	if (rc)
		log_err("%s: %s", path, strerror(-rc));
	return rc;
}

/* Every PEM certificate of path, as DER, into c->chain. */
static int read_chain(const char *dir, const char *name, struct bundle_chain *c)
{
	char path[512];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (c->nchain < BUNDLE_MAX_CHAIN && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);

		X509_free(x);
		if (n <= 0)
			break;
		c->chain[c->nchain].data = malloc((size_t)n);
		if (c->chain[c->nchain].data)
			memcpy(c->chain[c->nchain].data, der, (size_t)n);
		c->chain[c->nchain].len = (size_t)n;
		OPENSSL_free(der);
		if (!c->chain[c->nchain++].data)
			break;
	}
	fclose(f);
	return 0;
}

/* identity = "NAME\nUUID\n"; ak.alg = "rsa2048" | "p256". */
static int read_identity(struct attest_source *s, const char *dir)
{
	struct bundle_blob id = { 0 }, alg = { 0 };
	int rc = read_in(dir, "identity", 256, &id);

	rc = rc ? rc : read_in(dir, "ak.alg", 16, &alg);
	if (!rc && sscanf((char *)id.data, "%64[A-Za-z0-9_.-]\n%36[0-9a-f-]\n", s->name,
			  s->uuid) != 2)
		rc = -EINVAL;
	if (!rc)
		s->g.alg = !strcmp((char *)alg.data, "p256\n") ? QUOTE_AK_P256 : QUOTE_AK_RSA2048;
	if (!rc && strcmp((char *)alg.data, "p256\n") && strcmp((char *)alg.data, "rsa2048\n"))
		rc = -EINVAL;
	free(id.data);
	free(alg.data);
	if (rc)
		log_err("%s: identity or ak.alg malformed", dir);
	return rc;
}

static int data_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* A TPM device (/dev/tpmrm0: a hardware host TPM) or swtpm's data socket. */
static int tpm_open(const char *path)
{
	int fd;

	if (!attest_tpm_is_device(path))
		return data_connect(path);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

int attest_tpm_is_device(const char *path)
{
	return !strncmp(path, "/dev/", 5);
}

int attest_tpm_connect(const char *path, int *fd)
{
	*fd = tpm_open(path);
	if (*fd < 0) {
		log_err("vTPM at %s: %s", path, strerror(-*fd));
		return *fd;
	}
	return 0;
}

/* DIR's identity and certificates, and the TPM's sockets; log and label not. */
static int source_open(struct attest_source *s, const char *dir, const char *tpm_path)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->ctrl.ctrl_fd = -1;
	s->ctrl.pidfd = -1;
	if (!tpm_path || strlen(tpm_path) >= sizeof(s->ctrl.sock_path))
		return -EINVAL;
	snprintf(s->ctrl.sock_path, sizeof(s->ctrl.sock_path), "%s", tpm_path);
	rc = read_identity(s, dir);
	rc = rc ? rc : read_in(dir, "ak.crt", BUNDLE_MAX_CERT, &s->g.ak.cert);
	rc = rc ? rc : read_in(dir, "ek.crt", BUNDLE_MAX_CERT, &s->g.ek.cert);
	return rc ? rc : read_chain(dir, "ek-chain.pem", &s->g.ek);
}

int attest_host_open(struct attest_source *s, const char *dir, const char *tpm_path)
{
	int rc = source_open(s, dir, tpm_path);

	if (!rc && (s->fd = tpm_open(tpm_path)) < 0)
		rc = s->fd;
	if (rc) {
		log_err("host attestation sources %s: %s", dir, strerror(-rc));
		attest_source_close(s);
		return rc;
	}
	quote_tpm_fd(&s->t, &s->fd);
	s->g.name = s->name;
	s->g.uuid = s->uuid;
	/* A device gives user space no locality: the hardware host AK has none. */
	s->g.set_locality = attest_tpm_is_device(tpm_path) ? NULL : set_locality;
	s->g.arg = &s->ctrl;
	return 0;
}

int attest_source_open(struct attest_source *s, const char *dir, const char *log_path,
		       const char *label, const char *tpm_path)
{
	int rc;

	if (!label || strlen(label) > BUNDLE_LABEL_MAX)
		return -EINVAL;
	rc = source_open(s, dir, tpm_path);
	snprintf(s->label, sizeof(s->label), "%s", label);
	rc = rc ? rc : bundle_read_file(log_path, EVLOG_MAX_SIZE, &s->g.log.data, &s->g.log.len);
	if (!rc && (s->fd = data_connect(tpm_path)) < 0)
		rc = s->fd;
	if (rc) {
		log_err("attestation sources for %s: %s", dir, strerror(-rc));
		attest_source_close(s);
		return rc;
	}
	quote_tpm_fd(&s->t, &s->fd);
	s->g.name = s->name;
	s->g.uuid = s->uuid;
	s->g.label = s->label;
	s->g.set_locality = set_locality;
	s->g.arg = &s->ctrl;
	return 0;
}

void attest_source_close(struct attest_source *s)
{
	struct bundle_chain *c[] = { &s->g.ak, &s->g.ek };

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		free(c[i]->cert.data);
		for (size_t j = 0; j < c[i]->nchain; j++)
			free(c[i]->chain[j].data);
		memset(c[i], 0, sizeof(*c[i]));
	}
	free(s->g.log.data);
	s->g.log.data = NULL;
}

int attest_source_bundle(struct attest_source *s, const char *nonce_hex, char **json,
			 size_t *len)
{
	uint8_t nonce[BUNDLE_MAX_NONCE];
	size_t n = 0;
	struct bundle b;
	int rc;

	if (bundle_hex_decode(nonce_hex, strlen(nonce_hex), nonce, sizeof(nonce), &n) ||
	    n < BUNDLE_MIN_NONCE)
		return -EINVAL;
	rc = quote_collect(&s->t, &s->g, nonce, n, &b);
	if (rc)
		return rc;
	rc = bundle_write(&b, json, len);
	bundle_free(&b);
	return rc;
}

/*
 * Production mode: ask the running launcher of NAME (attestd.h).  The reply
 * must be a well-formed bundle of that guest carrying our nonce before we
 * hand it on (the verifier checks everything else).
 */
static int launcher_check(const char *name, const uint8_t *nonce, size_t n, const char *json,
			  size_t len)
{
	struct bundle_error err = { 0 };
	struct bundle b;
	int ok;

	if (bundle_parse((const uint8_t *)json, len, &b, &err)) {
		log_err("guest %s: the launcher's bundle is malformed: %s", name, err.msg);
		return -EBADMSG;
	}
	ok = !strcmp(b.name, name) && b.nonce_len == n && !memcmp(b.nonce, nonce, n);
	bundle_free(&b);
	if (!ok)
		log_err("guest %s: the launcher's bundle is for another guest or nonce", name);
	return ok ? 0 : -EBADMSG;
}

int attest_launcher_bundle(const char *run_dir, const char *name, const char *nonce_hex,
			   int timeout_ms, char **json, size_t *len)
{
	struct attestd_request req = { .op = nonce_hex ? ATTESTD_OP_QUOTE : ATTESTD_OP_ENROLL_INFO };
	size_t n = name ? strlen(name) : 0;
	char msg[320];
	int rc;

	*json = NULL;
	if (!n || n > BUNDLE_NAME_MAX || name[0] == '.' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return -EINVAL;
	if (nonce_hex && (bundle_hex_decode(nonce_hex, strlen(nonce_hex), req.nonce,
					    sizeof(req.nonce), &req.nonce_len) ||
			  req.nonce_len < BUNDLE_MIN_NONCE)) {
		log_err("nonce: 16..64 bytes of lower-case hex");
		return -EINVAL;
	}
	rc = attestd_request(run_dir, name, &req, timeout_ms, json, len, msg, sizeof(msg));
	if (rc) {
		log_err("guest %s: %s (%s)", name, msg, strerror(-rc));
		return rc;
	}
	rc = nonce_hex ? launcher_check(name, req.nonce, req.nonce_len, *json, *len) : 0;
	if (rc) {
		free(*json);
		*json = NULL;
	}
	return rc;
}
