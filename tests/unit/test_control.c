/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket (core/launch/launch_control*.c) over a real unix socket in a
 * temporary run directory, the test playing curl on one side and the VMM
 * (VMM_FD_CONTROL, struct vmm_ctl_*) on the other: routing and answers,
 * orders to the VMM and their replies, the bounds (size, time, number of
 * clients), and the peer check (a peer of another uid is refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/launch/audit.h"
#include "core/launch/launch_control.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_snapshot.h"
#include "core/launch/launcher.h"

/* The control API's audit calls, as the launcher would write them
 * (their record text: test_audit). */
static char audited[256];

void __wrap_launch_audit_control(const struct launch *l, const char *op, bool ok);
void __wrap_launch_audit_control(const struct launch *l, const char *op, bool ok)
{
	size_t n = strlen(audited);

	assert_non_null(l);
	snprintf(audited + n, sizeof(audited) - n, "%s%s:%s", n ? " " : "", op,
		 ok ? "ok" : "failed");
}

/* The snapshot itself (launch_snapshot.c) needs a VMM, swtpm and the key:
 * the lab's (tests/lab/test-snapshot).  Here: what the route makes of it. */
static struct snapshot_req snap_asked;
static int snap_rc;
int __wrap_launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			       struct snapshot_result *res, char *why, size_t why_len);
int __wrap_launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			       struct snapshot_result *res, char *why, size_t why_len)
{
	assert_non_null(ctl);
	snap_asked = *req;
	memset(res, 0, sizeof(*res));
	res->sha256[0] = 0xab;
	res->vm_bytes = 4096;
	snprintf(why, why_len, "%s", snap_rc ? "the VMM refused the save: busy" : "");
	return snap_rc;
}

/* The migration job (launch_migrate.c) needs a VMM, a target and TLS: the
 * lab's (tests/lab/test-migrate).  Here: the route, the waiting client,
 * the answer once the job is reaped, and what is refused meanwhile. */
static struct migrate_req mig_asked;
static struct migrate_progress mig_now;
static int mig_start_rc;
int __wrap_launch_migrate_start(struct control *ctl, const struct migrate_req *req,
				char *why, size_t why_len);
int __wrap_launch_migrate_start(struct control *ctl, const struct migrate_req *req,
				char *why, size_t why_len)
{
	mig_asked = *req;
	if (mig_start_rc) {
		snprintf(why, why_len, "a migration is in progress");
		return mig_start_rc;
	}
	ctl->migrating = ctl->vmm_busy = true;
	memset(&mig_now, 0, sizeof(mig_now));
	mig_now.active = true;
	snprintf(mig_now.phase, sizeof(mig_now.phase), "rounds");
	snprintf(mig_now.to, sizeof(mig_now.to), "%s", req->to);
	mig_now.round = 2;
	mig_now.bytes = 1 << 20;
	return 0;
}

void __wrap_launch_migrate_progress(struct migrate_progress *out);
void __wrap_launch_migrate_progress(struct migrate_progress *out)
{
	*out = mig_now;
}

int __wrap_launch_migrate_reap(struct control *ctl, struct migrate_progress *out);
int __wrap_launch_migrate_reap(struct control *ctl, struct migrate_progress *out)
{
	if (!mig_now.done)
		return 0;
	ctl->migrating = ctl->vmm_busy = false;
	*out = mig_now;
	mig_now.active = false;
	return 1;
}

static int mig_cancel_rc, mig_cancels;
int __wrap_launch_migrate_cancel(char *why, size_t why_len);
int __wrap_launch_migrate_cancel(char *why, size_t why_len)
{
	mig_cancels++;
	snprintf(why, why_len, "%s", mig_cancel_rc == -EALREADY ? "too late to cancel: DONE" :
		 mig_cancel_rc ? "no migration is in progress" : "");
	return mig_cancel_rc;
}

