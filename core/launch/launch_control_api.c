/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the control socket's requests do (core/launch/launch_control.h; the API
 * is core/launch/control-openapi.yaml): the peer check, routing, /info, /metrics
 * and the answers.  Every answer is JSON ({"error": ...} on refusal)
 * except /metrics (Prometheus text format 0.0.4).
 */
#include "core/launch/launch_control.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <selinux/selinux.h>

#include "attest/producer/attestd.h"
#include "core/launch/audit.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_snapshot.h"
#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"

enum { R_INFO, R_METRICS, R_PAUSE, R_RESUME, R_BUTTON, R_STOP, R_SNAPSHOT, R_MIGRATE,
       R_MIGRATE_GET, R_MIGRATE_CANCEL };

static const struct control_route_def {
	const char *path;
	bool get;                 /* GET; else PUT or POST */
	int route;
} control_routes[] = {
	{ "/info", true, R_INFO },
	{ "/metrics", true, R_METRICS },
	{ "/pause", false, R_PAUSE },
	{ "/resume", false, R_RESUME },
	{ "/power-button", false, R_BUTTON },
	{ "/stop", false, R_STOP },
	{ "/snapshot", false, R_SNAPSHOT },
	{ "/migrate", false, R_MIGRATE },
	{ "/migrate", true, R_MIGRATE_GET },
	{ "/migrate-cancel", false, R_MIGRATE_CANCEL },
};

int control_respond(struct control_client *c, int status, const char *ctype,
		    const char *body, size_t len)
{
	char head[256];
	int n = http_response_head(head, sizeof(head), 1, status, ctype, len, true);

	free(c->out);
	c->out = n < 0 ? NULL : malloc((size_t)n + len);
	if (!c->out) {
		close(c->fd);
		c->fd = -1;
		c->state = CC_FREE;
		return -ENOMEM;
	}
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->out_off = 0;
	c->state = CC_WRITE;
	c->deadline_ms = launch_control_now_ms() + c->write_ms;
	return 0;
}

static int control_json(struct control_client *c, int status, struct json_object *o)
{
	size_t len;
	const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len) :
			NULL;
	int rc = s ? control_respond(c, status, "application/json", s, len) :
		     control_respond(c, 500, "application/json", "{\"error\":\"no memory\"}", 21);

	json_object_put(o);
	return rc;
}

int control_error(struct control_client *c, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "status", json_object_new_int(status));
	return control_json(c, status, o);
}

/* uid 0, or the control group among the peer's groups. */
static int control_peer_cred(const struct control *ctl, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[64];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr))
		return -errno;
	if (cr.uid == 0 || (ctl->allow_uid && cr.uid == ctl->allow_uid))
		return 0;
	if (ctl->group && cr.gid == ctl->group)
		return 0;
	len = sizeof(groups);
	if (ctl->group && !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		for (size_t i = 0; i < len / sizeof(groups[0]); i++)
			if (groups[i] == ctl->group)
				return 0;
	log_warn("control: refused peer pid %d uid %u gid %u", cr.pid, (unsigned)cr.uid,
		 (unsigned)cr.gid);
	return -EACCES;
}

/* Under SELinux enforcing: the peer's domain may connect to ours
 * (bulwark_manager_domain, policy/bulwark.cil). */
static int control_peer_label(int fd)
{
	char *peer = NULL, *self = NULL;
	int rc = 0;

	if (is_selinux_enabled() <= 0 || security_getenforce() != 1)
		return 0;
	if (getpeercon(fd, &peer) || getcon(&self))
		rc = -EACCES;
	else if (selinux_check_access(peer, self, "unix_stream_socket", "connectto", NULL))
		rc = -EACCES;
	if (rc)
		log_warn("control: refused peer context %s", peer ? peer : "(unknown)");
	freecon(peer);
	freecon(self);
	return rc;
}

int control_peer_check(const struct control *ctl, int fd)
{
	int rc = control_peer_cred(ctl, fd);

	return rc ? rc : control_peer_label(fd);
}

static const char *control_state(const struct control *ctl)
{
	return ctl->stopping ? "stopping" : ctl->paused ? "paused" : "running";
}

#define JADD(o, k, v) json_object_object_add((o), (k), (v))

