/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark snapshot-export` and `snapshot-import` (core/launch/cmd_snapbox.c),
 * the real binary on files in a temporary folder: a snapshot of host A
 * moves to host B only through a transport key; each step says so and
 * leaves a file sealed under the new key only; a snapshot given to the
 * wrong step is refused and leaves no output folder; flags twice, missing.
 * And `bulwark restore` (core/launch/launch_restore.c) up to where it needs
 * KVM: a snapshot sealed here (META from a real canonical configuration,
 * DISKS, no vTPM) is opened, authenticated and decoded, and the start goes
 * on to validation (which fails here: no kernel, no KVM); a byte changed,
 * a cut, another key, a --name that is not the guest's, a META that
 * disagrees with its configuration are refused first, with the reason.
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

#include "core/config.h"
#include "core/launch/audit.h"
#include "core/launch/snapbox.h"
#include "core/launch/snapmeta.h"
#include "core/log.h"

static char root[64], bin[4096];
static struct snapbox_key key;

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

/* The command's exit status, its stderr and stdout in OUT. */
static int restore(char *out, size_t cap, const char *dir, const char *extra)
{
	char cmd[8192];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s restore %s/%s --key %s/k --log-level info %s 2>&1 "
		 "</dev/null", bin, root, dir, root, extra);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* DIR sealed under k: META (nvcpus as given) and DISKS for a guest g1. */
static void seal(const char *dir, const struct snapbox_key *k, uint32_t nvcpus)
{
	static struct vm_config cfg;
	struct snapmeta m = { .nvcpus = nvcpus, .memory_mib = 256, .time = 1 };
	struct snapdisks d = { 0 };
	struct snapbox *b;
	char path[160], *canon;
	uint8_t *buf, digest[32];
	size_t len, clen;

	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "name", "g1", "--name"), 0);
	assert_int_equal(config_set(&cfg, "kernel", "/nonexistent/vmlinuz", "--kernel"), 0);
	assert_int_equal(config_set(&cfg, "cmdline", "console=ttyS0", "--cmdline"), 0);
	assert_int_equal(config_set(&cfg, "no-vtpm", NULL, "--no-vtpm"), 0);
	assert_int_equal(config_validate(&cfg), 0);
	assert_int_equal(config_canonical(&cfg, &canon, &clen), 0);
	strcpy(m.name, "g1");
	m.config = (const uint8_t *)canon;
	m.config_len = clen;
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(snapbox_create(path, k, &b), 0);
	assert_int_equal(snapmeta_encode(&m, &buf, &len), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_META, buf, len), 0);
	free(buf);
	assert_int_equal(snapbox_put(b, SNAPBOX_VMSTATE, "state", 5), 0);
	assert_int_equal(snapdisks_encode(&d, &buf, &len), 0);
	assert_int_equal(snapbox_put(b, SNAPBOX_DISKS, buf, len), 0);
	free(buf);
	assert_int_equal(snapbox_commit(b, digest), 0);
	free(canon);
}

static void test_restore_refusals(void **state)
{
	static char out[65536];
	struct snapbox_key other;
	char path[256];
	struct stat st;

	(void)state;
	log_set_level(LOG_ERR);
	bin_find();
	snprintf(root, sizeof(root), "/tmp/bulwark-restorecli.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/k", root);
	assert_int_equal(snapbox_key_load(path, true, &key), 0);
	snprintf(path, sizeof(path), "%s/other", root);
	assert_int_equal(snapbox_key_load(path, true, &other), 0);
	seal("good", &key, 1);
	seal("alien", &other, 1);
	seal("disagree", &key, 2);

	/* whole: opened and decoded, then the start fails at its kernel */
	assert_int_equal(restore(out, sizeof(out), "good", ""), 2);
	if (!strstr(out, "guest g1, 1 vCPUs, 256 MiB"))
		fail_msg("not decoded: %s", out);
	assert_non_null(strstr(out, "/nonexistent/vmlinuz"));
	assert_null(strstr(out, "refused, nothing started"));
	/* another key: both ids named */
	assert_int_equal(restore(out, sizeof(out), "alien", ""), 2);
	assert_non_null(strstr(out, "sealed under another key"));
	assert_non_null(strstr(out, "refused, nothing started"));
	/* a byte changed, then a cut */
	snprintf(path, sizeof(path), "%s/good/" SNAPBOX_FILE, root);
	assert_int_equal(stat(path, &st), 0);
	{
		int fd = open(path, O_RDWR);
		char c;

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &c, 1, st.st_size / 2), 1);
		c ^= 0x20;
		assert_int_equal(pwrite(fd, &c, 1, st.st_size / 2), 1);
		assert_int_equal(restore(out, sizeof(out), "good", ""), 2);
		assert_non_null(strstr(out, "not whole or was changed"));
		c ^= 0x20;
		assert_int_equal(pwrite(fd, &c, 1, st.st_size / 2), 1);
		assert_int_equal(ftruncate(fd, st.st_size - 1), 0);
		assert_int_equal(restore(out, sizeof(out), "good", ""), 2);
		assert_non_null(strstr(out, "not whole or was changed"));
		close(fd);
	}
	/* META says 2 vCPUs, its configuration 1 */
	assert_int_equal(restore(out, sizeof(out), "disagree", ""), 2);
	assert_non_null(strstr(out, "META does not agree"));
	/* another name: refused (a guest is restored under its own) */
	assert_int_equal(restore(out, sizeof(out), "disagree", "--name g2"), 2);
	assert_int_equal(restore(out, sizeof(out), "alien", "--bogus x"), 2);
	assert_non_null(strstr(out, "usage: bulwark restore"));
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

static void test_restore_name(void **state)
{
	static char out[65536];
	char path[256];

	(void)state;
	bin_find();
	snprintf(root, sizeof(root), "/tmp/bulwark-restorecli.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/k", root);
	assert_int_equal(snapbox_key_load(path, true, &key), 0);
	seal("good", &key, 1);
	assert_int_equal(restore(out, sizeof(out), "good", "--name g2"), 2);
	assert_non_null(strstr(out, "the snapshot is of guest g1, not g2"));
	assert_int_equal(restore(out, sizeof(out), "good", "--name g1"), 2);
	assert_non_null(strstr(out, "guest g1, 1 vCPUs"));
	/* the host's settings: --flag=value or --flag value, checked */
	assert_int_equal(restore(out, sizeof(out), "good", "--svirt=bogus"), 2);
	assert_non_null(strstr(out, "usage: bulwark restore"));
	assert_int_equal(restore(out, sizeof(out), "good", "--svirt off --seccomp=log"), 2);
	assert_non_null(strstr(out, "guest g1, 1 vCPUs"));
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_record),
		cmocka_unit_test(test_export_import),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_restore_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
