/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's control socket (core/launch/launch_control.h): the socket, its
 * clients and their I/O, and the order channel to the VMM.  What each
 * request does is core/launch/launch_control_api.c.
 */
#include "core/launch/launch_control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "core/util.h"

long long launch_control_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

long long launch_control_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* RUN_DIR/NAME: ours, closed to others (0700, or 0710 with the group). */
static int control_dir(struct control *ctl, const char *run_dir, const char *name)
{
	struct stat st;
	int top, fd;

	if (mkdir(run_dir, 0755) && errno != EEXIST)
		return -errno;
	top = open(run_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return -errno;
	if (mkdirat(top, name, 0700) && errno != EEXIST) {
		close(top);
		return -errno;
	}
	fd = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(top);
	if (fd < 0)
		return -errno;
	ctl->dir_fd = fd;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		log_err("%s/%s: not a directory owned by uid %u and closed to others",
			run_dir, name, (unsigned)geteuid());
		return -EPERM;
	}
	if (ctl->group && (fchown(fd, (uid_t)-1, ctl->group) || fchmod(fd, 0710)))
		return -errno;
	return 0;
}

/* The listening socket: stale one removed (gstate's lock makes us the
 * guest's only launcher), 0600 or 0660 with the group. */
static int control_bind(struct control *ctl)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	if (!fstatat(ctl->dir_fd, CONTROL_SOCK_NAME, &st, AT_SYMLINK_NOFOLLOW)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlinkat(ctl->dir_fd, CONTROL_SOCK_NAME, 0))
			return -errno;
	}
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		return -errno;
	if (bind(ctl->listen_fd, (struct sockaddr *)&sun, sizeof(sun)))
		return -errno;
	if (fchmodat(ctl->dir_fd, CONTROL_SOCK_NAME, ctl->group ? 0660 : 0600, 0) ||
	    (ctl->group && fchownat(ctl->dir_fd, CONTROL_SOCK_NAME, (uid_t)-1, ctl->group,
				    AT_SYMLINK_NOFOLLOW)) ||
	    listen(ctl->listen_fd, CONTROL_MAX_CLIENTS))
		return -errno;
	return 0;
}

int launch_control_open(struct control *ctl, struct launch *l, const char *run_dir,
			gid_t group, int *vmm_end)
{
	int sp[2] = { -1, -1 }, rc, n;

	memset(ctl, 0, sizeof(*ctl));
	ctl->l = l;
	ctl->group = group;
	ctl->listen_fd = ctl->vmm_fd = ctl->dir_fd = -1;
	ctl->mig_client = -1;
	ctl->read_ms = CONTROL_READ_MS;
	ctl->write_ms = CONTROL_WRITE_MS;
	ctl->vmm_ms = CONTROL_VMM_MS;
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++)
		ctl->c[i].fd = -1;
	n = snprintf(ctl->path, sizeof(ctl->path), "%s/%s/%s", run_dir, l->cfg.name,
		     CONTROL_SOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(ctl->path))
		return -ENAMETOOLONG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;
	ctl->vmm_fd = sp[0];
	*vmm_end = sp[1];
	if (fcntl(ctl->vmm_fd, F_SETFL, O_NONBLOCK))
		rc = -errno;
	else
		rc = control_dir(ctl, run_dir, l->cfg.name);
	rc = rc ? rc : control_bind(ctl);
	if (rc) {
		log_err("control socket %s: %s", ctl->path, strerror(-rc));
		close(*vmm_end);
		*vmm_end = -1;
		launch_control_close(ctl);
		return rc;
	}
	log_info("control socket %s (%s)", ctl->path, group ? "root and its group" : "root only");
	return 0;
}

void launch_control_start(struct control *ctl, pid_t pid)
{
	ctl->vmm_pid = pid;
	ctl->start_ms = launch_control_now_ms();
	ctl->start_wall = time(NULL);
}

static void control_client_drop(struct control_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->state = CC_FREE;
}

void launch_control_close(struct control *ctl)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++)
		control_client_drop(&ctl->c[i]);
	if (ctl->listen_fd >= 0) {
		unlinkat(ctl->dir_fd, CONTROL_SOCK_NAME, 0);
		close(ctl->listen_fd);
	}
	if (ctl->vmm_fd >= 0)
		close(ctl->vmm_fd);
	if (ctl->dir_fd >= 0)
		close(ctl->dir_fd);
	ctl->listen_fd = ctl->vmm_fd = ctl->dir_fd = -1;
}

/* A new peer: checked first (launch_control_api.c), then a free slot. */
static void control_accept(struct control *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct control_client *c = NULL;

	if (fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c) && !c; i++)
		if (ctl->c[i].state == CC_FREE)
			c = &ctl->c[i];
	if (!c) {
		log_warn("control: %d clients already: connection closed", CONTROL_MAX_CLIENTS);
		ctl->refused++;
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->state = CC_READ;
	c->deadline_ms = launch_control_now_ms() + ctl->read_ms;
	c->write_ms = ctl->write_ms;
	if (control_peer_check(ctl, fd)) {
		ctl->refused++;
		control_error(c, 403, "this peer may not manage the guest");
	}
}