/* "c12,c345" of a label "user:role:type:s0:c12,c345" ("" if none). */
static const char *control_pair(const char *label)
{
	const char *p = strrchr(label, ':');

	return p && p[1] == 'c' ? p + 1 : "";
}

static struct json_object *control_info_config(const struct vm_config *cfg)
{
	struct json_object *o = json_object_new_object(), *d = json_object_new_array();
	char mac[18];

	JADD(o, "cpus", json_object_new_int64(cfg->cpus));
	JADD(o, "memory_mib", json_object_new_int64((int64_t)cfg->memory_mib));
	JADD(o, "kernel", json_object_new_string(cfg->kernel));
	JADD(o, "initrd", cfg->initrd[0] ? json_object_new_string(cfg->initrd) : NULL);
	JADD(o, "cmdline", json_object_new_string(cfg->cmdline));
	for (uint32_t i = 0; i < cfg->ndisks; i++) {
		struct json_object *e = json_object_new_object();

		JADD(e, "path", json_object_new_string(cfg->disks[i].path));
		JADD(e, "readonly", json_object_new_boolean(cfg->disks[i].readonly));
		json_object_array_add(d, e);
	}
	JADD(o, "disks", d);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0], cfg->mac[1],
		 cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	JADD(o, "tap", cfg->net ? json_object_new_string(cfg->tap) : NULL);
	JADD(o, "mac", cfg->net ? json_object_new_string(mac) : NULL);
	JADD(o, "vtpm", json_object_new_boolean(cfg->vtpm));
	JADD(o, "svirt", json_object_new_string(config_svirt_name(cfg->svirt)));
	JADD(o, "seccomp", json_object_new_string(config_seccomp_name(cfg->seccomp)));
	return o;
}

static struct json_object *control_info_pids(const struct control *ctl)
{
	const struct launch *l = ctl->l;
	struct json_object *o = json_object_new_object();

	JADD(o, "launcher", json_object_new_int(getpid()));
	JADD(o, "vmm", json_object_new_int(ctl->vmm_pid));
	JADD(o, "swtpm", l->vtpm_running && l->vtpm.swtpm.pid ?
	     json_object_new_int(l->vtpm.swtpm.pid) : NULL);
	return o;
}

static void control_info(struct control *ctl, struct control_client *c)
{
	const struct launch *l = ctl->l;
	const struct attestd *ad = l->attestd;
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();
	struct json_object *a = json_object_new_object();
	long long up = launch_control_now_ms() - ctl->start_ms;

	JADD(o, "name", json_object_new_string(l->cfg.name));
	JADD(o, "state", json_object_new_string(control_state(ctl)));
	JADD(o, "label", l->svm ? json_object_new_string(l->vmm_label) : NULL);
	JADD(o, "pair", l->svm ? json_object_new_string(control_pair(l->vmm_label)) : NULL);
	JADD(o, "pids", control_info_pids(ctl));
	JADD(o, "started", json_object_new_int64((int64_t)ctl->start_wall));
	JADD(o, "uptime_s", json_object_new_double((double)up / 1000.0));
	JADD(o, "config", control_info_config(&l->cfg));
	JADD(v, "enabled", json_object_new_boolean(l->cfg.vtpm));
	JADD(v, "running", json_object_new_boolean(l->vtpm_running));
	JADD(v, "label", l->vtpm_running && l->svm ? json_object_new_string(l->vtpm_label) :
			 NULL);
	JADD(o, "vtpm", v);
	JADD(a, "available", json_object_new_boolean(ad != NULL));
	JADD(a, "socket", ad ? json_object_new_string(ad->sock_path) : NULL);
	JADD(o, "attestation", a);
	JADD(o, "control_socket", json_object_new_string(ctl->path));
	control_json(c, 200, o);
}

/* The last number of the NSpid line of /proc/PID/task/T/status: T's id in
 * the VMM's pid namespace (the ids the VMM reports); -1 if unreadable. */
static long control_task_nstid(pid_t pid, const char *task)
{
	char path[64], line[256];
	long id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%.16s/status", (int)pid, task);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6)) {
			char *last = strrchr(line, '\t');

			id = last ? strtol(last + 1, NULL, 10) : -1;
			break;
		}
	if (f)
		fclose(f);
	return id;
}

