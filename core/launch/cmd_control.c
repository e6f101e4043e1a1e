/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's inventory and virsh-like verbs, as clients of the guests'
 * control sockets (core/launch/launch_control.h), so they work the same for a
 * guest started by hand, by a script or by systemd:
 *
 *   bulwark list [--json]             every guest: the control sockets under
 *                                     RUN_DIR and the sVirt registry
 *   bulwark info NAME [--json]        GET /info
 *   bulwark pause NAME [--json]       PUT /pause
 *   bulwark resume NAME [--json]      PUT /resume
 *   bulwark shutdown NAME [--json]    PUT /power-button (the guest shuts down)
 *   bulwark destroy NAME [--json]     PUT /stop (hard stop, now)
 *   bulwark migrate-cancel NAME       PUT /migrate-cancel (a live migration
 *                                     out undone; the guest goes on here)
 *
 * Every command also takes --run-dir DIR (default /run/bulwark) and list
 * --registry DIR (default the sVirt registry).  Exit status: 0 done, 1
 * refused or failed (the API's error printed), 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "attest/producer/attestd.h"
#include "core/launch/commands.h"
#include "core/config.h"
#include "core/launch/launch_control.h"
#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt.h"
#include "svirt/svirt_int.h"

#define CTL_CLI_TIMEOUT_S 30        /* a pause waits for every vCPU: 5 s at most */
#define CTL_CLI_REPLY_MAX (256 * 1024)

struct ctl_opts {
	const char *run_dir, *registry, *name;
	bool json;
};

/* One request to RUN_DIR/NAME/control; *body (malloc'd, NUL-ended) and
 * the HTTP status, or -errno. */
static int ctl_request_body(const struct ctl_opts *o, const char *name, const char *method,
			    const char *path, const char *in, int timeout_s, char **body)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_s, 0 };
	char req[256 + CONTROL_BODY_MAX], *buf = malloc(CTL_CLI_REPLY_MAX + 1), *sep;
	size_t len = 0;
	ssize_t n;
	int fd = -1, status = -EIO, k;

	*body = NULL;
	k = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", o->run_dir, name,
		     CONTROL_SOCK_NAME);
	if (!buf || k < 0 || (size_t)k >= sizeof(sun.sun_path)) {
		free(buf);
		return buf ? -ENAMETOOLONG : -ENOMEM;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		status = -errno;
		goto out;
	}
	k = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", method, path,
		     strlen(in), in);
	if (k < 0 || (size_t)k >= sizeof(req)) {
		status = -E2BIG;
		goto out;
	}
	if (send(fd, req, (size_t)k, MSG_NOSIGNAL) != k)
		goto out;
	while (len < CTL_CLI_REPLY_MAX &&
	       (n = read(fd, buf + len, CTL_CLI_REPLY_MAX - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*c %d ", &status) != 1) {
		status = -EPROTO;
		goto out;
	}
	*body = strdup(sep + 4);
	if (!*body)
		status = -ENOMEM;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return status;
}

static int ctl_request(const struct ctl_opts *o, const char *name, const char *method,
		       const char *path, char **body)
{
	return ctl_request_body(o, name, method, path, "", CTL_CLI_TIMEOUT_S, body);
}

static const char *ctl_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

static long long ctl_int(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : -1;
}

static struct json_object *ctl_obj(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The API's error, printed; 1. */
static int ctl_refused(const char *name, const char *what, int status, const char *body)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	const char *msg = o ? ctl_str(o, "error") : NULL;

	if (status < 0)
		fprintf(stderr, "bulwark %s %s: %s\n", what, name,
			status == -ENOENT || status == -ECONNREFUSED ?
			"no such guest running here" : strerror(-status));
	else
		fprintf(stderr, "bulwark %s %s: %d %s\n", what, name, status,
			msg ? msg : "(no message)");
	log_info("guest %s: %s refused (%d)", name, what, status);
	json_object_put(o);
	return 1;
}

static void ctl_print_info(struct json_object *o)
{
	struct json_object *cfg = ctl_obj(o, "config"), *pids = ctl_obj(o, "pids");
	struct json_object *vt = ctl_obj(o, "vtpm"), *at = ctl_obj(o, "attestation");
	struct json_object *v;

	printf("Name:          %s\n", ctl_str(o, "name") ?: "?");
	printf("State:         %s\n", ctl_str(o, "state") ?: "?");
	printf("Label:         %s\n", ctl_str(o, "label") ?: "(sVirt off)");
	printf("Pair:          %s\n", ctl_str(o, "pair") ?: "-");
	printf("Launcher pid:  %lld\n", pids ? ctl_int(pids, "launcher") : -1);
	printf("VMM pid:       %lld\n", pids ? ctl_int(pids, "vmm") : -1);
	if (pids && ctl_int(pids, "swtpm") > 0)
		printf("swtpm pid:     %lld\n", ctl_int(pids, "swtpm"));
	printf("vCPUs:         %lld\n", cfg ? ctl_int(cfg, "cpus") : -1);
	printf("Memory:        %lld MiB\n", cfg ? ctl_int(cfg, "memory_mib") : -1);
	if (json_object_object_get_ex(o, "uptime_s", &v))
		printf("Uptime:        %.0f s\n", json_object_get_double(v));
	printf("vTPM:          %s\n", vt && json_object_object_get_ex(vt, "running", &v) &&
	       json_object_get_boolean(v) ? "running" : "off");
	printf("Attestation:   %s\n", at && ctl_str(at, "socket") ? ctl_str(at, "socket") :
	       "unavailable");
	printf("Control:       %s\n", ctl_str(o, "control_socket") ?: "?");
}

static int ctl_info(const struct ctl_opts *o)
{
	char *body = NULL;
	int status = ctl_request(o, o->name, "GET", "/info", &body), rc = 0;
	struct json_object *j;

	if (status != 200) {
		rc = ctl_refused(o->name, "info", status, body);
	} else if (o->json) {
		printf("%s\n", body);
	} else if ((j = json_tokener_parse(body))) {
		ctl_print_info(j);
		json_object_put(j);
	} else {
		rc = ctl_refused(o->name, "info", -EPROTO, NULL);
	}
	free(body);
	return rc;
}

/* pause, resume, shutdown, destroy: one PUT each. */
static int ctl_verb(const struct ctl_opts *o, const char *verb)
{
	static const struct { const char *verb, *path, *done; } t[] = {
		{ "pause", "/pause", "paused" },
		{ "resume", "/resume", "resumed" },
		{ "shutdown", "/power-button", "power button pressed; it shuts down" },
		{ "destroy", "/stop", "stopped hard" },
		{ "migrate-cancel", "/migrate-cancel", "migration cancelled: it undoes at its "
		  "next step and the guest goes on here (`bulwark migrate` says \"not moved\")" },
	};
	struct json_object *j;
	char *body = NULL;
	size_t i = 0;
	int status, rc = 0;

	while (strcmp(t[i].verb, verb))
		i++;
	log_set_vm_name(o->name);
	status = ctl_request(o, o->name, "PUT", t[i].path, &body);
	if (status != 200 && status != 202) {
		rc = ctl_refused(o->name, verb, status, body);
	} else if (o->json) {
		printf("%s\n", body);
	} else {
		j = json_tokener_parse(body);
		if (j && ctl_int(j, "latency_us") >= 0)
			printf("guest %s: %s (%lld us)\n", o->name, t[i].done,
			       ctl_int(j, "latency_us"));
		else
			printf("guest %s: %s\n", o->name, t[i].done);
		json_object_put(j);
	}
	if (!rc)
		log_info("guest %s: %s done", o->name, verb);
	free(body);
	return rc;
}

/* A guest of the list: from its /info, or from the registry alone. */
static struct json_object *ctl_list_one(const struct ctl_opts *o, const char *name)
{
	struct json_object *r = json_object_new_object(), *info = NULL, *cfg, *pids;
	char *body = NULL;

	json_object_object_add(r, "name", json_object_new_string(name));
	if (ctl_request(o, name, "GET", "/info", &body) == 200)
		info = json_tokener_parse(body);
	free(body);
	if (!info) {
		json_object_object_add(r, "state", json_object_new_string("unreachable"));
		return r;
	}
	cfg = ctl_obj(info, "config");
	pids = ctl_obj(info, "pids");
	json_object_object_add(r, "state", json_object_new_string(ctl_str(info, "state") ?: "?"));
	json_object_object_add(r, "pair", ctl_str(info, "pair") ?
			       json_object_new_string(ctl_str(info, "pair")) : NULL);
	json_object_object_add(r, "pid", json_object_new_int64(pids ? ctl_int(pids, "vmm") : -1));
	json_object_object_add(r, "vcpus", json_object_new_int64(cfg ? ctl_int(cfg, "cpus") : -1));
	json_object_object_add(r, "memory_mib",
			       json_object_new_int64(cfg ? ctl_int(cfg, "memory_mib") : -1));
	json_object_object_add(r, "uptime_s", json_object_get(ctl_obj(info, "uptime_s")));
	json_object_put(info);
	return r;
}

static bool ctl_list_has(struct json_object *a, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!strcmp(ctl_str(json_object_array_get_idx(a, i), "name") ?: "", name))
			return true;
	return false;
}

