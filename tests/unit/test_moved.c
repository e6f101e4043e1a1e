/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest that moved away (core/launch/launch_moved.c) on real files in a
 * temporary tree: the record written whole (no temporary left), a start
 * refused while it is there and a target let through, the vTPM state and
 * key removed only at the teardown after a move (also when the record could
 * not be written), a planted or hostile record still refusing, the record
 * cleared when the guest comes back.  swtpm_delete is the real one.
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
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/launch_migrate.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/log.h"

static char root[64], state[128], keys[128], guest[192];
static int dirfd_rc;     /* what launch_state_dirfd gives: an fd, or -errno */
static struct launch l;

/* The launcher's two helpers from launch_vtpm.c, on the temporary tree. */
int launch_state_dirfd(struct launch *lp)
{
	(void)lp;
	return dirfd_rc;
}

void launch_vtpm_config(const struct launch *lp, struct swtpm_config *tc)
{
	*tc = (struct swtpm_config){ .name = lp->cfg.name, .state_dir = lp->vtpm_dir,
		.key_dir = lp->opt.key_dir, .ca_dir = "/nonexistent/ca",
		.cert_dir = "/nonexistent/ek" };
}

static int exists(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void put(const char *dir, const char *name, const void *buf, size_t len, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static size_t slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	char p[512];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

/* STATE/g1/{vtpm/tpm2-00.permall, uuid}, KEYS/g1.key: a guest with a vTPM. */
static int setup(void **st)
{
	char vt[256];

	(void)st;
	snprintf(root, sizeof(root), "/tmp/test_moved.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(keys, sizeof(keys), "%s/keys", root);
	snprintf(guest, sizeof(guest), "%s/g1", state);
	snprintf(vt, sizeof(vt), "%s/vtpm", guest);
	assert_int_equal(mkdir(state, 0755), 0);
	assert_int_equal(mkdir(keys, 0700), 0);
	assert_int_equal(mkdir(guest, 0700), 0);
	assert_int_equal(mkdir(vt, 0700), 0);
	put(vt, "tpm2-00.permall", "state", 5, 0600);
	put(guest, "uuid", "u\n", 2, 0600);
	put(keys, "g1.key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    64, 0600);
	memset(&l, 0, sizeof(l));
	snprintf(l.cfg.name, sizeof(l.cfg.name), "g1");
	l.cfg.vtpm = true;
	l.opt.state_dir = state;
	l.opt.key_dir = keys;
	snprintf(l.vtpm_dir, sizeof(l.vtpm_dir), "%s", vt);
	dirfd_rc = open(guest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dirfd_rc >= 0);
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	(void)launch_moved_retire(&l);   /* a record's pending removal: this tree's */
	if (dirfd_rc >= 0)
		close(dirfd_rc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const struct migrate_progress moved_to = {
	.result = 0, .to = "tcp:10.77.0.2:4444", .peer = "cn=host-b sha256:d50582b8",
	.target_label = "system_u:system_r:bulwark_vm_t:s0:c612,c648",
};
static const uint8_t sha[32] = { 0xe7, 0x7b, 0xe2, 0xd7, [31] = 0x01 };

static void test_record_then_refused(void **st)
{
	char text[LAUNCH_MOVED_MAX + 1];
	struct launch_incoming *in = (struct launch_incoming *)&l;

	(void)st;
	assert_int_equal(launch_moved_check(&l, dirfd_rc), 0);   /* never moved */
	assert_int_equal(launch_moved_refuse(&l), 0);
	assert_int_equal(launch_moved_write(&l, &moved_to, sha), 0);
	assert_true(exists(guest, LAUNCH_MOVED_FILE));
	assert_false(exists(guest, LAUNCH_MOVED_FILE ".new"));
	slurp(guest, LAUNCH_MOVED_FILE, text, sizeof(text));
	assert_memory_equal(text, "bulwark-moved-v1\n", 17);
	assert_non_null(strstr(text, "\nto tcp:10.77.0.2:4444\n"));
	assert_non_null(strstr(text, "\ntarget cn=host-b sha256:d50582b8\n"));
	assert_non_null(strstr(text, "s0:c612,c648\n"));
	assert_non_null(strstr(text, "stream sha256 e77be2d7000000"));
	/* A start or a restore here is refused; a target (the guest coming
	 * back) is not. */
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
	assert_int_equal(launch_moved_refuse(&l), -EEXIST);
	l.incoming = in;
	assert_int_equal(launch_moved_check(&l, dirfd_rc), 0);
	assert_int_equal(launch_moved_refuse(&l), 0);
	l.incoming = NULL;
}

static void test_retire_after_record(void **st)
{
	(void)st;
	/* No record: the teardown removes nothing. */
	assert_int_equal(launch_moved_retire(&l), 0);
	assert_true(exists(guest, "vtpm/tpm2-00.permall"));
	assert_true(exists(keys, "g1.key"));
	assert_int_equal(launch_moved_write(&l, &moved_to, sha), 0);
	assert_true(exists(guest, "vtpm/tpm2-00.permall"));   /* swtpm may still run */
	assert_int_equal(launch_moved_retire(&l), 0);
	assert_false(exists(guest, "vtpm/tpm2-00.permall"));
	assert_false(exists(keys, "g1.key"));
	assert_true(exists(guest, LAUNCH_MOVED_FILE));        /* still refusing */
	assert_true(exists(guest, "uuid"));                   /* the rest: `bulwark delete` */
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
	assert_int_equal(launch_moved_retire(&l), 0);         /* once */
}

/* No record could be written: said, and the TPM's copy still goes. */
static void test_record_failed_still_retired(void **st)
{
	int fd = dirfd_rc;

	(void)st;
	dirfd_rc = -EROFS;
	assert_int_equal(launch_moved_write(&l, &moved_to, sha), -EROFS);
	dirfd_rc = fd;
	assert_false(exists(guest, LAUNCH_MOVED_FILE));
	assert_false(exists(guest, LAUNCH_MOVED_FILE ".new"));
	assert_int_equal(launch_moved_retire(&l), 0);
	assert_false(exists(guest, "vtpm/tpm2-00.permall"));
	assert_false(exists(keys, "g1.key"));
}

static void test_without_vtpm(void **st)
{
	(void)st;
	l.cfg.vtpm = false;
	assert_int_equal(launch_moved_write(&l, &moved_to, sha), 0);
	assert_int_equal(launch_moved_retire(&l), 0);
	assert_true(exists(guest, "vtpm/tpm2-00.permall"));   /* not its to remove */
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
	l.cfg.vtpm = true;
}

static void test_peer_words_cleaned(void **st)
{
	struct migrate_progress p = moved_to;
	char text[LAUNCH_MOVED_MAX + 1];

	(void)st;
	snprintf(p.peer, sizeof(p.peer), "cn=evil\nto tcp:attacker\x1b[2J");
	assert_int_equal(launch_moved_write(&l, &p, sha), 0);
	slurp(guest, LAUNCH_MOVED_FILE, text, sizeof(text));
	assert_null(strstr(text, "\nto tcp:attacker"));
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "cn=evil?to tcp:attacker?[2J\n"));
}

/* A record planted or damaged (binary, over-long, empty) still refuses. */
static void test_hostile_record(void **st)
{
	static char big[3 * LAUNCH_MOVED_MAX];

	(void)st;
	memset(big, 0xff, sizeof(big));
	put(guest, LAUNCH_MOVED_FILE, big, sizeof(big), 0600);
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
	put(guest, LAUNCH_MOVED_FILE, "", 0, 0600);
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
	put(guest, LAUNCH_MOVED_FILE, "\n\n\n", 3, 0600);
	assert_int_equal(launch_moved_check(&l, dirfd_rc), -EEXIST);
}

static void test_cleared_when_back(void **st)
{
	(void)st;
	assert_int_equal(launch_moved_write(&l, &moved_to, sha), 0);
	launch_moved_clear(&l);
	assert_false(exists(guest, LAUNCH_MOVED_FILE));
	assert_int_equal(launch_moved_check(&l, dirfd_rc), 0);
	launch_moved_clear(&l);                               /* nothing to clear */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_then_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire_after_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_failed_still_retired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_vtpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_words_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleared_when_back, setup, teardown),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