/* utime + stime of /proc/PID/task/T/stat, in seconds; -1 if unreadable. */
static double control_task_seconds(pid_t pid, const char *task)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, task);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime (fields 3..15 of proc(5)). */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of the VMM thread whose namespaced id is NSTID. */
static double control_vcpu_seconds(pid_t pid, int nstid)
{
	char path[32];
	struct dirent *e;
	double s = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && s < 0 && (e = readdir(d)))
		if (e->d_name[0] != '.' && control_task_nstid(pid, e->d_name) == nstid)
			s = control_task_seconds(pid, e->d_name);
	if (d)
		closedir(d);
	return s;
}

static void control_metric(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void control_metrics_io(FILE *f, const char *g, const struct vmm_ctl_stats *s)
{
	static const struct { const char *name, *help; size_t off; } m[] = {
#define M(n, h, fld) { n, h, offsetof(struct vmm_ctl_stats, fld) }
		M("bulwark_disk_read_bytes_total", "Bytes read by the guest's disks.",
		  disk_read_bytes),
		M("bulwark_disk_reads_total", "Read requests of the guest's disks.", disk_reads),
		M("bulwark_disk_written_bytes_total", "Bytes written by the guest's disks.",
		  disk_write_bytes),
		M("bulwark_disk_writes_total", "Write requests of the guest's disks.",
		  disk_writes),
		M("bulwark_net_received_bytes_total", "Bytes the guest's NIC received.",
		  net_rx_bytes),
		M("bulwark_net_received_packets_total", "Frames the guest's NIC received.",
		  net_rx_packets),
		M("bulwark_net_sent_bytes_total", "Bytes the guest's NIC sent.", net_tx_bytes),
		M("bulwark_net_sent_packets_total", "Frames the guest's NIC sent.",
		  net_tx_packets),
#undef M
	};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		uint64_t v;

		memcpy(&v, (const char *)s + m[i].off, sizeof(v));
		control_metric(f, m[i].name, "counter", m[i].help);
		fprintf(f, "%s{guest=\"%s\"} %llu\n", m[i].name, g, (unsigned long long)v);
	}
}

static void control_metrics_text(struct control *ctl, FILE *f)
{
	static const char *const reasons[VMM_EXIT_KINDS] = {
		"io", "mmio", "hlt", "intr", "system_event", "other" };
	const struct vmm_ctl_stats *s = &ctl->stats;
	const char *g = ctl->l->cfg.name;    /* name rules: no quote, no backslash */

	control_metric(f, "bulwark_guest_paused", "gauge", "1 while the guest is paused.");
	fprintf(f, "bulwark_guest_paused{guest=\"%s\"} %d\n", g, ctl->paused);
	control_metric(f, "bulwark_guest_uptime_seconds", "gauge",
		       "Seconds since the guest's VMM started.");
	fprintf(f, "bulwark_guest_uptime_seconds{guest=\"%s\"} %.3f\n", g,
		(double)(launch_control_now_ms() - ctl->start_ms) / 1000.0);
	control_metric(f, "bulwark_vcpu_exits_total", "counter",
		       "Exits of the guest's vCPUs from KVM_RUN, by reason.");
	for (int k = 0; k < VMM_EXIT_KINDS; k++)
		fprintf(f, "bulwark_vcpu_exits_total{guest=\"%s\",reason=\"%s\"} %llu\n", g,
			reasons[k], (unsigned long long)s->exits[k]);
	control_metric(f, "bulwark_vcpu_cpu_seconds_total", "counter",
		       "CPU time (user and system) of each vCPU thread.");
	for (uint32_t i = 0; i < s->nvcpus && i < VMM_CTL_MAX_VCPUS; i++) {
		double sec = control_vcpu_seconds(ctl->vmm_pid, s->vcpu_tid[i]);

		if (sec >= 0)
			fprintf(f, "bulwark_vcpu_cpu_seconds_total{guest=\"%s\",vcpu=\"%u\"} "
				"%.2f\n", g, i, sec);
	}
	control_metrics_io(f, g, s);
	control_metric(f, "bulwark_control_requests_refused_total", "counter",
		       "Control socket requests refused (peer, malformed, late).");
	fprintf(f, "bulwark_control_requests_refused_total{guest=\"%s\"} %llu\n", g,
		(unsigned long long)ctl->refused);
}

