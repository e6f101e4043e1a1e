/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt: category sets, the registry entry format, the allocator (unique
 * under concurrent launchers, exhaustion, static labels, groups) and crash
 * reclaim.  Real processes, real flock, real /proc; no SELinux needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

static char regdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(regdir, sizeof(regdir), "/tmp/test_svirt.XXXXXX");
	if (!mkdtemp(regdir))
		return -1;
	log_set_level(LOG_ERR);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", regdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void cfg_range(struct svirt_config *cfg, uint16_t lo, uint16_t hi)
{
	svirt_config_default(cfg);
	snprintf(cfg->registry_dir, sizeof(cfg->registry_dir), "%s/reg", regdir);
	cfg->cat_lo = lo;
	cfg->cat_hi = hi;
}

static void test_levels(void **state)
{
	struct svirt_cats c;
	char buf[64];

	(void)state;
	assert_int_equal(svirt_cats_parse_level("s0:c7,c3", &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.c[0], 3);
	assert_int_equal(c.c[1], 7);
	assert_int_equal(svirt_cats_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "s0:c3,c7");
	assert_int_equal(svirt_cats_parse_level("s0:c1.c4,c9", &c), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(svirt_cats_parse_level("s0", &c), 0);
	assert_int_equal(c.n, 0);
	/* Malformed: each must be refused. */
	const char *bad[] = { "s1:c1", "s0:", "s0:c1,", "s0:c1024", "s0:c01",
			      "s0:c4.c2", "s0:c1.c1", "s0-s0:c1", "s0:cx", "",
			      "s0:c0.c9" /* more than SVIRT_SET_MAX */ };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_not_equal(svirt_cats_parse_level(bad[i], &c), 0);
}

static void test_label_compose(void **state)
{
	struct svirt_cats c = { 0 };
	char buf[SVIRT_LABEL_MAX], type[64];
	const char *level;

	(void)state;
	assert_int_equal(svirt_cats_add(&c, 873), 0);
	assert_int_equal(svirt_cats_add(&c, 12), 0);
	assert_int_equal(svirt_cats_add(&c, 1024), -ERANGE);
	assert_int_equal(svirt_label_compose("system_u", "system_r",
					     "bulwark_vmm_t", &c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "system_u:system_r:bulwark_vmm_t:s0:c12,c873");
	assert_int_equal(svirt_label_split(buf, type, sizeof(type), &level), 0);
	assert_string_equal(type, "bulwark_vmm_t");
	assert_string_equal(level, "s0:c12,c873");
	assert_int_not_equal(svirt_label_split("a:b", type, sizeof(type), &level), 0);
	assert_int_equal(svirt_label_compose("u", "r", "t", &c, buf, 10), -ENAMETOOLONG);
}

static void fill_entry(struct svirt_entry *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->name, "web-1");
	strcpy(e->boot_id, "0b3c4d5e-1111-2222-3333-444455556666");
	e->mode = SVIRT_MODE_DYNAMIC;
	svirt_cats_add(&e->priv, 12);
	svirt_cats_add(&e->priv, 873);
	e->ngroups = 1;
	strcpy(e->groups[0].name, "db");
	e->groups[0].cat = 900;
	e->nprocs = 1;
	e->procs[0].pid = 4242;
	e->procs[0].start = 123456789;
	e->nfiles = 1;
	e->files[0].dev = 2049;
	e->files[0].ino = 77;
	e->files[0].kind = SVIRT_OBJ_IMAGE;
	strcpy(e->files[0].orig, "system_u:object_r:tmpfs_t:s0");
	strcpy(e->files[0].applied, "system_u:object_r:bulwark_image_t:s0:c12,c873");
	strcpy(e->files[0].path, "/var/lib/bulwark/disk with space.img");
}

static void test_entry_roundtrip(void **state)
{
	struct svirt_entry *e = calloc(1, sizeof(*e)), *back = calloc(1, sizeof(*back));
	char *buf = NULL;
	size_t len;

	(void)state;
	fill_entry(e);
	assert_int_equal(svirt_entry_format(e, &buf, &len), 0);
	assert_int_equal(svirt_entry_parse(buf, len, back), 0);
	assert_memory_equal(e, back, sizeof(*e));
	/* Truncated (no "end"): refused. */
	char *end = strstr(buf, "end\n");
	assert_non_null(end);
	assert_int_not_equal(svirt_entry_parse(buf, (size_t)(end - buf), back), 0);
	/* A path with a newline cannot be written. */
	strcpy(e->files[0].path, "/a\nb");
	free(buf);
	assert_int_equal(svirt_entry_format(e, &buf, &len), -EINVAL);
	free(e);
	free(back);
}

static void test_entry_malformed(void **state)
{
	static const char *const bad[] = {
		"bulwark-svirt 2\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\nend\n",
		"bulwark-svirt 1\nname a\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\nend\n",
		"bulwark-svirt 1\nname ../x\nboot b\nmode dynamic\ncats s0:c1,c2\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode off\ncats s0:c1,c2\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\nproc 0 1\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\nproc 1 x\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\n"
		"file 1 2 disk a b /p\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\n"
		"file 1 2 image a b relative\nend\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\nend\nname b\n",
		"bulwark-svirt 1\nname a\nboot b\nmode dynamic\ncats s0:c1,c2\ngroup g 1024\nend\n",
	};
	struct svirt_entry *e = calloc(1, sizeof(*e));
	const char *good = "bulwark-svirt 1\nname a\nboot b\nmode static\ncats s0:c1\nend\n";

	(void)state;
	assert_int_equal(svirt_entry_parse(good, strlen(good), e), 0);
	assert_int_equal(e->mode, SVIRT_MODE_STATIC);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_not_equal(svirt_entry_parse(bad[i], strlen(bad[i]), e), 0);
	free(e);
}

static void test_stat_start(void **state)
{
	const char *s = "42 (a) b) (c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
			"18 987654 20\n";
	uint64_t start;

	(void)state;
	assert_int_equal(svirt_stat_parse_start(s, strlen(s), &start), 0);
	assert_int_equal(start, 987654);
	assert_int_not_equal(svirt_stat_parse_start("42 (x) S 1 2", 12, &start), 0);
	assert_int_equal(svirt_proc_start((int32_t)getpid(), &start), 0);
	assert_true(start > 0);
}

/* c0.c3 holds 6 pairs: all six come out distinct, then ENOSPC. */
static void test_alloc_exhaustion(void **state)
{
	struct svirt_entry *live = calloc(8, sizeof(*live));
	struct svirt_config cfg;
	struct svirt_cats c;

	(void)state;
	cfg_range(&cfg, 0, 3);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(svirt_alloc_pair(&cfg, live, i, &c), 0);
		assert_int_equal(c.n, 2);
		assert_int_not_equal(c.c[0], c.c[1]);
		assert_true(c.c[1] <= 3);
		for (size_t j = 0; j < i; j++)
			assert_false(svirt_cats_subset(&c, &live[j].priv));
		live[i].priv = c;
	}
	assert_int_equal(svirt_alloc_pair(&cfg, live, 6, &c), -ENOSPC);
	free(live);
}

/* A static single category blocks every pair that contains it. */
static void test_alloc_static_and_groups(void **state)
{
	struct svirt_entry *live = calloc(4, sizeof(*live));
	struct svirt_config cfg;
	struct svirt_cats c = { 0 }, mine = { 0 };
	uint16_t g;

	(void)state;
	cfg_range(&cfg, 0, 2);
	svirt_cats_add(&live[0].priv, 1);          /* static s0:c1 */
	assert_int_equal(svirt_alloc_pair(&cfg, live, 1, &c), 0);
	assert_false(svirt_cats_has(&c, 1));        /* only c0,c2 is left */
	live[1].priv = c;
	assert_int_equal(svirt_alloc_pair(&cfg, live, 2, &c), -ENOSPC);
	/* A static set containing another guest's set is refused. */
	memset(&c, 0, sizeof(c));
	svirt_cats_add(&c, 1);
	svirt_cats_add(&c, 2);
	assert_int_equal(svirt_alloc_check(&c, live, 1), -EBUSY);
	/* A group category is disjoint from every private set. */
	cfg_range(&cfg, 0, 9);
	svirt_cats_add(&mine, 5);
	svirt_cats_add(&mine, 6);
	assert_int_equal(svirt_alloc_group(&cfg, "db", &mine, live, 2, &g), 0);
	assert_false(svirt_cats_has(&mine, g) || svirt_cats_has(&live[0].priv, g) ||
		     svirt_cats_has(&live[1].priv, g));
	/* ... and a pair never takes a live group's category. */
	live[2].priv = mine;
	live[2].ngroups = 1;
	strcpy(live[2].groups[0].name, "db");
	live[2].groups[0].cat = g;
	memset(&c, 0, sizeof(c));
	svirt_cats_add(&c, g);
	svirt_cats_add(&c, (uint16_t)(g == 9 ? 8 : 9));
	assert_int_equal(svirt_alloc_check(&c, live, 3), -EBUSY);
	/* Another member of "db" gets the same category. */
	uint16_t g2, free2[2], nf = 0;
	for (uint16_t k = 3; k <= 9 && nf < 2; k++)
		if (k != g && k != 5 && k != 6)
			free2[nf++] = k;
	memset(&mine, 0, sizeof(mine));
	svirt_cats_add(&mine, free2[0]);
	svirt_cats_add(&mine, free2[1]);
	assert_int_equal(svirt_alloc_group(&cfg, "db", &mine, live, 3, &g2), 0);
	assert_int_equal(g2, g);
	free(live);
}

#define NCHILD 16

/* One launcher: reserve, report, wait for the word, then stop cleanly
 * (even) or die without cleaning up (odd). */
static void child_launcher(const struct svirt_config *cfg, int idx, int wfd, int rfd)
{
	struct svirt_vm *vm = NULL;
	char name[16], msg[64] = "";
	int rc;

	snprintf(name, sizeof(name), "g%d", idx);
	rc = svirt_vm_create(cfg, name, SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm);
	if (!rc)
		svirt_cats_format(svirt_vm_cats(vm), msg, sizeof(msg));
	dprintf(wfd, "%d %s\n", rc, msg);
	close(wfd);
	(void)!read(rfd, msg, 1);
	if (rc == 0 && idx % 2 == 0)
		svirt_vm_release(vm);
	_exit(0);
}

static void test_concurrent_launchers(void **state)
{
	struct svirt_cats cats[NCHILD];
	struct svirt_entry *list;
	struct svirt_config cfg;
	struct svirt_reg r;
	int up[2], down[2][2];
	pid_t pids[NCHILD];
	size_t n;
	FILE *f;

	(void)state;
	cfg_range(&cfg, 0, 7); /* 28 pairs for 16 launchers: collisions likely */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down[0]), 0);
	assert_int_equal(pipe(down[1]), 0);
	for (int i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(up[0]);
			close(down[0][1]);
			close(down[1][1]);
			child_launcher(&cfg, i, up[1], down[i % 2][0]);
		}
	}
	close(up[1]);
	close(down[0][0]);
	close(down[1][0]);
	f = fdopen(up[0], "r");
	for (int i = 0; i < NCHILD; i++) {
		char level[64];
		int rc;

		assert_int_equal(fscanf(f, "%d %63s", &rc, level), 2);
		assert_int_equal(rc, 0);
		assert_int_equal(svirt_cats_parse_level(level, &cats[i]), 0);
		assert_int_equal(cats[i].n, 2);
		for (int j = 0; j < i; j++)
			assert_false(svirt_cats_subset(&cats[i], &cats[j]));
	}
	fclose(f);
	assert_int_equal(svirt_reg_open(cfg.registry_dir, &r), 0);
	assert_int_equal(svirt_reg_load(&r, &list, &n), 0);
	assert_int_equal(n, NCHILD);
	free(list);
	svirt_reg_close(&r);
	/* The even ones stop cleanly first, then the odd ones die. */
	for (int k = 0; k < 2; k++) {
		close(down[k][1]);
		for (int i = k; i < NCHILD; i += 2)
			assert_int_equal(waitpid(pids[i], NULL, 0), pids[i]);
	}
	/* The 8 that died without cleaning up are provably gone now. */
	assert_int_equal(svirt_gc(&cfg), NCHILD / 2);
	assert_int_equal(svirt_gc(&cfg), 0);
}