/* Guests with a control socket under RUN_DIR. */
static void ctl_list_sockets(const struct ctl_opts *o, struct json_object *a)
{
	DIR *d = opendir(o->run_dir);
	struct dirent *e;
	char path[PATH_MAX];
	struct stat st;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > CONFIG_NAME_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", o->run_dir, e->d_name, CONTROL_SOCK_NAME);
		if (!lstat(path, &st) && S_ISSOCK(st.st_mode) && !ctl_list_has(a, e->d_name))
			json_object_array_add(a, ctl_list_one(o, e->d_name));
	}
	if (d)
		closedir(d);
}

/* Guests in the sVirt registry (root only) without a control socket: a
 * launcher that died, or one from before the control socket. */
static void ctl_list_registry(const struct ctl_opts *o, struct json_object *a)
{
	struct svirt_entry *list = NULL;
	struct svirt_reg r;
	size_t n = 0;
	char pair[64];

	if (geteuid() != 0 || access(o->registry, F_OK) || svirt_reg_open(o->registry, &r))
		return;
	if (svirt_reg_load(&r, &list, &n))
		n = 0;
	svirt_reg_close(&r);
	for (size_t i = 0; i < n; i++) {
		struct json_object *g;

		if (ctl_list_has(a, list[i].name))
			continue;
		g = json_object_new_object();
		json_object_object_add(g, "name", json_object_new_string(list[i].name));
		json_object_object_add(g, "state", json_object_new_string("no control socket"));
		if (!svirt_cats_format(&list[i].priv, pair, sizeof(pair)))
			json_object_object_add(g, "pair", json_object_new_string(pair));
		json_object_object_add(g, "pid", json_object_new_int64(
			list[i].nprocs ? list[i].procs[0].pid : -1));
		json_object_array_add(a, g);
	}
	free(list);
}