struct fixture {
	char dir[64];
	struct launch l;
	struct control ctl;
	int vmm;                  /* the test's end of VMM_FD_CONTROL */
	int acts;                 /* actions returned by the service */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_init(&f->l.cfg);
	strcpy(f->l.cfg.name, "t1");
	f->l.cfg.cpus = 2;
	assert_int_equal(launch_control_open(&f->ctl, &f->l, f->dir, 0, &f->vmm), 0);
	launch_control_start(&f->ctl, getpid());
	f->ctl.read_ms = 200;
	f->ctl.vmm_ms = 300;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	launch_control_close(&f->ctl);
	close(f->vmm);
	snprintf(path, sizeof(path), "%s/t1", f->dir);
	rmdir(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One turn of the launcher's loop for the control socket. */
static void pump(struct fixture *f, int ms)
{
	struct pollfd p[CONTROL_POLLFDS];
	int n = launch_control_fds(&f->ctl, p);

	poll(p, (nfds_t)n, launch_control_timeout(&f->ctl, ms));
	f->acts |= launch_control_service(&f->ctl, p, n);
}

static int client(const struct fixture *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->ctl.path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Pumps until the client's answer is complete (the server closes). */
static char *answer(struct fixture *f, int fd)
{
	static char buf[16384];
	size_t len = 0;

	for (int i = 0; i < 200; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		pump(f, 10);
		if (poll(&p, 1, 0) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static char *ask(struct fixture *f, const char *req)
{
	int fd = client(f);

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	return answer(f, fd);
}

/* The VMM's side: takes one order, answers RESULT with PAUSED. */
static uint32_t vmm_answer(struct fixture *f, int result, uint32_t paused)
{
	struct vmm_ctl_req req;
	struct vmm_ctl_reply rep = { 0 };

	for (int i = 0; i < 50; i++) {
		pump(f, 10);
		if (recv(f->vmm, &req, sizeof(req), MSG_DONTWAIT) == (ssize_t)sizeof(req))
			break;
		req.op = 0;
	}
	assert_true(req.op != 0);
	rep.op = req.op;
	rep.seq = req.seq;
	rep.result = result;
	rep.paused = paused;
	rep.stats.nvcpus = 1;
	rep.stats.vcpu_tid[0] = -1;
	rep.stats.exits[VMM_EXIT_KIND_IO] = 5;
	rep.stats.disk_read_bytes = 4096;
	assert_int_equal(send(f->vmm, &rep, sizeof(rep), 0), (ssize_t)sizeof(rep));
	return req.op;
}

static char *ask_vmm(struct fixture *f, const char *req, int result, uint32_t paused,
		     uint32_t want_op)
{
	int fd = client(f);

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	assert_int_equal(vmm_answer(f, result, paused), want_op);
	return answer(f, fd);
}

static void test_info(void **state)
{
	struct fixture *f = *state;
	char *r = ask(f, "GET /info HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");

	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Type: application/json"));
	assert_non_null(strstr(r, "\"name\":\"t1\""));
	assert_non_null(strstr(r, "\"state\":\"running\""));
	assert_non_null(strstr(r, "\"cpus\":2"));
}

static void test_pause_resume(void **state)
{
	struct fixture *f = *state;
	char *r = ask_vmm(f, "PUT /pause HTTP/1.1\r\nHost: x\r\n\r\n", 0, 1, VMM_CTL_PAUSE);

	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(r, "\"state\":\"paused\""));
	assert_non_null(strstr(r, "\"latency_us\":"));
	r = ask(f, "GET /info HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "\"state\":\"paused\""));
	r = ask_vmm(f, "POST /pause HTTP/1.1\r\n\r\n", -EALREADY, 1, VMM_CTL_PAUSE);
	assert_non_null(strstr(r, "HTTP/1.1 409 Conflict"));
	/* The power button of a paused guest would not be seen: refused. */
	r = ask(f, "POST /power-button HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 409 Conflict"));
	assert_int_equal(f->acts, CONTROL_ACT_NONE);
	r = ask_vmm(f, "PUT /resume HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 0, 0,
		    VMM_CTL_RESUME);
	assert_non_null(strstr(r, "\"state\":\"running\""));
	/* Audited: the pause and the resume, not the refusals. */
	assert_string_equal(audited, "pause:ok resume:ok");
	audited[0] = '\0';
	r = ask_vmm(f, "PUT /pause HTTP/1.1\r\n\r\n", -EIO, 0, VMM_CTL_PAUSE);
	assert_non_null(strstr(r, "HTTP/1.1 500 "));
	assert_string_equal(audited, "pause:failed");
	audited[0] = '\0';
}

static void test_button_stop(void **state)
{
	struct fixture *f = *state;
	char *r = ask(f, "PUT /power-button HTTP/1.1\r\n\r\n");

	assert_non_null(strstr(r, "HTTP/1.1 202 Accepted"));
	assert_int_equal(f->acts, CONTROL_ACT_BUTTON);
	f->acts = 0;
	r = ask(f, "PUT /stop HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 202 Accepted"));
	assert_int_equal(f->acts, CONTROL_ACT_STOP);
	assert_string_equal(audited, "shutdown:ok destroy:ok");
	audited[0] = '\0';
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	char *r = ask_vmm(f, "GET /metrics HTTP/1.1\r\n\r\n", 0, 0, VMM_CTL_STATS);

	assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(r, "text/plain; version=0.0.4"));
	assert_non_null(strstr(r, "# TYPE bulwark_vcpu_exits_total counter\n"));
	assert_non_null(strstr(r, "bulwark_vcpu_exits_total{guest=\"t1\",reason=\"io\"} 5\n"));
	assert_non_null(strstr(r, "bulwark_disk_read_bytes_total{guest=\"t1\"} 4096\n"));
}

static void test_refusals(void **state)
{
	static char big[CONTROL_HEAD_MAX + 64];
	struct fixture *f = *state;

	assert_non_null(strstr(ask(f, "GET /nope HTTP/1.1\r\n\r\n"), " 404 "));
	assert_non_null(strstr(ask(f, "GET /pause HTTP/1.1\r\n\r\n"), " 405 "));
	assert_non_null(strstr(ask(f, "DELETE /info HTTP/1.1\r\n\r\n"), " 405 "));
	assert_non_null(strstr(ask(f, "GET /info HTTP/9.9\r\n\r\n"), " 505 "));
	assert_non_null(strstr(ask(f, "GET /info\x01 HTTP/1.1\r\n\r\n"), " 400 "));
	assert_non_null(strstr(ask(f, "PUT /pause HTTP/1.1\r\nContent-Length: 99999\r\n\r\n"),
			       " 413 "));
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET /info HTTP/1.1\r\nX: ", 23);
	assert_non_null(strstr(ask(f, big), " 431 "));
	/* The VMM does not answer in time: 503, and the loop went on. */
	{
		int fd = client(f);

		assert_int_equal(write(fd, "PUT /pause HTTP/1.1\r\n\r\n", 23), 23);
		assert_non_null(strstr(answer(f, fd), " 503 "));
	}
}

/* A client that never finishes is told 408 after the deadline; others are
 * served meanwhile. */
static void test_slow_client(void **state)
{
	struct fixture *f = *state;
	int slow = client(f);

	assert_int_equal(write(slow, "GET /in", 7), 7);
	assert_non_null(strstr(ask(f, "GET /info HTTP/1.1\r\n\r\n"), " 200 "));
	assert_non_null(strstr(answer(f, slow), " 408 "));
}

/* CONTROL_MAX_CLIENTS at once; one more is closed unanswered. */
static void test_max_clients(void **state)
{
	struct fixture *f = *state;
	int fd[CONTROL_MAX_CLIENTS + 1];
	char c;

	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++) {
		fd[i] = client(f);
		pump(f, 10);
	}
	assert_int_equal(read(fd[CONTROL_MAX_CLIENTS], &c, 1), 0);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		assert_non_null(strstr(answer(f, fd[i]), " 408 "));
}