static void store_entry(const struct svirt_config *cfg, const char *name,
			const char *boot, int32_t pid, uint64_t start, uint16_t a)
{
	struct svirt_entry *e = calloc(1, sizeof(*e));
	struct svirt_reg r;

	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->boot_id, sizeof(e->boot_id), "%s", boot);
	svirt_cats_add(&e->priv, a);
	svirt_cats_add(&e->priv, (uint16_t)(a + 1));
	e->nprocs = 1;
	e->procs[0].pid = pid;
	e->procs[0].start = start;
	assert_int_equal(svirt_reg_open(cfg->registry_dir, &r), 0);
	assert_int_equal(svirt_reg_store(&r, e), 0);
	svirt_reg_close(&r);
	free(e);
}

/* svirt_config.gone: each reclaimed guest once, by name, with the last
 * process recorded for it (0: only the launcher's). */
static char gone_seen[256];

static void record_gone(const char *gname, int32_t gpid)
{
	size_t n = strlen(gone_seen);

	snprintf(gone_seen + n, sizeof(gone_seen) - n, "%s:%d;", gname, (int)gpid);
}

/* Reclaimed only when provably gone: another boot, a dead pid, or a pid
 * that now belongs to a process started at another time.  Each is told to
 * cfg.gone (the launcher writes its stop record there); the live one not. */
