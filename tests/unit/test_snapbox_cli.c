/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark snapshot-export` and `snapshot-import` (core/launch/cmd_snapbox.c),
 * the real binary on files in a temporary folder: a snapshot of host A
 * moves to host B only through a transport key; each step says so and
 * leaves a file sealed under the new key only; a snapshot given to the
 * wrong step is refused and leaves no output folder; flags twice, missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/audit.h"
#include "core/launch/snapbox.h"
#include "core/log.h"

static char root[64], bin[4096];

/* build/bin/bulwark beside this test's build/tests (or build/san/...). */
static void bin_find(void)
{
	char self[4000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(bin, sizeof(bin), "%s/../bin/bulwark", self);
	if (access(bin, X_OK))
		fail_msg("%s not built", bin);
}

static int sh(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = 0;
	} else {
		while (fgetc(p) != EOF)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void key_at(const char *name, struct snapbox_key *k)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	assert_int_equal(snapbox_key_load(path, false, k), 0);
}

static void test_export_import(void **state)
{
	static const char meta[] =
		"{\"name\":\"g1\",\"uuid\":\"0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11\"}";
	struct snapbox_key ha, hb, t;
	struct snapbox *b;
	char out[1024], path[160];
	uint8_t d[32];

	(void)state;
	log_set_level(LOG_ERR);
	bin_find();
	snprintf(root, sizeof(root), "/tmp/bulwark-snapcli.XXXXXX");
	assert_non_null(mkdtemp(root));
	/* host A's snapshot */
	snprintf(path, sizeof(path), "%s/hostA.key", root);
	assert_int_equal(snapbox_key_load(path, true, &ha), 0);
	snprintf(path, sizeof(path), "%s/snap", root);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(snapbox_create(path, &ha, &b), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_META, meta, strlen(meta)), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_VMSTATE, "state", 5), 0);
	assert_int_equal(snapbox_commit(b, d), 0);

	/* export: under a transport key made for it, no longer under A's */
	assert_int_equal(sh(out, sizeof(out), "%s snapshot-export %s/snap "
			    "--transport-key %s/t.key --out %s/moving --key %s/hostA.key 2>&1",
			    bin, root, root, root, root), 0);
	assert_non_null(strstr(out, "snapshot-export: "));
	assert_non_null(strstr(out, "re-sealed as"));
	key_at("t.key", &t);
	snprintf(path, sizeof(path), "%s/moving", root);
	assert_int_equal(snapbox_open(path, &ha, &b, NULL), -EKEYREJECTED);
	assert_int_equal(snapbox_open(path, &t, &b, NULL), 0);
	snapbox_close(b);
	/* import on host B: its key made on first use */
	assert_int_equal(sh(out, sizeof(out), "%s snapshot-import %s/moving "
			    "--transport-key %s/t.key --out %s/here --key %s/hostB.key 2>&1",
			    bin, root, root, root, root), 0);
	assert_non_null(strstr(out, "snapshot-import: "));
	key_at("hostB.key", &hb);
	snprintf(path, sizeof(path), "%s/here", root);
	assert_int_equal(snapbox_open(path, &t, &b, NULL), -EKEYREJECTED);
	assert_int_equal(snapbox_open(path, &hb, &b, NULL), 0);
	assert_int_equal(snapbox_part_size(b, SNAPBOX_VMSTATE), 5);
	snapbox_close(b);
	/* A's own snapshot is not an import: refused, nothing made */
	assert_int_equal(sh(out, sizeof(out), "%s snapshot-import %s/snap "
			    "--transport-key %s/t.key --out %s/wrong --key %s/hostB.key 2>&1",
			    bin, root, root, root, root), 1);
	assert_non_null(strstr(out, "not under the key given"));
	snprintf(path, sizeof(path), "%s/wrong", root);
	assert_int_equal(access(path, F_OK), -1);
	/* import needs an existing transport key; flags once; DIR given */
	assert_int_equal(sh(NULL, 0, "%s snapshot-import %s/moving "
			    "--transport-key %s/none.key --out %s/x --key %s/hostB.key 2>&1",
			    bin, root, root, root, root), 1);
	assert_int_equal(sh(NULL, 0, "%s snapshot-export %s/snap --out %s/x "
			    "--out %s/y --transport-key %s/t.key 2>&1", bin, root, root, root, root), 2);
	assert_int_equal(sh(NULL, 0, "%s snapshot-export --out %s/x "
			    "--transport-key %s/t.key 2>&1", bin, root, root), 2);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* The records the commands write (audit_control formats them so). */
static void test_audit_record(void **state)
{
	struct audit_guest g = { "g1", "0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11", 0 };
	char buf[512];

	(void)state;
	assert_true(audit_format_control(buf, sizeof(buf), &g, "snapshot-export",
					 "transport-key-8e78b3068756bcea") > 0);
	assert_string_equal(buf, "virt=kvm op=snapshot-export reason=transport-key-8e78b3068756bcea "
			    "vm=\"g1\" uuid=0f6a1a48-4d3c-4b7e-9a4e-3f1f0d6c2a11 vm-pid=0");
	g.uuid = NULL;
	assert_true(audit_format_control(buf, sizeof(buf), &g, "snapshot-import",
					 "host-key-5df5f70d6d49d0b5") > 0);
	assert_string_equal(buf, "virt=kvm op=snapshot-import reason=host-key-5df5f70d6d49d0b5 "
			    "vm=\"g1\" uuid=? vm-pid=0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_record),
		cmocka_unit_test(test_export_import),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