static void control_metrics(struct control *ctl, struct control_client *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		control_error(c, 500, "no memory");
		return;
	}
	control_metrics_text(ctl, f);
	if (fclose(f)) {
		free(buf);
		control_error(c, 500, "no memory");
		return;
	}
	control_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
}

static void control_state_reply(struct control *ctl, struct control_client *c, int status,
				const char *action, long long latency_us)
{
	struct json_object *o = json_object_new_object();

	JADD(o, "name", json_object_new_string(ctl->l->cfg.name));
	JADD(o, "action", json_object_new_string(action));
	JADD(o, "state", json_object_new_string(control_state(ctl)));
	if (latency_us >= 0)
		JADD(o, "latency_us", json_object_new_int64(latency_us));
	control_json(c, status, o);
}

/* The VMM answered C's order. */
void control_vmm_done(struct control *ctl, struct control_client *c,
		      const struct vmm_ctl_reply *rep)
{
	const char *what = rep->op == VMM_CTL_PAUSE ? "pause" : "resume";

	if (c->route == R_METRICS) {
		control_metrics(ctl, c);
		return;
	}
	/* Audited: every order the VMM answered, done or not (a refusal
	 * for the guest's state, -EALREADY, changed nothing: not audited). */
	if (rep->result != -EALREADY)
		launch_audit_control(ctl->l, what, rep->result == 0);
	if (rep->result == -EALREADY) {
		log_info("control: %s refused: the guest is %s already", what,
			 control_state(ctl));
		control_error(c, 409, rep->op == VMM_CTL_PAUSE ? "the guest is paused already" :
				      "the guest is not paused");
		return;
	}
	if (rep->result && rep->op == VMM_CTL_RESUME && !rep->paused) {
		char msg[160];

		/* The guest runs again, but its clock could not be put back. */
		snprintf(msg, sizeof(msg), "resumed, but the guest's clock jumps by "
			 "the pause: %s", strerror(-rep->result));
		log_err("control: %s", msg);
		control_error(c, 500, msg);
		return;
	}
	if (rep->result) {
		log_err("control: %s failed: %s", what, strerror(-rep->result));
		control_error(c, 500, strerror(-rep->result));
		return;
	}
	log_info("control: %s done in %lld us", what,
		 rep->op == VMM_CTL_PAUSE ? ctl->pause_us : ctl->resume_us);
	control_state_reply(ctl, c, 200, what,
			    rep->op == VMM_CTL_PAUSE ? ctl->pause_us : ctl->resume_us);
}

/* An order for the VMM: sent by launch_control_fds when the channel is free. */
static void control_vmm_order(struct control *ctl, struct control_client *c, uint32_t op)
{
	if (ctl->vmm_fd < 0) {
		control_error(c, 503, "the VMM does not take orders");
		return;
	}
	c->state = CC_VMM;
	c->vmm_op = op;
	c->vmm_seq = 0;
	c->deadline_ms = launch_control_now_ms() + ctl->vmm_ms;
}

/* Power button and hard stop: the launcher's loop acts (launch_loop.c). */
static void control_stop(struct control *ctl, struct control_client *c, int route)
{
	if (route == R_BUTTON && ctl->paused) {
		control_error(c, 409, "the guest is paused: resume it first");
		return;
	}
	if (route == R_BUTTON && ctl->stopping) {
		control_error(c, 409, "the guest is stopping already");
		return;
	}
	log_info("control: %s", route == R_BUTTON ? "power button" : "hard stop");
	launch_audit_control(ctl->l, route == R_BUTTON ? "shutdown" : "destroy", true);
	ctl->actions |= route == R_BUTTON ? CONTROL_ACT_BUTTON : CONTROL_ACT_STOP;
	control_state_reply(ctl, c, 202, route == R_BUTTON ? "power-button" : "stop", -1);
}

