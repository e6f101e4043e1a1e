/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark delete` (core/launch/cmd_delete.c, core/launch/gstate.c) on real files in a
 * temporary tree: what it removes, that it never follows a symlink planted
 * in the state, that it refuses while the guest runs (the launcher's state
 * lock held by another process, the attestation lock, a live sVirt registry
 * entry), unknown and bad names.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/commands.h"
#include "core/launch/gstate.h"
#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt.h"

struct fixture {
	char root[64];
	char state[128], keys[128], run[128], reg[128], outside[128];
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* DIR/NAME exists (not followed); NAME "" is DIR itself. */
static int exists(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s%s", dir, name[0] ? "/" : "", name);
	return lstat(p, &st) == 0;
}

/* The layout `bulwark run` leaves for guest g1 (core/launch/gstate.h). */
static void make_guest(struct fixture *f)
{
	const char *dirs[] = { "g1", "g1/vtpm", "g1/ek", "g1/attest" };
	const char *files[] = { "g1/vtpm/tpm2-00.permall", "g1/ek/ek-rsa2048.crt",
		"g1/eventlog.bin", "g1/uuid", "g1/attest/ak.crt" };
	char p[256];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->state, dirs[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->state, files[i]);
		put(p, "state\n");
	}
	snprintf(p, sizeof(p), "%s/g1.key", f->keys);
	put(p, "00\n");
	snprintf(p, sizeof(p), "%s/g1", f->run);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/g1/attest.lock", f->run);
	put(p, "");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[256];

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/bulwark-test-delete.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	snprintf(f->keys, sizeof(f->keys), "%s/keys", f->root);
	snprintf(f->run, sizeof(f->run), "%s/run", f->root);
	snprintf(f->reg, sizeof(f->reg), "%s/reg", f->root);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->root);
	if (mkdir(f->state, 0755) || mkdir(f->keys, 0700) || mkdir(f->run, 0755) ||
	    mkdir(f->reg, 0755) || mkdir(f->outside, 0755))
		return -1;
	snprintf(p, sizeof(p), "%s/secret", f->outside);
	put(p, "not the guest's\n");
	make_guest(f);
	log_set_level(LOG_ERR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static int run_delete(const struct fixture *f, const char *name)
{
	char *argv[] = { "delete", (char *)name, "--state-dir", (char *)f->state,
		"--key-dir", (char *)f->keys, "--run-dir", (char *)f->run,
		"--registry", (char *)f->reg, NULL };

	return cmd_delete((int)ARRAY_SIZE(argv) - 1, argv);
}

static void assert_all_there(const struct fixture *f)
{
	assert_true(exists(f->state, "g1/vtpm/tpm2-00.permall"));
	assert_true(exists(f->state, "g1/eventlog.bin"));
	assert_true(exists(f->keys, "g1.key"));
}

/* Everything of g1 goes; the targets of planted symlinks stay. */
static void test_delete_removes(void **state)
{
	struct fixture *f = *state;
	char p[256], t[256];

	snprintf(p, sizeof(p), "%s/g1/attest/evil", f->state);
	snprintf(t, sizeof(t), "%s/secret", f->outside);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/g1/vtpm/evil-dir", f->state);
	assert_int_equal(symlink(f->outside, p), 0);

	assert_int_equal(run_delete(f, "g1"), 0);
	assert_false(exists(f->state, "g1"));
	assert_false(exists(f->keys, "g1.key"));
	assert_false(exists(f->run, "g1"));
	/* Not followed: the outside file and directory are untouched. */
	assert_true(exists(f->outside, "secret"));
	assert_true(exists(f->outside, ""));
	/* Deleted means gone: a second delete knows no such guest. */
	assert_int_equal(run_delete(f, "g1"), 1);
}

/* The state directory itself a symlink: refused, nothing removed. */
static void test_delete_symlinked_dir(void **state)
{
	struct fixture *f = *state;
	char p[256], t[256];

	snprintf(t, sizeof(t), "%s/g1", f->state);
	snprintf(p, sizeof(p), "%s/g2", f->state);
	assert_int_equal(symlink(t, p), 0);
	assert_int_equal(run_delete(f, "g2"), 1);
	assert_true(exists(f->state, "g2"));
	assert_all_there(f);
}

/* A launcher holds the state lock (another process, as in production). */
static void test_delete_refuses_locked(void **state)
{
	struct fixture *f = *state;
	int ready[2], fd;
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (gstate_lock(f->state, "g1", true, &fd) || write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(gstate_lock(f->state, "g1", true, &fd), -EBUSY);
	assert_int_equal(run_delete(f, "g1"), 1);
	assert_all_there(f);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	/* The launcher died: its lock went with it. */
	assert_int_equal(run_delete(f, "g1"), 0);
	assert_false(exists(f->state, "g1"));
}

/* A live launcher's attestation lock (attestd.h) also means running. */
static void test_delete_refuses_attest_lock(void **state)
{
	struct fixture *f = *state;
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/g1/attest.lock", f->run);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(run_delete(f, "g1"), 1);
	assert_all_there(f);
	close(fd);
	assert_int_equal(run_delete(f, "g1"), 0);
}

/* sVirt: a live registry entry (this process) refuses; once released, ok. */
static void test_delete_refuses_svirt(void **state)
{
	struct fixture *f = *state;
	struct svirt_config cfg;
	struct svirt_vm *vm;

	svirt_config_default(&cfg);
	snprintf(cfg.registry_dir, sizeof(cfg.registry_dir), "%s", f->reg);
	assert_int_equal(svirt_vm_create(&cfg, "g1", SVIRT_MODE_DYNAMIC, NULL, NULL, 0,
					 &vm), 0);
	assert_int_equal(svirt_vm_add_pid(vm, getpid()), 0);
	assert_int_equal(run_delete(f, "g1"), 1);
	assert_all_there(f);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_int_equal(run_delete(f, "g1"), 0);
	assert_false(exists(f->state, "g1"));
}

static void test_delete_bad_args(void **state)
{
	struct fixture *f = *state;
	char *rel[] = { "delete", "g1", "--state-dir", "relative", NULL };
	char *none[] = { "delete", NULL };

	assert_int_equal(run_delete(f, "nosuch"), 1);
	assert_int_equal(run_delete(f, "../g1"), 2);
	assert_int_equal(run_delete(f, ".g1"), 2);
	assert_int_equal(cmd_delete(4, rel), 2);
	assert_int_equal(cmd_delete(1, none), 2);
	assert_all_there(f);
}

/* A removal never leaves the file system it started on, nor goes deeper
 * than GSTATE_DEPTH_MAX. */
static void test_gstate_remove_depth(void **state)
{
	struct fixture *f = *state;
	struct gstate_count n = { 0 };
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/deep", f->root);
	for (int i = 0; i <= GSTATE_DEPTH_MAX; i++) {
		assert_int_equal(mkdir(p, 0700), 0);
		strncat(p, "/d", sizeof(p) - strlen(p) - 1);
	}
	fd = open(f->root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(gstate_remove(fd, "deep", &n), -ELOOP);
	assert_int_equal(gstate_remove(fd, "..", &n), -EINVAL);
	assert_int_equal(gstate_remove(fd, "a/b", &n), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_symlinked_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_refuses_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_refuses_attest_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_refuses_svirt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gstate_remove_depth, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
