/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's control socket, served by its launcher (`bulwark run`):
 * RUN_DIR/NAME/control (RUN_DIR is /run/bulwark), HTTP/1.1 (core/launch/http.h)
 * with JSON bodies, so `curl --unix-socket /run/bulwark/NAME/control
 * http://localhost/info` works.  The API is core/launch/control-openapi.yaml.
 *
 *   GET  /info          state, configuration, label and pair, pids, uptime,
 *                       vTPM and attestation status
 *   GET  /metrics       Prometheus text format (exits by reason, disk and
 *                       net bytes and requests, vCPU time)
 *   PUT|POST /pause     every vCPU parked, I/O quiesced, the clock stopped
 *   PUT|POST /resume    the guest carries on, its clock without a jump
 *   PUT|POST /power-button  the ACPI power button (the guest shuts down)
 *   PUT|POST /stop      hard stop, now (the guest's own shutdown skipped)
 *
 * Who: the socket is 0600 root's, or 0660 with group --control-group
 * (its directory then 0710 with that group); each peer is checked at
 * accept: SO_PEERCRED uid 0, or that group among the peer's groups
 * (SO_PEERGROUPS); under SELinux enforcing, its context (getpeercon) must
 * be allowed unix_stream_socket connectto on the launcher's domain: the
 * domains of policy/bulwark.cil's bulwark_manager_domain.
 *
 * Bounds: at most CONTROL_MAX_CLIENTS connections at once (more are closed
 * at accept), the head CONTROL_HEAD_MAX and the body CONTROL_BODY_MAX
 * bytes, the request read within CONTROL_READ_MS and the answer written
 * within CONTROL_WRITE_MS (the client is dropped otherwise).  Every socket
 * is non-blocking and each client has its own buffers: a slow or hostile
 * client costs one slot, never the launcher's loop or the guest.  Orders
 * to the VMM (pause, resume, counters) go over VMM_FD_CONTROL one at a
 * time and are answered when the VMM answers (CONTROL_VMM_MS at most).
 */
#ifndef BULWARK_LAUNCH_CONTROL_H
#define BULWARK_LAUNCH_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/launch/http.h"
#include "core/vmm_abi.h"

#define CONTROL_SOCK_NAME   "control"
#define CONTROL_MAX_CLIENTS 8
#define CONTROL_HEAD_MAX    4096
#define CONTROL_BODY_MAX    1024
#define CONTROL_READ_MS     2000
#define CONTROL_WRITE_MS    2000
#define CONTROL_VMM_MS      15000
#define CONTROL_POLLFDS     (2 + CONTROL_MAX_CLIENTS)
#define CONTROL_MIG_POLL_MS 100

struct launch;

/* What a request asks of the launcher's loop (launch_control_service). */
enum control_action { CONTROL_ACT_NONE = 0, CONTROL_ACT_BUTTON = 1, CONTROL_ACT_STOP = 2 };

/* CC_WAIT: a request answered later by the launcher (PUT /migrate). */
enum control_client_state { CC_FREE, CC_READ, CC_VMM, CC_WRITE, CC_WAIT };

struct control_client {
	int fd;
	enum control_client_state state;
	long long deadline_ms;
	int write_ms;                 /* the control's, for control_respond */
	uint32_t vmm_op, vmm_seq;     /* CC_VMM: its order (0: not sent yet) */
	int route;                    /* what it asked (launch_control_api.c) */
	struct http_request req;
	size_t len;
	char in[CONTROL_HEAD_MAX + CONTROL_BODY_MAX];
	char *out;                    /* malloc'd response */
	size_t out_len, out_off;
};

struct control {
	struct launch *l;
	int listen_fd, vmm_fd, dir_fd;
	char path[108];
	gid_t group;                  /* 0: root only */
	uid_t allow_uid;              /* besides root: none (0; tests change it) */
	int read_ms, write_ms, vmm_ms;   /* CONTROL_*_MS (tests lower them) */
	bool vmm_busy;                /* an order is out */
	bool migrating;               /* a migration job owns the VMM's channel
				       * and VMM_FD_SNAP (launch_migrate.h) */
	int mig_client;               /* its PUT /migrate client, -1: none */
	uint32_t seq;
	bool paused;                  /* from the VMM's last reply */
	bool have_stats;
	struct vmm_ctl_stats stats;   /* the VMM's last reply */
	long long pause_us, resume_us;   /* the last ones, order to answer */
	long long sent_us;
	int actions;                  /* CONTROL_ACT_* asked by requests */
	long long start_ms;           /* CLOCK_MONOTONIC at launch_control_start */
	time_t start_wall;
	pid_t vmm_pid;
	int stopping;                 /* the loop's stop stage, for /info */
	uint64_t served, refused;
	struct control_client c[CONTROL_MAX_CLIENTS];
};

/* Socketpair for VMM_FD_CONTROL (*vmm_end, CLOEXEC) and the socket
 * RUN_DIR/NAME/control (RUN_DIR: ATTESTD_RUN_DIR, /run/bulwark). */
int launch_control_open(struct control *ctl, struct launch *l, const char *run_dir,
			gid_t group, int *vmm_end);
/* The VMM runs as PID from now on (uptime counts from here). */
void launch_control_start(struct control *ctl, pid_t pid);
void launch_control_close(struct control *ctl);

/* The pollfds to watch (at most CONTROL_POLLFDS) and the poll timeout. */
int launch_control_fds(struct control *ctl, struct pollfd *p);
int launch_control_timeout(const struct control *ctl, int to);
/* After poll: serve what is ready; returns CONTROL_ACT_* bits. */
int launch_control_service(struct control *ctl, const struct pollfd *p, int n);

/* One VMM order waited for (the snapshot's pause, save, resume); and one
 * reply awaited.  0 or -errno (-EBUSY: another order is out). */
int launch_control_order_sync(struct control *ctl, uint32_t op, int timeout_ms,
			      struct vmm_ctl_reply *rep);
int launch_control_reply_wait(struct control *ctl, int timeout_ms, struct vmm_ctl_reply *rep);
/* Exactly N bytes of the VMM's state stream from SNAP_FD (a snapshot's or
 * a migration's), each wait at most TIMEOUT_MS; a reply of the VMM's
 * before them ends the read: *GOT_REP set, REP kept, its result returned
 * (-EPIPE if it was 0: the stream stopped short).  0 or -errno. */
int launch_control_stream_read(struct control *ctl, int snap_fd, void *buf, size_t n,
			       int timeout_ms, struct vmm_ctl_reply *rep, bool *got_rep);

/* Where launch_control_stream_record reads the VMM's stream from and puts
 * each record to (a snapshot's sealed file, a migration's channel). */
struct stream_relay {
	int (*read)(void *ctx, void *buf, size_t n);        /* exactly N bytes */
	int (*put)(void *ctx, const void *buf, size_t n);
	void *ctx;
	uint8_t *buf;                /* the payload passes through it */
	size_t buf_len;
};
/* One record of the VMM's state stream: its header read and framed
 * (snap_frame_check against LIM and ST: the VMM is not trusted to end it),
 * then the header and the payload put, ST's offset moved past it; *R the
 * record.  0, SNAP_FRAME_END after the END record, or -errno. */
struct snap_limits;
struct snap_frame_state;
struct snap_rec;
int launch_control_stream_record(const struct stream_relay *s, const struct snap_limits *lim,
				 struct snap_frame_state *st, struct snap_rec *r);

/* launch_control_api.c: a parsed request -> an HTTP response in c->out. */
long long launch_control_now_ms(void);
long long launch_control_now_us(void);
void control_route(struct control *ctl, struct control_client *c);
void control_vmm_done(struct control *ctl, struct control_client *c,
		      const struct vmm_ctl_reply *rep);
int control_respond(struct control_client *c, int status, const char *ctype,
		    const char *body, size_t len);
int control_error(struct control_client *c, int status, const char *msg);
int control_peer_check(const struct control *ctl, int fd);
/* A migration job that ended: its PUT /migrate client answered (the job's
 * own clean-up, the audit, a stop after success: launch_migrate_reap). */
void control_migrate_done(struct control *ctl);
/* Sends what it can of C's answer now (the rest in the loop). */
void control_write(struct control_client *c);

#endif