/* A peer as nobody: connects, sends, reads; exit 0 if it got 403. */
static void peer_nobody(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[512] = "";
	int fd;

	if (setresuid(65534, 65534, 65534))
		_exit(2);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		_exit(3);
	/* The launcher may have answered and closed already: no SIGPIPE. */
	send(fd, "GET /info HTTP/1.1\r\n\r\n", 22, MSG_NOSIGNAL);
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		_exit(5);
	_exit(strstr(buf, " 403 ") ? 0 : 6);
}

/* A peer of another uid (not root, no group configured) gets 403; its
 * way to the socket is opened here so that only the peer check stops it. */
static void test_peer_refused(void **state)
{
	struct fixture *f = *state;
	char sub[128];
	int status = -1;
	pid_t pid;

	if (geteuid() != 0) {           /* we are the other uid ourselves */
		assert_non_null(strstr(ask(f, "GET /info HTTP/1.1\r\n\r\n"), " 403 "));
		return;
	}
	snprintf(sub, sizeof(sub), "%s/t1", f->dir);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chmod(f->ctl.path, 0777), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		peer_nobody(f->ctl.path);
	for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++)
		pump(f, 10);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("the peer as nobody: status 0x%x", status);
	assert_int_equal(f->ctl.refused, 1);
}

/* core/launch/control-openapi.yaml documents every endpoint and every status
 * the code answers (the test runs from the top of the tree). */