static int ctl_list(const struct ctl_opts *o)
{
	struct json_object *a = json_object_new_array();

	ctl_list_sockets(o, a);
	ctl_list_registry(o, a);
	if (o->json) {
		printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
		json_object_put(a);
		return 0;
	}
	printf("%-20s %-12s %-12s %8s %5s %8s %10s\n", "NAME", "STATE", "PAIR", "PID",
	       "VCPUS", "MEMORY", "UPTIME");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *g = json_object_array_get_idx(a, i), *u;
		char mem[24] = "-", up[24] = "-";

		if (ctl_int(g, "memory_mib") > 0)
			snprintf(mem, sizeof(mem), "%lldM", ctl_int(g, "memory_mib"));
		if ((u = ctl_obj(g, "uptime_s")))
			snprintf(up, sizeof(up), "%.0fs", json_object_get_double(u));
		printf("%-20s %-12s %-12s %8lld %5lld %8s %10s\n", ctl_str(g, "name"),
		       ctl_str(g, "state") ?: "?", ctl_str(g, "pair") ?: "-", ctl_int(g, "pid"),
		       ctl_int(g, "vcpus"), mem, up);
	}
	json_object_put(a);
	return 0;
}

static int ctl_parse(int argc, char **argv, bool want_name, struct ctl_opts *o)
{
	*o = (struct ctl_opts){ .run_dir = ATTESTD_RUN_DIR, .registry = SVIRT_REGISTRY_DIR };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o->json = true;
		else if (!strcmp(argv[i], "--run-dir") && i + 1 < argc)
			o->run_dir = argv[++i];
		else if (!strcmp(argv[i], "--registry") && i + 1 < argc)
			o->registry = argv[++i];
		else if (want_name && !o->name && argv[i][0] != '-')
			o->name = argv[i];
		else
			return -EINVAL;
	}
	if (want_name && (!o->name || !o->name[0] || strchr(o->name, '/') ||
			  o->name[0] == '.' || strlen(o->name) > CONFIG_NAME_MAX))
		return -EINVAL;
	return 0;
}

