/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt labelling logic: what is opened, refused, recorded and restored.
 * The build host runs no SELinux, so fgetfilecon_raw/fsetfilecon_raw are
 * wrapped by a table of labels keyed by device and inode: this tests
 * Bulwark's bookkeeping, not the kernel (tests/lab/test-svirt-enforce does
 * that with the policy enforcing).
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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

#define DEFAULT_LABEL "system_u:object_r:tmpfs_t:s0"

static struct {
	dev_t dev;
	ino_t ino;
	char label[SVIRT_LABEL_MAX];
} labels[64];
static size_t nlabels;
static int fail_set; /* make the next fsetfilecon_raw fail */

static char *find(int fd, int create)
{
	struct stat st;

	if (fstat(fd, &st))
		return NULL;
	for (size_t i = 0; i < nlabels; i++)
		if (labels[i].dev == st.st_dev && labels[i].ino == st.st_ino)
			return labels[i].label;
	if (!create || nlabels == ARRAY_SIZE(labels))
		return NULL;
	labels[nlabels].dev = st.st_dev;
	labels[nlabels].ino = st.st_ino;
	strcpy(labels[nlabels].label, DEFAULT_LABEL);
	return labels[nlabels++].label;
}

int __wrap_fgetfilecon_raw(int fd, char **con);
int __wrap_fgetfilecon_raw(int fd, char **con)
{
	char *l = find(fd, 1);

	if (!l)
		return errno = EBADF, -1;
	*con = strdup(l);
	return (int)strlen(l) + 1;
}

int __wrap_fsetfilecon_raw(int fd, const char *con);
int __wrap_fsetfilecon_raw(int fd, const char *con)
{
	char *l = find(fd, 1);

	if (fail_set) {
		fail_set = 0;
		return errno = EACCES, -1;
	}
	if (!l)
		return errno = EBADF, -1;
	snprintf(l, SVIRT_LABEL_MAX, "%s", con);
	return 0;
}

static char dir[64];
static struct svirt_config cfg;

static const char *label_of(const char *path)
{
	static char buf[SVIRT_LABEL_MAX];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	char *l;

	assert_true(fd >= 0);
	l = find(fd, 1);
	close(fd);
	snprintf(buf, sizeof(buf), "%s", l);
	return buf;
}

static const char *mkfile(const char *name)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_svirt_label.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	svirt_config_default(&cfg);
	snprintf(cfg.registry_dir, sizeof(cfg.registry_dir), "%s/reg", dir);
	nlabels = 0;
	log_set_level(LOG_ERR);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_label_and_restore(void **state)
{
	char img[128], kern[128], expect[SVIRT_LABEL_MAX], lvl[64];
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "%s", mkfile("disk.img"));
	snprintf(kern, sizeof(kern), "%s", mkfile("vmlinuz"));
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm), 0);
	svirt_cats_format(svirt_vm_cats(vm), lvl, sizeof(lvl));
	assert_int_equal(svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd), 0);
	assert_true(fcntl(fd, F_GETFL) & O_RDWR);
	close(fd);
	snprintf(expect, sizeof(expect), "system_u:object_r:bulwark_image_t:%s", lvl);
	assert_string_equal(label_of(img), expect);
	assert_int_equal(svirt_vm_label_path(vm, kern, SVIRT_OBJ_CONTENT, NULL, &fd), 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	snprintf(expect, sizeof(expect), "system_u:object_r:bulwark_content_t:%s", lvl);
	assert_string_equal(label_of(kern), expect);
	/* Twice for one guest: refused. */
	assert_int_equal(svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd), -EEXIST);
	/* A second guest cannot take the first one's kernel. */
	struct svirt_vm *vm2;
	assert_int_equal(svirt_vm_create(&cfg, "b", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm2), 0);
	assert_int_equal(svirt_vm_label_path(vm2, kern, SVIRT_OBJ_CONTENT, NULL, &fd), -EBUSY);
	assert_int_equal(svirt_vm_release(vm2), 0);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(img), DEFAULT_LABEL);
	assert_string_equal(label_of(kern), DEFAULT_LABEL);
}

/* Live migration's source (issue 18): a disk handed over keeps the label
 * the target gave it when the source releases; the rest is restored; the
 * registry entry (reloaded) no longer names the disk. */