/* Bytes from the client; a complete request goes to routing. */
static void control_read(struct control *ctl, struct control_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, MSG_DONTWAIT);
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == 0 && c->len)          /* half a request, then EOF */
			control_error(c, 400, "incomplete request");
		else
			control_client_drop(c);
		return;
	}
	c->len += (size_t)n;
	rc = http_parse(c->in, c->len, CONTROL_HEAD_MAX, CONTROL_BODY_MAX, &c->req);
	if (rc == -EAGAIN && c->len == sizeof(c->in))
		rc = -EMSGSIZE;
	if (rc == -EAGAIN)
		return;
	if (rc) {
		ctl->refused++;
		control_error(c, http_parse_status(rc), "malformed request");
		return;
	}
	control_route(ctl, c);
}

void control_write(struct control_client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		control_client_drop(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		shutdown(c->fd, SHUT_WR);
		control_client_drop(c);
	}
}

/* The next client waiting for the VMM gets its order out (one at a time). */
static void control_vmm_send(struct control *ctl)
{
	struct vmm_ctl_req req;

	if (ctl->vmm_busy || ctl->vmm_fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++) {
		struct control_client *c = &ctl->c[i];

		if (c->state != CC_VMM || c->vmm_seq)
			continue;
		req = (struct vmm_ctl_req){ .op = c->vmm_op, .seq = ++ctl->seq };
		if (!ctl->seq)
			req.seq = ++ctl->seq;          /* 0 means "not sent" */
		if (send(ctl->vmm_fd, &req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(req)) {
			control_error(c, 503, "the VMM does not take orders");
			continue;
		}
		c->vmm_seq = req.seq;
		ctl->vmm_busy = true;
		ctl->sent_us = launch_control_now_us();
		return;
	}
}

/* The VMM's answer: state and counters kept, its client answered. */
static void control_vmm_reply(struct control *ctl)
{
	struct vmm_ctl_reply rep;
	ssize_t n = recv(ctl->vmm_fd, &rep, sizeof(rep), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != (ssize_t)sizeof(rep)) {
		log_warn("control: the VMM's channel %s: no more orders",
			 n == 0 ? "closed" : "broke");
		close(ctl->vmm_fd);
		ctl->vmm_fd = -1;
		for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++)
			if (ctl->c[i].state == CC_VMM)
				control_error(&ctl->c[i], 503, "the VMM is gone");
		return;
	}
	ctl->vmm_busy = false;
	ctl->paused = rep.paused != 0;
	ctl->stats = rep.stats;
	ctl->have_stats = true;
	if (rep.op == VMM_CTL_PAUSE && !rep.result)
		ctl->pause_us = launch_control_now_us() - ctl->sent_us;
	if (rep.op == VMM_CTL_RESUME && !rep.result)
		ctl->resume_us = launch_control_now_us() - ctl->sent_us;
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++)
		if (ctl->c[i].state == CC_VMM && ctl->c[i].vmm_seq == rep.seq)
			control_vmm_done(ctl, &ctl->c[i], &rep);
}

/*
 * One order to the VMM, waited for here (the snapshot, core/launch/
 * launch_snapshot.c: the guest is paused, nothing else may reach the VMM
 * meanwhile).  Refused while another order is out.  The reply's state is
 * kept as control_vmm_reply keeps it.  0 (REP filled) or -errno.
 */
int launch_control_order_sync(struct control *ctl, uint32_t op, int timeout_ms,
			      struct vmm_ctl_reply *rep)
{
	struct vmm_ctl_req req;
	long long end = launch_control_now_ms() + timeout_ms;
	int rc;

	if (ctl->vmm_fd < 0)
		return -EPIPE;
	if (ctl->vmm_busy)
		return -EBUSY;
	req = (struct vmm_ctl_req){ .op = op, .seq = ++ctl->seq };
	if (!req.seq)
		req.seq = ++ctl->seq;
	if (send(ctl->vmm_fd, &req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req))
		return -EPIPE;
	for (;;) {
		rc = launch_control_reply_wait(ctl, (int)(end - launch_control_now_ms()), rep);
		if (rc)
			return rc;
		if (rep->seq == req.seq)
			return 0;
	}
}

int launch_control_stream_record(const struct stream_relay *s, const struct snap_limits *lim,
				 struct snap_frame_state *st, struct snap_rec *r)
{
	uint8_t h[16];
	int rc = s->read(s->ctx, h, sizeof(h)), end;