static void control_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* PUT /snapshot (core/launch/launch_snapshot.c): done here, blocking the
 * loop while the guest is paused; 201 with the file's digest, or the
 * reason (400 the body, 409 the guest's state, 500 the save). */
static void control_snapshot(struct control *ctl, struct control_client *c)
{
	struct snapshot_req req;
	struct snapshot_result res;
	struct json_object *o;
	char why[512], hex[65];
	int rc = launch_snapshot_parse(c->req.body, c->req.body_len, &req, why, sizeof(why));

	if (rc) {
		control_error(c, 400, why);
		return;
	}
	log_info("control: snapshot to %s asked", req.dir);
	rc = launch_snapshot_run(ctl, &req, &res, why, sizeof(why));
	launch_audit_control(ctl->l, "snapshot", rc == 0);
	if (rc) {
		control_error(c, rc == -EBUSY || rc == -EEXIST ? 409 : 500, why);
		return;
	}
	control_hex(res.sha256, sizeof(res.sha256), hex);
	o = json_object_new_object();
	JADD(o, "name", json_object_new_string(ctl->l->cfg.name));
	JADD(o, "action", json_object_new_string("snapshot"));
	JADD(o, "dir", json_object_new_string(req.dir));
	JADD(o, "sha256", json_object_new_string(hex));
	JADD(o, "vm_state_bytes", json_object_new_int64((int64_t)res.vm_bytes));
	JADD(o, "ms", json_object_new_int64(res.ms));
	JADD(o, "state", json_object_new_string(res.stopped ? "stopping" : control_state(ctl)));
	/* Out at once: with --stop the loop may end before its next turn. */
	if (!control_json(c, 201, o) && c->state == CC_WRITE)
		control_write(c);
}

static struct json_object *control_migrate_json(const struct control *ctl,
						const struct migrate_progress *g)
{
	struct json_object *o = json_object_new_object();

	JADD(o, "name", json_object_new_string(ctl->l->cfg.name));
	JADD(o, "action", json_object_new_string("migrate"));
	JADD(o, "active", json_object_new_boolean(g->active && !g->done));
	JADD(o, "phase", json_object_new_string(g->phase[0] ? g->phase : "none"));
	JADD(o, "to", g->to[0] ? json_object_new_string(g->to) : NULL);
	JADD(o, "peer", g->peer[0] ? json_object_new_string(g->peer) : NULL);
	JADD(o, "target_label", g->target_label[0] ? json_object_new_string(g->target_label) :
						     NULL);
	JADD(o, "round", json_object_new_int64(g->round));
	JADD(o, "bytes", json_object_new_int64((int64_t)g->bytes));
	JADD(o, "last_round_pages", json_object_new_int64((int64_t)g->last_pages));
	JADD(o, "dirty_pages_per_s", json_object_new_int64((int64_t)g->dirty_rate));
	JADD(o, "throughput_bytes_per_s", json_object_new_int64((int64_t)g->throughput));
	JADD(o, "expected_downtime_ms", json_object_new_int64(g->expected_ms > INT64_MAX ?
							      -1 : (int64_t)g->expected_ms));
	JADD(o, "elapsed_ms", json_object_new_int64(g->elapsed_ms));
	if (g->done && !g->result) {
		JADD(o, "downtime_ms", json_object_new_int64(g->downtime_ms));
		JADD(o, "expected_at_stop_ms", json_object_new_int64(
			     g->stop_expected_ms > INT64_MAX ? -1 : (int64_t)g->stop_expected_ms));
	}
	if (g->done && g->result) {
		JADD(o, "failed_in", json_object_new_string(g->failed_in));
		JADD(o, "error", json_object_new_string(g->reason));
	}
	JADD(o, "state", json_object_new_string(control_state(ctl)));
	return o;
}

/* PUT /migrate: the job started, the client answered when it ends
 * (control_migrate_done); 400 the body, 409 the guest's state. */
static void control_migrate(struct control *ctl, struct control_client *c)
{
	struct migrate_req req;
	char why[512];
	int rc = launch_migrate_parse(c->req.body, c->req.body_len, &req, why, sizeof(why));

	if (rc) {
		control_error(c, 400, why);
		return;
	}
	log_info("control: migration to %s asked", req.to);
	rc = launch_migrate_start(ctl, &req, why, sizeof(why));
	if (rc) {
		launch_audit_control(ctl->l, "migrate-out", false);
		control_error(c, rc == -EBUSY ? 409 : 500, why);
		return;
	}
	c->state = CC_WAIT;
	ctl->mig_client = (int)(c - ctl->c);
}

/* GET /migrate: the job's figures (the last job's once it ended). */
static void control_migrate_get(struct control *ctl, struct control_client *c)
{
	struct migrate_progress g;

	launch_migrate_progress(&g);
	control_json(c, 200, control_migrate_json(ctl, &g));
}

/* PUT /migrate-cancel: 202 the job undoes at its next step (PUT /migrate's
 * client gets the outcome); 409 none runs, or it is past DONE. */
static void control_migrate_cancel(struct control *ctl, struct control_client *c)
{
	struct json_object *o;
	char why[256];
	int rc = launch_migrate_cancel(why, sizeof(why));

	log_info("control: migration cancel asked%s%s", rc ? ": refused, " : "", rc ? why : "");
	if (rc) {
		control_error(c, 409, why);
		return;
	}
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "name", json_object_new_string(ctl->l->cfg.name));
		json_object_object_add(o, "action", json_object_new_string("migrate-cancel"));
		json_object_object_add(o, "result", json_object_new_string("cancelling"));
	}
	control_json(c, 202, o);
}