static void test_disown(void **state)
{
	char img[128], kern[128], target[] = "system_u:object_r:bulwark_image_t:s0:c7,c9";
	struct svirt_entry *list = NULL;
	struct svirt_reg r;
	struct svirt_vm *vm;
	size_t n = 0;
	int fd, kfd, other;

	(void)state;
	snprintf(img, sizeof(img), "%s", mkfile("disk.img"));
	snprintf(kern, sizeof(kern), "%s", mkfile("vmlinuz"));
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm), 0);
	assert_int_equal(svirt_vm_label_path(vm, kern, SVIRT_OBJ_CONTENT, NULL, &kfd), 0);
	assert_int_equal(svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd), 0);
	other = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(svirt_vm_disown(vm, other), -ENOENT);
	close(other);
	/* the target's launcher relabels the shared disk for its own pair */
	assert_int_equal(__wrap_fsetfilecon_raw(fd, target), 0);
	assert_int_equal(svirt_vm_disown(vm, fd), 0);
	assert_int_equal(svirt_vm_disown(vm, fd), -ENOENT);
	assert_int_equal(svirt_reg_open(cfg.registry_dir, &r), 0);
	assert_int_equal(svirt_reg_load(&r, &list, &n), 0);
	svirt_reg_close(&r);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].nfiles, 1);
	assert_string_equal(list[0].files[0].path, kern);
	free(list);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(img), target);
	assert_string_equal(label_of(kern), DEFAULT_LABEL);
	close(fd);
	close(kfd);
}

/* Two hosts sharing a LUN: each has its own device node of it, so the
 * target relabelled its node, not this one.  This host's node still at
 * the guest's pair gets its old label back at the hand-over (a later
 * guest here may get this pair).  A block node of its own in the test's
 * folder (loop major 7, minor 0: openable unbound). */
static void test_disown_other_host(void **state)
{
	char img[128];
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "%s/lun-node", dir);
	if (mknod(img, S_IFBLK | 0600, makedev(7, 0)))
		fail_msg("mknod %s (block 7:0): %s (the unit tests run as root)", img,
			 strerror(errno));
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm), 0);
	assert_int_equal(svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd), 0);
	assert_string_not_equal(label_of(img), DEFAULT_LABEL);
	assert_int_equal(svirt_vm_disown(vm, fd), 0);
	assert_string_equal(label_of(img), DEFAULT_LABEL);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(img), DEFAULT_LABEL);
	close(fd);
}

/* A regular file on shared storage is one inode on both hosts: when the
 * target's label reads the same as ours (a static label, the same on both
 * hosts), it is the target's now and stays; so does it after the release. */
static void test_disown_same_label(void **state)
{
	char img[128], applied[SVIRT_LABEL_MAX];
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "%s", mkfile("shared-static.img"));
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm), 0);
	assert_int_equal(svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd), 0);
	snprintf(applied, sizeof(applied), "%s", label_of(img));
	assert_string_not_equal(applied, DEFAULT_LABEL);
	assert_int_equal(svirt_vm_disown(vm, fd), 0);
	assert_string_equal(label_of(img), applied);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(img), applied);
	close(fd);
}

/* Live migration's target (issue 18): a shared disk at s0 while both VMMs
 * hold it, then at the target's pair; released, the label it had before
 * (the source's) comes back; a failed claim leaves the hand-over label. */
static void test_handover_claim(void **state)
{
	char img[128], lvl[64], expect[SVIRT_LABEL_MAX];
	const char *src = "system_u:object_r:bulwark_image_t:s0:c1,c2";
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "%s", mkfile("shared.img"));
	fd = open(img, O_RDONLY);
	assert_int_equal(__wrap_fsetfilecon_raw(fd, src), 0);
	close(fd);
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm), 0);
	assert_int_equal(svirt_vm_label_handover(vm, img, SVIRT_OBJ_IMAGE, &fd), 0);
	assert_string_equal(label_of(img), "system_u:object_r:bulwark_image_t:s0");
	fail_set = 1;
	assert_int_equal(svirt_vm_claim(vm, fd), -EACCES);
	assert_string_equal(label_of(img), "system_u:object_r:bulwark_image_t:s0");
	assert_int_equal(svirt_vm_claim(vm, fd), 0);
	svirt_cats_format(svirt_vm_cats(vm), lvl, sizeof(lvl));
	snprintf(expect, sizeof(expect), "system_u:object_r:bulwark_image_t:%s", lvl);
	assert_string_equal(label_of(img), expect);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(img), src);
	close(fd);
}