static char *snap_put(char *req, size_t n, const char *body)
{
	snprintf(req, n, "PUT /snapshot HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	return req;
}

/* PUT /snapshot: the body parsed strictly, the run's answer, audited. */
static void test_snapshot_route(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"dir\":\"rel\"}", "{\"dir\":1}",
		"{\"dir\":\"/x\",\"then\":\"later\"}", "{\"dir\":\"/x\",\"zz\":1}",
		"{\"dir\":\"/x\",\"digest_disks\":\"yes\"}", "{\"dir\":\"/x\"} trailing",
	};
	struct fixture *f = *state;
	char req[512], *a;

	audited[0] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = ask(f, snap_put(req, sizeof(req), bad[i]));
		if (!strstr(a, " 400 "))
			fail_msg("body '%s' not refused: %s", bad[i], a);
	}
	assert_string_equal(audited, "");
	snap_rc = 0;
	a = ask(f, snap_put(req, sizeof(req),
			    "{\"dir\":\"/srv/s1\",\"then\":\"stop\",\"digest_disks\":true}"));
	assert_non_null(strstr(a, " 201 "));
	assert_non_null(strstr(a, "\"sha256\":\"ab00"));
	assert_string_equal(snap_asked.dir, "/srv/s1");
	assert_int_equal(snap_asked.then, SNAPSHOT_THEN_STOP);
	assert_true(snap_asked.digest_disks);
	snap_rc = -EIO;
	a = ask(f, snap_put(req, sizeof(req), "{\"dir\":\"/srv/2\"}"));
	assert_non_null(strstr(a, " 500 "));
	assert_non_null(strstr(a, "refused the save"));
	assert_int_equal(snap_asked.then, SNAPSHOT_THEN_RESUME);
	assert_string_equal(audited, "snapshot:ok snapshot:failed");
}