static int ctl_main(int argc, char **argv, const char *verb)
{
	bool list = !strcmp(verb, "list");
	struct ctl_opts o;

	if (ctl_parse(argc, argv, !list, &o)) {
		fprintf(stderr, "usage: bulwark %s%s [--json] [--run-dir DIR]%s\n", verb,
			list ? "" : " NAME", list ? " [--registry DIR]" : "");
		return 2;
	}
	if (list)
		return ctl_list(&o);
	if (!strcmp(verb, "info"))
		return ctl_info(&o);
	return ctl_verb(&o, verb);
}

#define CTL_SNAPSHOT_TIMEOUT_S 900   /* a 64 GiB guest at ~100 MiB/s */

/* DIR as an absolute path: its parent resolved (DIR itself must not exist). */
static int ctl_snapshot_dir(const char *dir, char *out, size_t n)
{
	char copy[PATH_MAX], parent[PATH_MAX], *slash;
	const char *base;

	if (snprintf(copy, sizeof(copy), "%s", dir) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (copy[0] ? copy : "/") : ".", parent))
		return -errno;
	if (snprintf(out, n, "%s/%s", strcmp(parent, "/") ? parent : "", base) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * bulwark snapshot NAME --out DIR [--resume | --stop | --keep-paused]
 *                  [--digest-disks] [--json] [--run-dir DIR]
 * PUT /snapshot (core/launch/launch_snapshot.c).
 */
int cmd_snapshot(int argc, char **argv)
{
	struct ctl_opts o = { .run_dir = ATTESTD_RUN_DIR };
	const char *out = NULL, *then = "resume";
	char dir[PATH_MAX], in[CONTROL_BODY_MAX], *body = NULL;
	struct json_object *j, *req;
	bool digest = false, bad = false;
	int status, rc = 0;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc && !out)
			out = argv[++i];
		else if (!strcmp(argv[i], "--resume") || !strcmp(argv[i], "--stop") ||
			 !strcmp(argv[i], "--keep-paused"))
			then = argv[i][2] == 'r' ? "resume" : argv[i][2] == 's' ? "stop" : "keep";
		else if (!strcmp(argv[i], "--digest-disks"))
			digest = true;
		else if (!strcmp(argv[i], "--json"))
			o.json = true;
		else if (!strcmp(argv[i], "--run-dir") && i + 1 < argc)
			o.run_dir = argv[++i];
		else if (!o.name && argv[i][0] != '-')
			o.name = argv[i];
		else
			bad = true;
	}
	if (bad || !out || !o.name || strchr(o.name, '/') || o.name[0] == '.' ||
	    strlen(o.name) > CONFIG_NAME_MAX) {
		fprintf(stderr, "usage: bulwark snapshot NAME --out DIR [--resume | --stop | "
			"--keep-paused] [--digest-disks] [--json] [--run-dir DIR]\n");
		return 2;
	}
	if ((rc = ctl_snapshot_dir(out, dir, sizeof(dir)))) {
		fprintf(stderr, "bulwark snapshot %s: --out %s: %s\n", o.name, out, strerror(-rc));
		return 1;
	}
	log_set_vm_name(o.name);
	req = json_object_new_object();
	json_object_object_add(req, "dir", json_object_new_string(dir));
	json_object_object_add(req, "then", json_object_new_string(then));
	json_object_object_add(req, "digest_disks", json_object_new_boolean(digest));
	snprintf(in, sizeof(in), "%s", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	status = ctl_request_body(&o, o.name, "PUT", "/snapshot", in, CTL_SNAPSHOT_TIMEOUT_S,
				  &body);
	if (status != 201) {
		rc = ctl_refused(o.name, "snapshot", status, body);
	} else if (o.json) {
		printf("%s\n", body);
	} else if ((j = json_tokener_parse(body))) {
		printf("guest %s: snapshot sealed in %s (%lld ms, %lld bytes of VM state), "
		       "sha256 %s; the guest is %s\n", o.name, dir, ctl_int(j, "ms"),
		       ctl_int(j, "vm_state_bytes"), ctl_str(j, "sha256") ?: "?",
		       ctl_str(j, "state") ?: "?");
		json_object_put(j);
	}
	free(body);
	return rc;
}

