/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The migration channel's sockets (core/launch/migchan.h): "unix:/path" and
 * "tcp:HOST:PORT", listen, connect and accept, each bounded in time.
 */
#include "core/launch/migchan_int.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"

struct maddr {
	bool unix_path;
	char host[256];
	char port[8];
	struct sockaddr_un sun;
};

/* ADDR into A; LISTEN allows port 0 (the kernel's choice). */
static int addr_parse(const char *addr, bool listen_side, struct maddr *a, char *why,
		      size_t whylen)
{
	const char *h, *p;
	char *end;
	unsigned long port;

	memset(a, 0, sizeof(*a));
	if (!addr)
		addr = "";
	if (!strncmp(addr, "unix:", 5)) {
		size_t n = strlen(addr + 5);

		if (addr[5] != '/' || n >= sizeof(a->sun.sun_path)) {
			snprintf(why, whylen, "%s: a unix address is unix:/absolute/path "
				 "(at most %zu bytes)", addr, sizeof(a->sun.sun_path) - 1);
			return -EINVAL;
		}
		a->unix_path = true;
		a->sun.sun_family = AF_UNIX;
		memcpy(a->sun.sun_path, addr + 5, n + 1);
		return 0;
	}
	if (strncmp(addr, "tcp:", 4))
		goto bad;
	h = addr + 4;
	if (*h == '[') {
		const char *e = strchr(h, ']');

		if (!e || e[1] != ':')
			goto bad;
		p = e + 2;
		h++;
		if ((size_t)(e - h) >= sizeof(a->host) || e == h)
			goto bad;
		memcpy(a->host, h, (size_t)(e - h));
	} else {
		const char *c = strchr(h, ':');

		if (!c || c == h || strchr(c + 1, ':') || (size_t)(c - h) >= sizeof(a->host))
			goto bad;
		memcpy(a->host, h, (size_t)(c - h));
		p = c + 1;
	}
	errno = 0;
	port = strtoul(p, &end, 10);
	if (!*p || *end || errno || port > 65535 || (!port && !listen_side) || *p == '+' ||
	    *p == '-' || *p == ' ')
		goto bad;
	snprintf(a->port, sizeof(a->port), "%lu", port);
	return 0;
bad:
	snprintf(why, whylen, "%s: not an address (unix:/path, tcp:HOST:PORT, "
		 "tcp:[IPV6]:PORT)", addr);
	return -EINVAL;
}

int migchan_sock_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r ? 0 : -ETIMEDOUT;
}

static int resolve(const struct maddr *a, bool passive, struct addrinfo **res, char *why,
		   size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
	int rc = getaddrinfo(a->host, a->port, &hints, res);

	if (rc) {
		snprintf(why, whylen, "%s port %s: %s", a->host, a->port, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

int migchan_listen(const char *addr, int *lfd, char *why, size_t whylen)
{
	struct addrinfo *res = NULL, *ai;
	struct maddr a;
	int fd = -1, rc, one = 1;

	*lfd = -1;
	rc = addr_parse(addr, true, &a, why, whylen);
	if (rc)
		return rc;
	if (a.unix_path) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a.sun, sizeof(a.sun)) ||
		    listen(fd, 4))
			goto fail;
		*lfd = fd;
		return 0;
	}
	rc = resolve(&a, true, &res, why, whylen);
	if (rc)
		return rc;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
		    !bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 4))
			break;
		rc = -errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		errno = -rc;
	}
	freeaddrinfo(res);
	if (fd < 0)
		goto fail;
	*lfd = fd;
	return 0;
fail:
	rc = -errno;
	snprintf(why, whylen, "cannot listen on %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* One non-blocking connect to SA, waited for at most TIMEOUT_MS. */
static int connect_one(int family, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0, rc;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -errno;
	if (!connect(fd, sa, len))
		return fd;
	rc = errno == EINPROGRESS ? migchan_sock_wait(fd, POLLOUT, timeout_ms) : -errno;
	if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
		rc = -errno;
	if (!rc && err)
		rc = -err;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int migchan_sock_connect(const char *addr, int timeout_ms, char *why, size_t whylen)
{
	struct addrinfo *res = NULL, *ai;
	struct maddr a;
	int fd, rc = addr_parse(addr, false, &a, why, whylen);

	if (rc)
		return rc;
	if (a.unix_path) {
		fd = connect_one(AF_UNIX, (struct sockaddr *)&a.sun, sizeof(a.sun), timeout_ms);
	} else {
		rc = resolve(&a, false, &res, why, whylen);
		if (rc)
			return rc;
		fd = -EHOSTUNREACH;
		for (ai = res; ai && fd < 0; ai = ai->ai_next)
			fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		freeaddrinfo(res);
	}
	if (fd < 0)
		snprintf(why, whylen, "cannot connect to %s: %s", addr,
			 fd == -ETIMEDOUT ? "no answer in time" : strerror(-fd));
	return fd;
}

int migchan_sock_accept(int lfd, int timeout_ms, char *why, size_t whylen)
{
	int rc = migchan_sock_wait(lfd, POLLIN, timeout_ms), fd;

	if (rc) {
		snprintf(why, whylen, "no source connected in %d ms%s", timeout_ms,
			 rc == -ETIMEDOUT ? "" : " (poll failed)");
		return rc;
	}
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "accept: %s", strerror(errno));
		return rc;
	}
	return fd;
}
