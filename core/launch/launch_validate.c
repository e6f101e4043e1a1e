/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark run`, the checks: every input is validated and every file the
 * guest gets is opened, typed and identified here, BEFORE the first change
 * to the host (sVirt registry entry, label, state folder, jail root, swtpm).
 * core/launch_run.c acts only after launch_validate() returned 0; what it
 * opened is closed again by run_close() on failure, and nothing else was
 * touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/launch/launcher.h"
#include "core/path.h"
#include "core/util.h"
#include "core/vmm_abi.h"

/* One file the guest gets: its flag, path, whether it is written. */
struct launch_input {
	const char *what, *path;
	const struct stat *st;
	bool rw, boot;
};

static size_t launch_inputs_list(const struct launch *l, struct launch_input *in)
{
	size_t n = 0;

	in[n++] = (struct launch_input){ "--kernel", l->cfg.kernel, &l->kernel_st,
					 false, true };
	if (l->cfg.initrd[0])
		in[n++] = (struct launch_input){ "--initrd", l->cfg.initrd,
						 &l->initrd_st, false, true };
	for (uint32_t i = 0; i < l->cfg.ndisks; i++)
		in[n++] = (struct launch_input){ "--disk", l->cfg.disks[i].path,
						 &l->disk_st[i], !l->cfg.disks[i].readonly,
						 false };
	return n;
}

/* Kernel, initrd and disks through path_open_regular (no symlink in any
 * component, no FIFO, socket, device or kernel interface), except that a
 * disk may be a block device (path_open_disk: a LUN two hosts share). */
static int launch_inputs_open(struct launch *l)
{
	int fd = path_open_regular(l->cfg.kernel, O_RDONLY, "--kernel", &l->kernel_st);

	if (fd < 0)
		return fd;
	l->kernel_fd = fd;
	if (l->cfg.initrd[0]) {
		fd = path_open_regular(l->cfg.initrd, O_RDONLY, "--initrd", &l->initrd_st);
		if (fd < 0)
			return fd;
		l->initrd_fd = fd;
	}
	for (uint32_t i = 0; i < l->cfg.ndisks; i++) {
		const struct config_disk *d = &l->cfg.disks[i];

		fd = path_open_disk(d->path, d->readonly ? O_RDONLY : O_RDWR, "--disk",
				    &l->disk_st[i]);
		if (fd < 0)
			return fd;
		l->disk_fd[i] = fd;
	}
	return 0;
}

/* One file is attached once; the kernel or initrd is never a writable disk.
 * By (st_dev, st_ino) of the opened fds, so no second name hides it. */
static int launch_inputs_distinct(const struct launch *l)
{
	struct launch_input in[2 + CONFIG_MAX_DISKS];
	size_t n = launch_inputs_list(l, in);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			if (!path_same_file(in[i].st, in[j].st))
				continue;
			if ((in[i].boot && in[j].rw) || (in[j].boot && in[i].rw))
				log_err("%s %s is the %s file %s: a kernel or initrd is "
					"never a writable disk", in[j].what, in[j].path,
					in[i].what, in[i].path);
			else
				log_err("%s %s and %s %s are the same file: a file is "
					"attached once", in[i].what, in[i].path,
					in[j].what, in[j].path);
			return -EINVAL;
		}
	return 0;
}

/* The state folders: where they exist already, real directories reached
 * without a symlink (they are created after the checks otherwise). */
static int launch_dirs_check(const struct launch *l)
{
	const char *dirs[] = { l->opt.state_dir, l->opt.vtpm_dir, l->opt.key_dir,
			       l->opt.ca_dir };
	static const char *const what[] = { "--state-dir", "--vtpm-state-dir",
					    "--key-dir", "--ek-ca-dir" };
	struct stat st;
	int fd;

	static_assert(ARRAY_SIZE(dirs) == ARRAY_SIZE(what), "one name per folder");
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!dirs[i] || (lstat(dirs[i], &st) && errno == ENOENT))
			continue;
		fd = path_open_dir(dirs[i], what[i], NULL);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

/* The jail root holds nothing the guest uses (its files by their real
 * names, the state folders as given and as resolved). */
static int launch_jail_root_check(const struct launch *l)
{
	static char names[2 + CONFIG_MAX_DISKS + 8][PATH_MAX];
	const char *used[ARRAY_SIZE(names)];
	const char *dirs[] = { l->opt.state_dir, l->opt.vtpm_dir, l->opt.key_dir,
			       l->opt.ca_dir };
	int fds[2 + CONFIG_MAX_DISKS];
	size_t n = 0, nfd = 0;

	fds[nfd++] = l->kernel_fd;
	fds[nfd++] = l->initrd_fd;
	for (uint32_t i = 0; i < l->cfg.ndisks; i++)
		fds[nfd++] = l->disk_fd[i];
	for (size_t i = 0; i < nfd; i++)
		if (fds[i] >= 0 && !path_of_fd(fds[i], names[n], sizeof(names[n])))
			n++;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!dirs[i])
			continue;
		snprintf(names[n++], sizeof(names[0]), "%s", dirs[i]);
		if (realpath(dirs[i], names[n]))
			n++;
	}
	for (size_t i = 0; i < n; i++)
		used[i] = names[i];
	return jail_root_check(l->opt.jail_root, !strcmp(l->opt.jail_root, JAIL_ROOT_DEFAULT),
			       used, n);
}

static int launch_open_dev(const char *path, int flags, const char *what)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		log_err("%s: %s: %s", what, path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* bulwark-vmm relative to our own executable, opened now and exec'd by fd
 * later: the bytes measured are the bytes run.  Two layouts, both fixed
 * relative to the launcher (no search path, no flag): installed,
 * BIN/../libexec/bulwark/bulwark-vmm (make install, the Debian package); and
 * the build tree, bulwark-vmm beside bulwark.  The installed one wins; the
 * one beside is tried only when the installed one does not exist. */
static int launch_open_vmm(void)
{
	static const char *const rel[] = { "../libexec/bulwark/", "" };
	char self[PATH_MAX], path[PATH_MAX + 64];
	const char *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd = -ENOENT;

	if (n <= 0) {
		log_err("cannot find our own executable: %s", strerror(errno));
		return -ENOENT;
	}
	self[n] = '\0';
	dir = dirname(self);
	for (size_t i = 0; i < ARRAY_SIZE(rel) && fd == -ENOENT; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, rel[i], VMM_BINARY);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		fd = fd < 0 ? -errno : fd;
	}
	if (fd < 0)
		log_err("VMM binary: %s: %s", path, strerror(-fd));
	return fd;
}

/* Files: opened, typed, distinct, the kernel and initrd headers checked. */
static int launch_validate_files(struct launch *l)
{
	int rc = launch_inputs_open(l);

	if (!rc)
		rc = launch_inputs_distinct(l);
	if (!rc)
		rc = boot_plan(&l->cfg, l->kernel_fd, l->initrd_fd, &l->plan);
	if (!rc)
		rc = launch_dirs_check(l);
	if (!rc)
		rc = launch_jail_root_check(l);
	return rc;
}

int launch_validate(struct launch *l)
{
	int rc = launch_validate_files(l);

	if (!rc)
		rc = config_canonical(&l->cfg, &l->canonical, &l->canonical_len);
	if (!rc)
		rc = acpi_build(&l->cfg, &l->acpi);
	if (!rc)
		l->vmm_fd = rc = launch_open_vmm();
	if (rc >= 0)
		l->kvm_fd = rc = launch_open_dev("/dev/kvm", O_RDWR, "KVM");
	/* A tap that does not exist would be created by TUNSETIFF, but only
	 * for as long as this fd lives: nothing stays on the host. */
	if (rc >= 0 && l->cfg.net)
		l->tap_fd = rc = launch_tap_open(l->cfg.tap);
	if (rc >= 0)
		rc = launch_filters_build(l);
	/* Reads SELinux's state only: refuses permissive or disabled SELinux
	 * unless --svirt=off. */
	if (!rc)
		rc = launch_svirt_probe(l);
	return rc < 0 ? rc : 0;
}

/*
 * After the registry entry exists: each file relabelled through svirt
 * (which opens the path again and records the old label), then checked to
 * be the very file validated; the VMM gets the validated fd.
 */
int launch_inputs_label(struct launch *l)
{
	struct launch_input in[2 + CONFIG_MAX_DISKS];
	size_t n = launch_inputs_list(l, in);
	struct stat st;
	int fd, rc = 0;

	if (!l->svm)
		return 0;
	for (size_t i = 0; !rc && i < n; i++) {
		/* A migration's target: the disks at the hand-over level while
		 * the source runs (svirt.h), claimed at the commit point. */
		if (l->incoming && !in[i].boot)
			fd = launch_svirt_handover(l, in[i].path, in[i].rw ? SVIRT_OBJ_IMAGE :
						   SVIRT_OBJ_CONTENT, in[i].what);
		else
			fd = launch_svirt_open(l, in[i].path, in[i].rw ? SVIRT_OBJ_IMAGE :
					       SVIRT_OBJ_CONTENT, in[i].what);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) || !path_same_file(&st, in[i].st)) {
			log_err("%s %s: changed since it was checked", in[i].what, in[i].path);
			rc = -ESTALE;
		}
		close(fd);
	}
	return rc;
}