static void test_refusals(void **state)
{
	char path[128], link[128];
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s", mkfile("disk.img"));
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm), 0);
	assert_int_equal(svirt_vm_label_path(vm, link, SVIRT_OBJ_IMAGE, NULL, &fd), -ELOOP);
	assert_int_equal(svirt_vm_label_path(vm, dir, SVIRT_OBJ_IMAGE, NULL, &fd), -EISDIR);
	assert_int_equal(svirt_vm_label_path(vm, "/dev/null", SVIRT_OBJ_CONTENT, NULL, &fd),
			 -EINVAL);
	assert_int_equal(svirt_vm_label_path(vm, "rel.img", SVIRT_OBJ_IMAGE, NULL, &fd),
			 -EINVAL);
	assert_int_equal(svirt_vm_label_path(vm, path, SVIRT_OBJ_VTPM_STATE, NULL, &fd),
			 -ENOTDIR);
	assert_int_equal(svirt_vm_label_path(vm, path, SVIRT_OBJ_SHARED, "nogroup", &fd),
			 -EINVAL);
	/* The kernel refuses the label: the old one stays, nothing recorded. */
	fail_set = 1;
	assert_int_equal(svirt_vm_label_path(vm, path, SVIRT_OBJ_IMAGE, NULL, &fd), -EACCES);
	assert_string_equal(label_of(path), DEFAULT_LABEL);
	assert_int_equal(svirt_vm_label_path(vm, path, SVIRT_OBJ_IMAGE, NULL, &fd), 0);
	close(fd);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_string_equal(label_of(path), DEFAULT_LABEL);
}

/* A group's disk: its category, kept while any member lives. */
static void test_shared_group(void **state)
{
	const char *groups[] = { "db" };
	char path[128], expect[SVIRT_LABEL_MAX];
	struct svirt_vm *a, *b;
	uint16_t cat;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s", mkfile("shared.img"));
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, groups,
					 1, &a), 0);
	assert_int_equal(svirt_vm_create(&cfg, "b", SVIRT_MODE_DYNAMIC, NULL, groups,
					 1, &b), 0);
	assert_int_equal(svirt_vm_cats(a)->n, 3);
	assert_int_equal(a->e->groups[0].cat, b->e->groups[0].cat);
	cat = a->e->groups[0].cat;
	assert_int_equal(svirt_vm_label_path(a, path, SVIRT_OBJ_SHARED, "db", &fd), 0);
	close(fd);
	assert_int_equal(svirt_vm_label_path(b, path, SVIRT_OBJ_SHARED, "db", &fd), 0);
	close(fd);
	snprintf(expect, sizeof(expect), "system_u:object_r:bulwark_image_t:s0:c%u",
		 (unsigned)cat);
	assert_string_equal(label_of(path), expect);
	assert_int_equal(svirt_vm_release(a), 0);
	assert_string_equal(label_of(path), expect);   /* b still runs */
	assert_int_equal(svirt_vm_release(b), 0);
	assert_string_equal(label_of(path), DEFAULT_LABEL);
}

/* The launcher is killed after labelling: gc restores by path. */
static void test_gc_after_kill(void **state)
{
	char img[128], sdir[128], sfile[160];
	int status, p[2];
	pid_t pid;

	(void)state;
	snprintf(img, sizeof(img), "%s", mkfile("disk.img"));
	snprintf(sdir, sizeof(sdir), "%s/tpm", dir);
	assert_int_equal(mkdir(sdir, 0700), 0);
	snprintf(sfile, sizeof(sfile), "%s", mkfile("tpm/tpm2-00.permall"));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct svirt_vm *vm;
		int fd, rc;

		rc = svirt_vm_create(&cfg, "k", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm);
		rc = rc ?: svirt_vm_label_path(vm, img, SVIRT_OBJ_IMAGE, NULL, &fd);
		rc = rc ?: svirt_vm_label_path(vm, sdir, SVIRT_OBJ_VTPM_STATE, NULL, &fd);
		/* Report the labels as this process sees them, then die. */
		dprintf(p[1], "%d %s\n", rc, find(open(sfile, O_RDONLY), 0) ?: "none");
		_exit(9);
	}
	close(p[1]);
	char line[SVIRT_LABEL_MAX + 16] = "";
	assert_true(read(p[0], line, sizeof(line) - 1) > 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 9);
	assert_non_null(strstr(line, "0 system_u:object_r:bulwark_vtpm_state_t:s0:c"));
	/* The child's label table died with it; what it recorded did not.
	 * Give this process the label the kernel would still show. */
	struct svirt_reg r;
	int fd;
	struct svirt_entry *list;
	size_t n;
	assert_int_equal(svirt_reg_open(cfg.registry_dir, &r), 0);
	assert_int_equal(svirt_reg_load(&r, &list, &n), 0);
	svirt_reg_close(&r);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].nfiles, 3);           /* image, dir, its file */
	assert_string_equal(list[0].files[0].orig, DEFAULT_LABEL);
	fd = open(img, O_RDONLY);
	snprintf(find(fd, 1), SVIRT_LABEL_MAX, "%s", list[0].files[0].applied);
	close(fd);
	free(list);
	assert_int_equal(svirt_gc(&cfg), 1);
	assert_string_equal(label_of(img), DEFAULT_LABEL);
}