static char *mig_put(char *req, size_t n, const char *body)
{
	snprintf(req, n, "PUT /migrate HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	return req;
}

/* PUT /migrate: the body parsed strictly; the client waits while the job
 * runs (GET /migrate answers, orders are refused), then has the outcome. */
static void test_migrate_route(void **state)
{
	static const char *const bad[] = {
		"", "{}", "{\"to\":\"host:1\"}", "{\"to\":\"tcp:h\"}", "{\"to\":\"tcp:h:x\"}",
		"{\"to\":\"unix:rel\"}", "{\"to\":\"tcp:h:1\",\"downtime_ms\":0}",
		"{\"to\":\"tcp:h:1\",\"max_rounds\":64}", "{\"to\":\"tcp:h:1\",\"cert\":\"rel\"}",
		"{\"to\":\"tcp:h:1\",\"zz\":1}", "{\"to\":\"tcp:h\\n:1\"}",
		"{\"to\":\"tcp:h:1\",\"downtime_ms\":\"300\"}", "{\"to\":\"tcp:h:1\"} x",
	};
	struct fixture *f = *state;
	char req[512], *a;
	int fd;

	audited[0] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = ask(f, mig_put(req, sizeof(req), bad[i]));
		if (!strstr(a, " 400 "))
			fail_msg("body '%s' not refused: %s", bad[i], a);
	}
	a = ask(f, "GET /migrate HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(a, " 200 "));
	assert_non_null(strstr(a, "\"phase\":\"none\""));
	mig_start_rc = -EBUSY;
	a = ask(f, mig_put(req, sizeof(req), "{\"to\":\"tcp:h:1\"}"));
	assert_non_null(strstr(a, " 409 "));
	assert_string_equal(audited, "migrate-out:failed");
	mig_start_rc = 0;
	fd = client(f);
	mig_put(req, sizeof(req), "{\"to\":\"tcp:[::1]:4444\",\"downtime_ms\":50,"
		"\"max_rounds\":5,\"trusted\":\"/etc/t\"}");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (int i = 0; i < 20; i++)
		pump(f, 10);
	assert_true(f->ctl.migrating);
	assert_string_equal(mig_asked.to, "tcp:[::1]:4444");
	assert_int_equal(mig_asked.downtime_ms, 50);
	assert_int_equal(mig_asked.max_rounds, 5);
	assert_string_equal(mig_asked.trusted, "/etc/t");
	assert_string_equal(mig_asked.cert, "");
	a = ask(f, "GET /migrate HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(a, "\"phase\":\"rounds\""));
	assert_non_null(strstr(a, "\"round\":2"));
	assert_non_null(strstr(a, "\"active\":true"));
	assert_non_null(strstr(ask(f, "PUT /pause HTTP/1.1\r\n\r\n"), " 409 "));
	assert_non_null(strstr(ask(f, mig_put(req, sizeof(req), "{\"to\":\"tcp:h:1\"}")),
			       " 409 "));
	/* the operator's cancel: passed on while it runs; too late after DONE */
	mig_cancels = 0;
	assert_non_null(strstr(ask(f, "GET /migrate-cancel HTTP/1.1\r\n\r\n"), " 405 "));
	assert_int_equal(mig_cancels, 0);
	a = ask(f, "PUT /migrate-cancel HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(a, " 202 "));
	assert_non_null(strstr(a, "\"result\":\"cancelling\""));
	assert_int_equal(mig_cancels, 1);
	mig_cancel_rc = -EALREADY;
	a = ask(f, "POST /migrate-cancel HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(a, " 409 "));
	assert_non_null(strstr(a, "too late to cancel"));
	mig_cancel_rc = 0;
	assert_true(f->ctl.migrating);      /* the job decides; the client waits on */
	/* the job fails: the waiting client has the reason */
	mig_now.done = true;
	mig_now.result = -ECONNABORTED;
	snprintf(mig_now.phase, sizeof(mig_now.phase), "failed");
	snprintf(mig_now.failed_in, sizeof(mig_now.failed_in), "hello");
	snprintf(mig_now.reason, sizeof(mig_now.reason), "the target refused the guest: x");
	a = answer(f, fd);
	assert_non_null(strstr(a, " 409 "));
	assert_non_null(strstr(a, "\"error\":\"the target refused the guest: x\""));
	assert_non_null(strstr(a, "\"failed_in\":\"hello\""));
	assert_false(f->ctl.migrating);
	assert_int_equal(f->ctl.mig_client, -1);
}

static void test_openapi_matches(void **state)
{
	static const char *const paths[] = { "/info", "/metrics", "/pause", "/resume",
					     "/power-button", "/stop", "/snapshot", "/migrate",
					     "/migrate-cancel" };
	static const char *const codes[] = { "200", "201", "202", "400", "403", "404", "405", "408",
					     "409", "413", "431", "500", "501", "503", "505" };
	static char doc[65536];
	struct fixture *f = *state;
	char want[64], req[128];
	FILE *y = fopen("core/launch/control-openapi.yaml", "re");
	size_t n;

	assert_non_null(y);
	n = fread(doc, 1, sizeof(doc) - 1, y);
	fclose(y);
	doc[n] = '\0';
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(want, sizeof(want), "\n  %s:\n", paths[i]);
		if (!strstr(doc, want))
			fail_msg("%s not in the OpenAPI document", paths[i]);
		/* and the code knows it: never 404 */
		snprintf(req, sizeof(req), "OPTIONS %s HTTP/1.1\r\n\r\n", paths[i]);
		assert_non_null(strstr(ask(f, req), " 405 "));
	}
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strstr(doc, codes[i]))
			fail_msg("status %s not in the OpenAPI document", codes[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_button_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openapi_matches, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