#define CTL_MIGRATE_TIMEOUT_S 3600  /* the answer comes when it is over */
#define CTL_MIGRATE_TICK_MS   1000

/* The progress printer: GET /migrate every second until killed. */
static void ctl_migrate_ticker(const struct ctl_opts *o)
{
	for (;;) {
		char *body = NULL;
		struct json_object *j;

		usleep(CTL_MIGRATE_TICK_MS * 1000);
		if (ctl_request(o, o->name, "GET", "/migrate", &body) == 200 &&
		    (j = json_tokener_parse(body))) {
			const char *ph = ctl_str(j, "phase");

			if (ph && strcmp(ph, "none") && strcmp(ph, "connecting"))
				printf("  %-10s round %lld, %lld MiB sent, %lld dirty pages/s, "
				       "expected downtime %lld ms\n", ph, ctl_int(j, "round"),
				       ctl_int(j, "bytes") >> 20, ctl_int(j, "dirty_pages_per_s"),
				       ctl_int(j, "expected_downtime_ms"));
			fflush(stdout);
			json_object_put(j);
		}
		free(body);
	}
}

static void ctl_migrate_flag(struct json_object *req, const char *key, const char *v)
{
	json_object_object_add(req, key, json_object_new_string(v));
}

static int ctl_migrate_num(struct json_object *req, const char *key, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!v[0] || *end || n < 1 || n > 100000)
		return -EINVAL;
	json_object_object_add(req, key, json_object_new_int64(n));
	return 0;
}

static int ctl_migrate_args(int argc, char **argv, struct ctl_opts *o, struct json_object *req)
{
	static const char *const files[][2] = { { "--migrate-cert", "cert" },
		{ "--migrate-key", "key" }, { "--migrate-ca", "ca" },
		{ "--migrate-trusted", "trusted" } };
	bool to = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		size_t f = 0;

		while (f < ARRAY_SIZE(files) && strcmp(a, files[f][0]))
			f++;
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (a[0] != '-' && !o->name) {
			o->name = a;
			continue;
		}
		if (!v || a[0] != '-')
			return -EINVAL;
		i++;
		if (!strcmp(a, "--to") && !to) {
			ctl_migrate_flag(req, "to", v);
			to = true;
		} else if (!strcmp(a, "--downtime")) {
			if (ctl_migrate_num(req, "downtime_ms", v))
				return -EINVAL;
		} else if (!strcmp(a, "--max-rounds")) {
			if (ctl_migrate_num(req, "max_rounds", v))
				return -EINVAL;
		} else if (!strcmp(a, "--run-dir")) {
			o->run_dir = v;
		} else if (f < ARRAY_SIZE(files)) {
			ctl_migrate_flag(req, files[f][1], v);
		} else {
			return -EINVAL;
		}
	}
	return to && o->name && o->name[0] && !strchr(o->name, '/') && o->name[0] != '.' &&
	       strlen(o->name) <= CONFIG_NAME_MAX ? 0 : -EINVAL;
}

/*
 * bulwark migrate NAME --to ADDR [--downtime MS] [--max-rounds N]
 *   [--migrate-cert F] [--migrate-key F] [--migrate-ca F] [--migrate-trusted F]
 *   [--json] [--run-dir DIR]
 * PUT /migrate (core/launch/launch_migrate.c), the progress printed each
 * second meanwhile (GET /migrate).  0: the guest runs on the target; 1:
 * it did not move (it runs here, the reason printed); 3: the outcome is
 * unknown (the guest is paused here; see the message).
 */
