/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulwark list / info / pause / resume / shutdown / destroy (core/launch/cmd_control.c)
 * against a real control socket (core/launch/launch_control.c) served by a thread
 * that also plays the VMM, in a temporary run directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/launch/launch_control.h"
#include "core/launch/launch_migrate.h"
#include "core/launch/launch_snapshot.h"
#include "core/launch/launcher.h"

/* The control API's audit calls are checked by test_control (their text by
 * test_audit); here they are dropped, so that this test writes nothing to
 * the host's audit log. */
void __wrap_launch_audit_control(const struct launch *l, const char *op, bool ok);
void __wrap_launch_audit_control(const struct launch *l, const char *op, bool ok)
{
	(void)l; (void)op; (void)ok;
}

int __wrap_launch_migrate_start(struct control *ctl, const struct migrate_req *req,
				char *why, size_t why_len);
int __wrap_launch_migrate_start(struct control *ctl, const struct migrate_req *req,
				char *why, size_t why_len)
{
	(void)ctl;
	(void)req;
	snprintf(why, why_len, "no migration in this test");
	return -EBUSY;
}

void __wrap_launch_migrate_progress(struct migrate_progress *out);
void __wrap_launch_migrate_progress(struct migrate_progress *out)
{
	memset(out, 0, sizeof(*out));
}

int __wrap_launch_migrate_cancel(char *why, size_t why_len);
int __wrap_launch_migrate_cancel(char *why, size_t why_len)
{
	snprintf(why, why_len, "no migration is in progress");
	return -ENOENT;
}

int __wrap_launch_migrate_reap(struct control *ctl, struct migrate_progress *out);
int __wrap_launch_migrate_reap(struct control *ctl, struct migrate_progress *out)
{
	(void)ctl;
	(void)out;
	return 0;
}

int __wrap_launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			       struct snapshot_result *res, char *why, size_t why_len);
int __wrap_launch_snapshot_run(struct control *ctl, const struct snapshot_req *req,
			       struct snapshot_result *res, char *why, size_t why_len)
{
	(void)ctl; (void)req;
	memset(res, 0, sizeof(*res));
	snprintf(why, why_len, "not in this test");
	return -ENOSYS;
}

static char dir[64], out_path[96];
static struct launch l;
static struct control ctl;
static int vmm_fd;
static atomic_int done, acts;
static uint32_t paused;

/* The launcher's loop and the VMM, in one thread. */
static void *server(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		struct pollfd p[CONTROL_POLLFDS];
		struct vmm_ctl_req req;
		struct vmm_ctl_reply rep = { 0 };
		int n = launch_control_fds(&ctl, p);

		poll(p, (nfds_t)n, 10);
		atomic_fetch_or(&acts, launch_control_service(&ctl, p, n));
		if (recv(vmm_fd, &req, sizeof(req), MSG_DONTWAIT) != (ssize_t)sizeof(req))
			continue;
		rep.op = req.op;
		rep.seq = req.seq;
		if (req.op == VMM_CTL_PAUSE)
			rep.result = paused ? -EALREADY : 0, paused = 1;
		else if (req.op == VMM_CTL_RESUME)
			rep.result = !paused ? -EALREADY : 0, paused = 0;
		rep.paused = paused;
		send(vmm_fd, &rep, sizeof(rep), 0);
	}
	return NULL;
}

/* Runs a command with stdout into a file; its exit status, *out its text. */
static int run(int (*fn)(int, char **), const char *a1, const char *a2, char **out)
{
	static char buf[8192];
	char *argv[8] = { "cmd", "--run-dir", dir, "--registry", out_path };
	int argc = 5, saved, fd, rc;
	ssize_t n;

	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	fflush(stdout);
	saved = dup(1);
	fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	*out = buf;
	return rc;
}

static int setup(void **state)
{
	pthread_t *t = malloc(sizeof(*t));

	strcpy(dir, "/tmp/test_control_cli.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out_path, sizeof(out_path), "%s/out", dir);   /* no registry there */
	config_init(&l.cfg);
	strcpy(l.cfg.name, "g1");
	l.cfg.cpus = 3;
	l.cfg.memory_mib = 512;
	assert_int_equal(launch_control_open(&ctl, &l, dir, 0, &vmm_fd), 0);
	launch_control_start(&ctl, 4242);
	assert_int_equal(pthread_create(t, NULL, server, NULL), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	pthread_t *t = *state;
	char p[128];

	atomic_store(&done, 1);
	pthread_join(*t, NULL);
	free(t);
	launch_control_close(&ctl);
	close(vmm_fd);
	unlink(out_path);
	snprintf(p, sizeof(p), "%s/g1", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static void test_cli(void **state)
{
	char *o;

	(void)state;
	assert_int_equal(run(cmd_list, NULL, NULL, &o), 0);
	assert_non_null(strstr(o, "NAME"));
	assert_non_null(strstr(o, "g1 "));
	assert_non_null(strstr(o, "running"));
	assert_non_null(strstr(o, "512M"));
	assert_int_equal(run(cmd_list, "--json", NULL, &o), 0);
	assert_non_null(strstr(o, "\"name\":\"g1\""));
	assert_non_null(strstr(o, "\"vcpus\":3"));
	assert_non_null(strstr(o, "\"pid\":4242"));
	assert_int_equal(run(cmd_info, "g1", NULL, &o), 0);
	assert_non_null(strstr(o, "vCPUs:         3"));
	assert_non_null(strstr(o, "VMM pid:       4242"));
	assert_int_equal(run(cmd_pause, "g1", NULL, &o), 0);
	assert_non_null(strstr(o, "guest g1: paused ("));
	assert_int_equal(run(cmd_info, "g1", "--json", &o), 0);
	assert_non_null(strstr(o, "\"state\":\"paused\""));
	assert_int_equal(run(cmd_pause, "g1", NULL, &o), 1);      /* 409 */
	assert_int_equal(run(cmd_shutdown, "g1", NULL, &o), 1);   /* paused: 409 */
	assert_int_equal(run(cmd_resume, "g1", "--json", &o), 0);
	assert_non_null(strstr(o, "\"state\":\"running\""));
	assert_int_equal(run(cmd_migrate_cancel, "g1", NULL, &o), 1);   /* none: 409 */
	assert_int_equal(run(cmd_shutdown, "g1", NULL, &o), 0);
	assert_int_equal(run(cmd_destroy, "g1", NULL, &o), 0);
	assert_int_equal(atomic_load(&acts), CONTROL_ACT_BUTTON | CONTROL_ACT_STOP);
	assert_int_equal(run(cmd_info, "nosuch", NULL, &o), 1);
	assert_int_equal(run(cmd_info, "../g1", NULL, &o), 2);
	assert_int_equal(run(cmd_pause, NULL, NULL, &o), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
