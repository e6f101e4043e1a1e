/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's attestation socket (attestd.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include <json-c/json.h>

#include "attest/producer/quote_vtpm.h"
#include "core/log.h"

/* A directory we own, not writable by group or others, never a symlink. */
static int attestd_dir_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		log_err("%s: not a directory owned by uid %u and closed to others", path,
			(unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

/* Opens (creating with mode if missing) the directory name under at. */
static int attestd_dir_open(int at, const char *name, mode_t mode, int *out)
{
	int fd;

	if (mkdirat(at, name, mode) && errno != EEXIST)
		return -errno;
	fd = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fd;
	return attestd_dir_check(fd, name);
}

/* RUN_DIR (absolute) then RUN_DIR/NAME, opened level by level. */
static int attestd_run_dir(const char *run_dir, const char *name, int *out)
{
	int top, rc;

	if (run_dir[0] != '/')
		return -EINVAL;
	if (mkdir(run_dir, 0755) && errno != EEXIST)
		return -errno;
	top = open(run_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return -errno;
	rc = attestd_dir_check(top, run_dir);
	*out = -1;
	rc = rc ? rc : attestd_dir_open(top, name, 0700, out);
	close(top);
	if (rc && *out >= 0) {
		close(*out);
		*out = -1;
	}
	return rc;
}

/* Removes a stale attest.sock (we hold the lock: no launcher serves it). */
static int attestd_stale(int dir_fd)
{
	struct stat st;

	if (fstatat(dir_fd, ATTESTD_SOCK_NAME, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlinkat(dir_fd, ATTESTD_SOCK_NAME, 0) ? -errno : 0;
}

static int attestd_lock(struct attestd *d)
{
	d->lock_fd = openat(d->dir_fd, ATTESTD_LOCK_NAME,
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return -errno;
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
	return 0;
}

/* Binds through the checked directory (the path is ours alone: 0700). */
static int attestd_bind(struct attestd *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(d->sock_path);

	memcpy(sun.sun_path, d->sock_path, n + 1);
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return -errno;
	if (bind(d->listen_fd, (struct sockaddr *)&sun, sizeof(sun)))
		return -errno;
	if (fchmodat(d->dir_fd, ATTESTD_SOCK_NAME, 0600, 0) || listen(d->listen_fd, 8))
		return -errno;
	return 0;
}

/* Closes whatever of the socket, lock and folder is open (no unlink). */
static void attestd_fds_close(struct attestd *d)
{
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	d->listen_fd = d->lock_fd = d->dir_fd = -1;
}

int attestd_open(const char *run_dir, const char *name, struct attestd *d)
{
	int n, rc;

	*d = (struct attestd){ .listen_fd = -1, .lock_fd = -1, .dir_fd = -1,
		.allow_uid = 0, .io_timeout_ms = ATTESTD_IO_TIMEOUT_MS };
	n = snprintf(d->sock_path, sizeof(d->sock_path), "%s/%s/%s", run_dir, name,
		     ATTESTD_SOCK_NAME);
	if (!name[0] || strlen(name) > BUNDLE_NAME_MAX || strchr(name, '/') || name[0] == '.' ||
	    n < 0 || (size_t)n >= sizeof(d->sock_path))
		return -EINVAL;
	snprintf(d->name, sizeof(d->name), "%s", name);
	rc = attestd_run_dir(run_dir, name, &d->dir_fd);
	if (rc)
		goto fail;
	rc = attestd_lock(d);
	if (rc)
		goto fail;
	rc = attestd_stale(d->dir_fd);
	rc = rc ? rc : attestd_bind(d);
	if (rc)
		goto unlink;
	log_info("guest %s: attestation socket %s", name, d->sock_path);
	return 0;
unlink:
	if (rc != -EEXIST)
		unlinkat(d->dir_fd, ATTESTD_SOCK_NAME, 0);
fail:
	log_err("guest %s: attestation socket %s: %s", name, d->sock_path, strerror(-rc));
	attestd_fds_close(d);
	return rc;
}

int attestd_fd(const struct attestd *d)
{
	return d->listen_fd;
}

void attestd_close(struct attestd *d)
{
	if (d->listen_fd >= 0)
		unlinkat(d->dir_fd, ATTESTD_SOCK_NAME, 0);
	/* The lock file too, while we still hold it: the guest's gstate lock
	 * makes us its only launcher, so no one else can be taking it. */
	if (d->lock_fd >= 0)
		unlinkat(d->dir_fd, ATTESTD_LOCK_NAME, 0);
	attestd_fds_close(d);
}

static uint64_t attestd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits for events on fd until deadline: 0, -ETIMEDOUT or -errno. */
static int attestd_wait(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { fd, events, 0 };
		uint64_t now = attestd_now_ms();
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 0;
	}
}

/*
 * One request: bytes until a newline or EOF, more than ATTESTD_REQ_MAX is
 * refused, the whole request within the deadline.
 */
static int attestd_read(int fd, uint8_t *buf, size_t *len, uint64_t deadline)
{
	*len = 0;
	while (!*len || buf[*len - 1] != '\n') {
		ssize_t r;
		int rc = attestd_wait(fd, POLLIN, deadline);

		if (rc)
			return rc;
		r = recv(fd, buf + *len, ATTESTD_REQ_MAX + 1 - *len, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		*len += (size_t)r;
		if (*len > ATTESTD_REQ_MAX)
			return -EMSGSIZE;
	}
	return 0;
}

/* Writes everything before the deadline (non-blocking, no SIGPIPE). */
static int attestd_write(int fd, const void *b, size_t n, uint64_t deadline)
{
	const uint8_t *p = b;

	while (n) {
		ssize_t w;
		int rc = attestd_wait(fd, POLLOUT, deadline);

		if (rc)
			return rc;
		w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int attestd_reply_err(struct attestd *d, int fd, int err, const char *why,
			     uint64_t deadline)
{
	char line[320];
	int n = snprintf(line, sizeof(line), "ERR %d %.300s\n", err, why);

	d->refused++;
	log_warn("guest %s: attestation request refused: %s", d->name, why);
	return attestd_write(fd, line, (size_t)n, deadline);
}

static int attestd_reply_ok(struct attestd *d, int fd, const char *body, size_t len,
			    uint64_t deadline)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %zu\n", len), rc;

	rc = attestd_write(fd, line, (size_t)n, deadline);
	rc = rc ? rc : attestd_write(fd, body, len, deadline);
	if (!rc)
		d->served++;
	return rc;
}

static int attestd_b64_add(json_object *o, const char *key, const struct bundle_blob *b)
{
	char *s = malloc(4 * ((b->len + 2) / 3) + 1);
	json_object *v;

	if (!s)
		return -ENOMEM;
	bundle_b64_encode(b->data, b->len, s);
	v = json_object_new_string(s);
	free(s);
	if (!v)
		return -ENOMEM;
	if (json_object_is_type(o, json_type_array))
		return json_object_array_add(o, v) ? -ENOMEM : 0;
	return json_object_object_add(o, key, v) ? -ENOMEM : 0;
}

/* The enroll-info object (attestd.h) as JSON text. */
static int attestd_info(const struct quote_guest *g, char **out, size_t *len)
{
	json_object *o = json_object_new_object(), *chain = json_object_new_array();
	int rc = o && chain ? 0 : -ENOMEM;

	if (!rc && (json_object_object_add(o, "name", json_object_new_string(g->name)) ||
		    json_object_object_add(o, "uuid", json_object_new_string(g->uuid)) ||
		    json_object_object_add(o, "label", json_object_new_string(g->label)) ||
		    json_object_object_add(o, "ak_alg", json_object_new_string(
				    g->alg == QUOTE_AK_P256 ? "p256" : "rsa2048"))))
		rc = -ENOMEM;
	rc = rc ? rc : attestd_b64_add(o, "ak_cert", &g->ak.cert);
	rc = rc ? rc : attestd_b64_add(o, "ek_cert", &g->ek.cert);
	for (size_t i = 0; !rc && i < g->ek.nchain && i < BUNDLE_MAX_CHAIN; i++)
		rc = attestd_b64_add(chain, NULL, &g->ek.chain[i]);
	if (!rc && !json_object_object_add(o, "ek_chain", chain)) {
		chain = NULL;
		*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		rc = *out ? 0 : -ENOMEM;
		*len = rc ? 0 : strlen(*out);
	} else if (!rc) {
		rc = -ENOMEM;
	}
	json_object_put(chain);
	json_object_put(o);
	return rc;
}

/* Runs one parsed request; the body (malloc'd) or -errno. */
static int attestd_run(struct attestd *d, struct vtpm *v, const struct quote_guest *g,
		       const struct attestd_request *req, char **body, size_t *len)
{
	struct quote_guest q = *g;
	struct bundle b;
	int rc;

	if (req->op == ATTESTD_OP_ENROLL_INFO)
		return attestd_info(g, body, len);
	memset(&b, 0, sizeof(b));
	rc = quote_vtpm_collect(v, &q, req->nonce, req->nonce_len, &b);
	if (rc) {
		log_err("guest %s: quote failed: %s", d->name, strerror(-rc));
		return rc;
	}
	rc = bundle_write(&b, body, len);
	bundle_free(&b);
	return rc;
}

/* Only uid allow_uid may ask (SO_PEERCRED, the kernel's word at connect). */
static int attestd_peer_ok(struct attestd *d, int fd)
{
	struct ucred cr;
	socklen_t n = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) || n != sizeof(cr))
		return -errno ? -errno : -EPERM;
	if (cr.uid != d->allow_uid) {
		log_warn("guest %s: attestation client pid %d uid %u refused (not uid %u)",
			 d->name, (int)cr.pid, (unsigned)cr.uid, (unsigned)d->allow_uid);
		return -EPERM;
	}
	return 0;
}

static int attestd_client(struct attestd *d, int fd, struct vtpm *v, const struct quote_guest *g)
{
	uint64_t deadline = attestd_now_ms() + (uint64_t)d->io_timeout_ms;
	uint8_t buf[ATTESTD_REQ_MAX + 1];
	struct attestd_request req;
	const char *why = "";
	char *body = NULL;
	size_t len = 0;
	int rc = attestd_peer_ok(d, fd);

	if (rc) {
		attestd_reply_err(d, fd, EPERM, "permission denied: uid 0 only", deadline);
		return rc;
	}
	rc = attestd_read(fd, buf, &len, deadline);
	if (rc == -EMSGSIZE) {
		attestd_reply_err(d, fd, EMSGSIZE, "request too large", deadline);
		return rc;
	}
	if (rc) {
		d->refused++;
		log_warn("guest %s: attestation client: %s", d->name, strerror(-rc));
		return rc;
	}
	if (attestd_request_parse(buf, len, &req, &why)) {
		attestd_reply_err(d, fd, EINVAL, why, deadline);
		return -EINVAL;
	}
	if (d->refuse[0]) {
		attestd_reply_err(d, fd, ENOKEY, d->refuse, deadline);
		return 0;
	}
	rc = attestd_run(d, v, g, &req, &body, &len);
	deadline = attestd_now_ms() + (uint64_t)d->io_timeout_ms;
	if (rc == -EIO)
		attestd_reply_err(d, fd, EIO, "the vTPM failed", deadline);
	else if (rc)
		rc = attestd_reply_err(d, fd, -rc, rc == -EBUSY ?
			"the guest holds every TPM object slot, retry later" : strerror(-rc),
			deadline);
	else
		rc = attestd_reply_ok(d, fd, body, len, deadline);
	free(body);
	return rc;
}

int attestd_service(struct attestd *d, struct vtpm *v, const struct quote_guest *g)
{
	int fd, rc;

	if (d->listen_fd < 0)
		return -EBADF;
	fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? 0 : -errno;
	rc = attestd_client(d, fd, v, g);
	close(fd);
	return rc;
}