static void test_crash_reclaim(void **state)
{
	struct svirt_entry *list;
	struct svirt_config cfg;
	struct svirt_reg r;
	char boot[SVIRT_BOOT_ID_MAX];
	uint64_t start;
	pid_t dead;
	size_t n;

	(void)state;
	cfg_range(&cfg, 0, 1023);
	assert_int_equal(svirt_boot_id(boot, sizeof(boot)), 0);
	assert_int_equal(svirt_proc_start((int32_t)getpid(), &start), 0);
	dead = fork();
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	store_entry(&cfg, "alive", boot, (int32_t)getpid(), start, 10);
	store_entry(&cfg, "reused", boot, (int32_t)getpid(), start + 1, 20);
	store_entry(&cfg, "oldboot", "00000000-0000-0000-0000-000000000000",
		    (int32_t)getpid(), start, 30);
	store_entry(&cfg, "dead", boot, (int32_t)dead, start, 40);
	gone_seen[0] = '\0';
	cfg.gone = record_gone;
	assert_int_equal(svirt_gc(&cfg), 3);
	assert_non_null(strstr(gone_seen, "reused:0;"));
	assert_non_null(strstr(gone_seen, "oldboot:0;"));
	assert_non_null(strstr(gone_seen, "dead:0;"));
	assert_null(strstr(gone_seen, "alive"));
	assert_int_equal(strlen(gone_seen), strlen("reused:0;oldboot:0;dead:0;"));
	gone_seen[0] = '\0';
	assert_int_equal(svirt_gc(&cfg), 0);
	assert_string_equal(gone_seen, "");
	assert_int_equal(svirt_reg_open(cfg.registry_dir, &r), 0);
	assert_int_equal(svirt_reg_load(&r, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "alive");
	free(list);
	svirt_reg_close(&r);
	/* A second guest of the same name is refused while it lives. */
	struct svirt_vm *vm;
	assert_int_equal(svirt_vm_create(&cfg, "alive", SVIRT_MODE_DYNAMIC, NULL,
					 NULL, 0, &vm), -EEXIST);
	assert_int_equal(svirt_vm_create(&cfg, "../x", SVIRT_MODE_DYNAMIC, NULL,
					 NULL, 0, &vm), -EINVAL);
}

/* A malformed entry blocks allocation (fail closed) and is named. */
static void test_registry_malformed(void **state)
{
	struct svirt_config cfg;
	struct svirt_vm *vm;
	char path[SVIRT_PATH_MAX + 16];
	FILE *f;

	(void)state;
	cfg_range(&cfg, 0, 1023);
	assert_int_equal(svirt_gc(&cfg), 0);
	snprintf(path, sizeof(path), "%s/vm.broken", cfg.registry_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("bulwark-svirt 1\nname broken\n", f);
	fclose(f);
	assert_int_equal(svirt_vm_create(&cfg, "x", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(svirt_vm_create(&cfg, "x", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm), 0);
	assert_int_equal(svirt_vm_release(vm), 0);
}

static void test_modes(void **state)
{
	struct svirt_config cfg;
	enum svirt_mode m;

	(void)state;
	assert_int_equal(svirt_mode_parse("static", &m), 0);
	assert_int_equal(m, SVIRT_MODE_STATIC);
	assert_int_equal(svirt_mode_parse("none", &m), -EINVAL);
	svirt_config_default(&cfg);
	assert_int_equal(svirt_range_parse("c10.c20", &cfg), 0);
	assert_int_equal(cfg.cat_lo, 10);
	assert_int_equal(cfg.cat_hi, 20);
	assert_int_equal(svirt_range_parse("c0.c1024", &cfg), -EINVAL);
	assert_int_equal(svirt_range_parse("c5.c5", &cfg), -EINVAL);
	assert_int_equal(svirt_range_parse("c5", &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_label_compose),
		cmocka_unit_test(test_entry_roundtrip),
		cmocka_unit_test(test_entry_malformed),
		cmocka_unit_test(test_stat_start),
		cmocka_unit_test(test_alloc_exhaustion),
		cmocka_unit_test(test_alloc_static_and_groups),
		cmocka_unit_test(test_modes),
		cmocka_unit_test_setup_teardown(test_concurrent_launchers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_malformed, setup, teardown),
	};
	return cmocka_run_group_tests_name("svirt", tests, NULL, NULL);
}