void control_migrate_done(struct control *ctl)
{
	struct migrate_progress g;
	struct control_client *c;

	if (!launch_migrate_reap(ctl, &g))
		return;
	if (ctl->mig_client < 0)
		return;
	c = &ctl->c[ctl->mig_client];
	ctl->mig_client = -1;
	if (c->state != CC_WAIT)
		return;
	/* 200 moved; 409 refused by the target or this side, the guest runs
	 * here; 500 the outcome unknown (the guest stays paused). */
	if (!control_json(c, g.result ? !strcmp(g.reason, "unknown outcome") ? 500 : 409 : 200,
			  control_migrate_json(ctl, &g)) && c->state == CC_WRITE)
		control_write(c);   /* out at once: the loop stops after a move */
}

void control_route(struct control *ctl, struct control_client *c)
{
	const struct control_route_def *r = NULL;
	bool get = !strcmp(c->req.method, "GET");

	/* The entry of this path for this method, else its first. */
	for (size_t i = 0; i < ARRAY_SIZE(control_routes); i++) {
		if (strcmp(c->req.path, control_routes[i].path))
			continue;
		if (!r)
			r = &control_routes[i];
		if (control_routes[i].get == get) {
			r = &control_routes[i];
			break;
		}
	}
	if (!r) {
		control_error(c, 404, "no such endpoint");
		return;
	}
	if (r->get ? !get : strcmp(c->req.method, "PUT") && strcmp(c->req.method, "POST")) {
		control_error(c, 405, r->get ? "use GET" : "use PUT or POST");
		return;
	}
	ctl->served++;
	c->route = r->route;
	if (ctl->migrating && r->route != R_INFO && r->route != R_MIGRATE_GET &&
	    r->route != R_MIGRATE_CANCEL && r->route != R_BUTTON && r->route != R_STOP) {
		control_error(c, 409, "a migration is in progress");
		return;
	}
	switch (r->route) {
	case R_INFO:
		control_info(ctl, c);
		break;
	case R_METRICS:
		control_vmm_order(ctl, c, VMM_CTL_STATS);
		break;
	case R_PAUSE:
	case R_RESUME:
		if (ctl->stopping) {
			control_error(c, 409, "the guest is stopping");
			break;
		}
		log_info("control: %s asked", r->route == R_PAUSE ? "pause" : "resume");
		control_vmm_order(ctl, c, r->route == R_PAUSE ? VMM_CTL_PAUSE : VMM_CTL_RESUME);
		break;
	case R_SNAPSHOT:
		control_snapshot(ctl, c);
		break;
	case R_MIGRATE:
		control_migrate(ctl, c);
		break;
	case R_MIGRATE_GET:
		control_migrate_get(ctl, c);
		break;
	case R_MIGRATE_CANCEL:
		control_migrate_cancel(ctl, c);
		break;
	default:
		control_stop(ctl, c, r->route);
		break;
	}
}