/* Gives PATH the label LABEL in the wrapped label table. */
static void set_label(const char *path, const char *label)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW);

	assert_true(fd >= 0);
	snprintf(find(fd, 1), SVIRT_LABEL_MAX, "%s", label);
	close(fd);
}

/*
 * What a running vTPM does to its state directory: a new file (the kernel
 * gives it the directory's type and the vTPM's level, i.e. the label
 * Bulwark applied to the directory), and a state file replaced by rename.
 * Files with any other label and symlinks are not touched.
 */
static void vtpm_writes(const char *sdir, const char *applied)
{
	char tmp[160], perm[160], vol[160], other[160], lnk[160];

	snprintf(tmp, sizeof(tmp), "%s", mkfile("tpm/tmp"));
	snprintf(perm, sizeof(perm), "%s/tpm2-00.permall", sdir);
	snprintf(vol, sizeof(vol), "%s", mkfile("tpm/tpm2-00.volatilestate"));
	snprintf(other, sizeof(other), "%s", mkfile("tpm/other"));
	snprintf(lnk, sizeof(lnk), "%s/lnk", sdir);
	set_label(tmp, applied);
	assert_int_equal(rename(tmp, perm), 0);
	set_label(vol, applied);
	set_label(other, "system_u:object_r:other_t:s0");
	assert_int_equal(symlink(vol, lnk), 0);
}

static void assert_vtpm_restored(const char *sdir)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/tpm2-00.permall", sdir);
	assert_string_equal(label_of(path), DEFAULT_LABEL);
	snprintf(path, sizeof(path), "%s/tpm2-00.volatilestate", sdir);
	assert_string_equal(label_of(path), DEFAULT_LABEL);
	snprintf(path, sizeof(path), "%s/other", sdir);
	assert_string_equal(label_of(path), "system_u:object_r:other_t:s0");
	assert_string_equal(label_of(sdir), DEFAULT_LABEL);
}

/* Files the vTPM made while it ran are restored at a normal stop. */
static void test_vtpm_new_files(void **state)
{
	char sdir[128], applied[SVIRT_LABEL_MAX];
	struct svirt_vm *vm;
	int fd;

	(void)state;
	snprintf(sdir, sizeof(sdir), "%s/tpm", dir);
	assert_int_equal(mkdir(sdir, 0700), 0);
	mkfile("tpm/tpm2-00.permall");
	assert_int_equal(svirt_vm_create(&cfg, "a", SVIRT_MODE_DYNAMIC, NULL, NULL,
					 0, &vm), 0);
	assert_int_equal(svirt_vm_label_path(vm, sdir, SVIRT_OBJ_VTPM_STATE, NULL, &fd), 0);
	close(fd);
	snprintf(applied, sizeof(applied), "%s", label_of(sdir));
	assert_non_null(strstr(applied, ":bulwark_vtpm_state_t:s0:c"));
	vtpm_writes(sdir, applied);
	assert_int_equal(svirt_vm_release(vm), 0);
	assert_vtpm_restored(sdir);
}

/* The same after the launcher was killed: gc finds them by the path. */
static void test_vtpm_new_files_gc(void **state)
{
	char sdir[128], applied[SVIRT_LABEL_MAX] = "";
	int status, p[2];
	pid_t pid;

	(void)state;
	snprintf(sdir, sizeof(sdir), "%s/tpm", dir);
	assert_int_equal(mkdir(sdir, 0700), 0);
	mkfile("tpm/tpm2-00.permall");
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct svirt_vm *vm;
		int fd, rc;

		rc = svirt_vm_create(&cfg, "k", SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm);
		rc = rc ?: svirt_vm_label_path(vm, sdir, SVIRT_OBJ_VTPM_STATE, NULL, &fd);
		dprintf(p[1], "%s", rc ? "failed" : label_of(sdir));
		_exit(9);
	}
	close(p[1]);
	assert_true(read(p[0], applied, sizeof(applied) - 1) > 0);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 9);
	assert_non_null(strstr(applied, ":bulwark_vtpm_state_t:s0:c"));
	/* The kernel would still show the child's labels: so does the table. */
	set_label(sdir, applied);
	vtpm_writes(sdir, applied);
	assert_int_equal(svirt_gc(&cfg), 1);
	assert_vtpm_restored(sdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_label_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disown_other_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disown_same_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handover_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_after_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vtpm_new_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vtpm_new_files_gc, setup, teardown),
	};
	return cmocka_run_group_tests_name("svirt_label", tests, NULL, NULL);
}