	if (rc)
		return rc;
	snap_rec_decode(h, r);
	rc = snap_frame_check(r, lim, st);
	if (rc < 0)
		return rc;
	end = rc == SNAP_FRAME_END;
	rc = s->put(s->ctx, h, sizeof(h));
	for (uint64_t left = r->len; !rc && left;) {
		size_t k = left < s->buf_len ? (size_t)left : s->buf_len;

		rc = s->read(s->ctx, s->buf, k);
		rc = rc ? rc : s->put(s->ctx, s->buf, k);
		left -= k;
	}
	st->offset += sizeof(h) + r->len;
	return rc ? rc : end ? SNAP_FRAME_END : 0;
}

int launch_control_stream_read(struct control *ctl, int snap_fd, void *buf, size_t n,
			       int timeout_ms, struct vmm_ctl_reply *rep, bool *got_rep)
{
	for (size_t off = 0; off < n;) {
		struct pollfd p[2] = { { snap_fd, POLLIN, 0 }, { ctl->vmm_fd, POLLIN, 0 } };
		ssize_t r;

		if (poll(p, 2, timeout_ms) <= 0)
			return -ETIMEDOUT;
		if (p[0].revents) {
			r = read(snap_fd, (char *)buf + off, n - off);
			if (r <= 0)
				return r ? -errno : -EPIPE;
			off += (size_t)r;
			continue;
		}
		if (launch_control_reply_wait(ctl, 1, rep))
			return -EPIPE;
		*got_rep = true;
		return rep->result ? rep->result : -EPIPE;
	}
	return 0;
}

/* A reply within TIMEOUT_MS (<= 0: -ETIMEDOUT), its state kept. */
int launch_control_reply_wait(struct control *ctl, int timeout_ms, struct vmm_ctl_reply *rep)
{
	struct pollfd p = { ctl->vmm_fd, POLLIN, 0 };
	ssize_t n;

	if (timeout_ms <= 0)
		return -ETIMEDOUT;
	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recv(ctl->vmm_fd, rep, sizeof(*rep), MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(*rep))
		return -EPIPE;
	ctl->paused = rep->paused != 0;
	ctl->stats = rep->stats;
	ctl->have_stats = true;
	return 0;
}

int launch_control_fds(struct control *ctl, struct pollfd *p)
{
	int n = 0;

	control_vmm_send(ctl);
	p[n++] = (struct pollfd){ ctl->listen_fd, POLLIN, 0 };
	/* A migration job reads the VMM's replies itself until it is reaped. */
	p[n++] = (struct pollfd){ ctl->migrating ? -1 : ctl->vmm_fd, POLLIN, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++) {
		struct control_client *c = &ctl->c[i];
		short ev = c->state == CC_READ ? POLLIN : c->state == CC_WRITE ? POLLOUT : 0;

		p[n++] = (struct pollfd){ ev ? c->fd : -1, ev, 0 };
	}
	return n;
}

int launch_control_timeout(const struct control *ctl, int to)
{
	long long now = launch_control_now_ms();

	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++) {
		long long left;

		if (ctl->c[i].state == CC_FREE || ctl->c[i].state == CC_WAIT)
			continue;
		left = ctl->c[i].deadline_ms - now;
		left = left < 0 ? 0 : left;
		if (to < 0 || left < to)
			to = (int)left;
	}
	/* A migration job's end is noticed within CONTROL_MIG_POLL_MS. */
	if (ctl->migrating && (to < 0 || to > CONTROL_MIG_POLL_MS))
		to = CONTROL_MIG_POLL_MS;
	return to;
}

/* A client past its deadline: told so if it still reads, else dropped. */
static void control_deadline(struct control *ctl, struct control_client *c)
{
	if (c->state == CC_FREE || c->state == CC_WAIT ||
	    launch_control_now_ms() < c->deadline_ms)
		return;
	ctl->refused++;
	if (c->state == CC_READ)
		control_error(c, 408, "request not complete in time");
	else if (c->state == CC_VMM)
		control_error(c, 503, "the VMM did not answer in time");
	else
		control_client_drop(c);
}

int launch_control_service(struct control *ctl, const struct pollfd *p, int n)
{
	int act;

	if (n < 2)
		return CONTROL_ACT_NONE;
	ctl->actions = CONTROL_ACT_NONE;
	if (p[1].fd >= 0 && p[1].revents)
		control_vmm_reply(ctl);
	for (int i = 2; i < n; i++) {
		struct control_client *c = &ctl->c[i - 2];

		if (p[i].fd < 0 || p[i].fd != c->fd || !p[i].revents)
			continue;
		if (c->state == CC_READ)
			control_read(ctl, c);
		else if (c->state == CC_WRITE)
			control_write(c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctl->c); i++)
		control_deadline(ctl, &ctl->c[i]);
	if (ctl->migrating)
		control_migrate_done(ctl);
	if (p[0].revents & POLLIN)
		control_accept(ctl);
	act = ctl->actions;
	ctl->actions = CONTROL_ACT_NONE;
	return act;
}