int cmd_migrate(int argc, char **argv)
{
	struct ctl_opts o = { .run_dir = ATTESTD_RUN_DIR };
	struct json_object *req = json_object_new_object(), *j;
	char in[CONTROL_BODY_MAX], *body = NULL;
	int status, rc = 0;
	pid_t ticker;

	if (!req || ctl_migrate_args(argc, argv, &o, req)) {
		json_object_put(req);
		fprintf(stderr, "usage: bulwark migrate NAME --to unix:/PATH|tcp:HOST:PORT "
			"[--downtime MS] [--max-rounds N] [--migrate-cert F] [--migrate-key F] "
			"[--migrate-ca F] [--migrate-trusted F] [--json] [--run-dir DIR]\n");
		return 2;
	}
	if (snprintf(in, sizeof(in), "%s", json_object_to_json_string_ext(req,
		     JSON_C_TO_STRING_PLAIN)) >= (int)sizeof(in)) {
		json_object_put(req);
		fprintf(stderr, "bulwark migrate %s: the request is too long\n", o.name);
		return 2;
	}
	json_object_put(req);
	log_set_vm_name(o.name);
	fflush(stdout);
	ticker = o.json ? -1 : fork();
	if (ticker == 0) {
		ctl_migrate_ticker(&o);
		_exit(0);
	}
	status = ctl_request_body(&o, o.name, "PUT", "/migrate", in, CTL_MIGRATE_TIMEOUT_S,
				  &body);
	if (ticker > 0) {
		kill(ticker, SIGKILL);
		waitpid(ticker, NULL, 0);
	}
	j = body ? json_tokener_parse(body) : NULL;
	if (o.json && body) {
		printf("%s\n", body);
		rc = status == 200 ? 0 : status == 500 ? 3 : 1;
	} else if (status == 200 && j) {
		printf("guest %s: runs on %s (%s) at %s; %lld rounds, %lld MiB, %lld ms in all, "
		       "downtime %lld ms (expected %lld ms); stopped here\n", o.name,
		       ctl_str(j, "to") ?: "?", ctl_str(j, "peer") ?: "?",
		       ctl_str(j, "target_label") ?: "?", ctl_int(j, "round") + 1,
		       ctl_int(j, "bytes") >> 20, ctl_int(j, "elapsed_ms"),
		       ctl_int(j, "downtime_ms"), ctl_int(j, "expected_at_stop_ms"));
	} else if (status == 500 && j && ctl_str(j, "failed_in")) {
		fprintf(stderr, "bulwark migrate %s: the outcome is unknown (the channel broke "
			"after the last byte): the guest is PAUSED here; resume it only if the "
			"target does not run it\n", o.name);
		rc = 3;
	} else if (j && ctl_str(j, "failed_in")) {
		fprintf(stderr, "bulwark migrate %s: not moved (failed in %s): %s; the guest "
			"%s here\n", o.name, ctl_str(j, "failed_in"), ctl_str(j, "error") ?: "?",
			!strcmp(ctl_str(j, "state") ?: "", "paused") ? "is paused" : "runs");
		rc = 1;
	} else {
		rc = ctl_refused(o.name, "migrate", status, body);
	}
	json_object_put(j);
	free(body);
	return rc;
}

int cmd_list(int argc, char **argv) { return ctl_main(argc, argv, "list"); }
int cmd_info(int argc, char **argv) { return ctl_main(argc, argv, "info"); }
int cmd_pause(int argc, char **argv) { return ctl_main(argc, argv, "pause"); }
int cmd_resume(int argc, char **argv) { return ctl_main(argc, argv, "resume"); }
int cmd_shutdown(int argc, char **argv) { return ctl_main(argc, argv, "shutdown"); }
int cmd_destroy(int argc, char **argv) { return ctl_main(argc, argv, "destroy"); }
int cmd_migrate_cancel(int argc, char **argv) { return ctl_main(argc, argv, "migrate-cancel"); }
