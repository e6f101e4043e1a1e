/* SPDX-License-Identifier: Apache-2.0 */
/* Relabelling a guest's files at start and restoring them at stop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

static int target_label(const struct svirt_vm *vm, enum svirt_obj kind,
			const char *group, char *buf, size_t len)
{
	struct svirt_cats one = { 0 };
	const struct svirt_cats *cats = &vm->e->priv;

	if ((unsigned)kind >= SVIRT_OBJ_COUNT || (kind == SVIRT_OBJ_SHARED) != !!group)
		return -EINVAL;
	if (kind == SVIRT_OBJ_SHARED) {
		uint16_t i;

		for (i = 0; i < vm->e->ngroups; i++)
			if (!strcmp(vm->e->groups[i].name, group))
				break;
		if (i == vm->e->ngroups) {
			log_err("guest %s is not in shared-disk group %s",
				vm->e->name, group);
			return -EINVAL;
		}
		svirt_cats_add(&one, vm->e->groups[i].cat);
		cats = &one;
	}
	return svirt_label_compose(vm->cfg.user, vm->cfg.object_role,
				   vm->cfg.obj_type[kind], cats, buf, len);
}

static int open_checked(const char *path, enum svirt_obj kind, int *fd,
			struct stat *st)
{
	int flags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	bool dir = kind == SVIRT_OBJ_VTPM_STATE;

	if (path[0] != '/' || strlen(path) >= SVIRT_PATH_MAX || strchr(path, '\n')) {
		log_err("%s: path must be absolute, without newlines, under %d bytes",
			path, SVIRT_PATH_MAX);
		return -EINVAL;
	}
	flags |= dir ? O_RDONLY | O_DIRECTORY :
		kind == SVIRT_OBJ_CONTENT ? O_RDONLY : O_RDWR;
	*fd = open(path, flags);
	if (*fd < 0) {
		int e = errno;

		log_err("%s: %s", path, e == ELOOP ? "is a symlink; refusing" :
			e == ENOTDIR && dir ? "not a directory" : strerror(e));
		return -e;
	}
	/* A file is a regular file, or a disk's block device (a LUN that
	 * hosts share): its node is labelled, as a file is. */
	if (fstat(*fd, st) || (dir ? !S_ISDIR(st->st_mode) :
			       !(S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))) ||
	    fcntl(*fd, F_SETFL, 0)) {
		log_err("%s: not a %s", path, dir ? "directory" : "regular file or block device");
		close(*fd);
		*fd = -1;
		return -EINVAL;
	}
	return 0;
}

/* The label to restore: the file's own, or for a shared disk another live
 * member already relabelled, the one that member recorded. */
static int original_label(const struct svirt_vm *vm, int fd, const struct stat *st,
			  enum svirt_obj kind, const char *label,
			  const struct svirt_entry *live, size_t nlive, char *orig)
{
	const struct svirt_file_rec *other;
	const char *owner = NULL;

	if (svirt_find_file(vm->e, 1, NULL, st->st_dev, st->st_ino, NULL))
		return -EEXIST;
	other = svirt_find_file(live, nlive, vm->e->name, st->st_dev, st->st_ino,
				&owner);
	if (other) {
		if (kind != SVIRT_OBJ_SHARED || other->kind != kind ||
		    strcmp(other->applied, label)) {
			log_err("%s is in use by guest %s", other->path, owner);
			return -EBUSY;
		}
		strcpy(orig, other->orig);
		return 0;
	}
	return svirt_label_get(fd, orig, SVIRT_LABEL_MAX);
}

/* Under the registry lock: record the old label durably, then relabel. */
static int record_and_set(struct svirt_vm *vm, int fd, const struct stat *st,
			  const char *path, enum svirt_obj kind, const char *label)
{
	struct svirt_entry *live = NULL, *e = vm->e;
	struct svirt_file_rec *rec;
	struct svirt_reg r;
	size_t nlive = 0;
	int rc, repaired;

	if (e->nfiles >= ARRAY_SIZE(e->files)) {
		log_err("guest %s: more than %d labelled files", e->name,
			SVIRT_FILES_MAX);
		return -E2BIG;
	}
	rec = &e->files[e->nfiles];
	memset(rec, 0, sizeof(*rec));
	rc = svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc)
		return rc;
	rc = svirt_reg_live(&r, &vm->cfg, e->boot_id, &live, &nlive, &repaired);
	rc = rc ?: original_label(vm, fd, st, kind, label, live, nlive, rec->orig);
	if (rc == -EEXIST)
		log_err("%s is labelled twice for guest %s", path, e->name);
	if (rc)
		goto out;
	rec->dev = st->st_dev;
	rec->ino = st->st_ino;
	rec->kind = kind;
	snprintf(rec->applied, sizeof(rec->applied), "%s", label);
	snprintf(rec->path, sizeof(rec->path), "%s", path);
	e->nfiles++;
	rc = svirt_reg_store(&r, e);     /* durable before the relabel */
	rc = rc ?: svirt_label_set(fd, label, path);
	if (rc) {
		svirt_label_set(fd, rec->orig, path);
		e->nfiles--;
		svirt_reg_store(&r, e);
		goto out;
	}
	vm->fds[e->nfiles - 1] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
out:
	free(live);
	svirt_reg_close(&r);
	return rc;
}

/* The vTPM state directory's files: regular files only, each its own record. */
static int label_dir_files(struct svirt_vm *vm, int dirfd, const char *dirpath,
			   const char *label)
{
	char path[SVIRT_PATH_MAX];
	struct dirent *de;
	struct stat st;
	int dfd, fd, rc = 0;
	DIR *d;

	dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dirfd, de->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
			    O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name) >=
			    (int)sizeof(path)) {
			log_err("%s/%s: not a regular file; the vTPM state "
				"directory may hold nothing else", dirpath, de->d_name);
			rc = -EINVAL;
		} else {
			rc = record_and_set(vm, fd, &st, path, SVIRT_OBJ_VTPM_STATE, label);
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return rc;
}

int svirt_vm_label_path(struct svirt_vm *vm, const char *path,
			enum svirt_obj kind, const char *group, int *fd_out)
{
	char label[SVIRT_LABEL_MAX];
	struct stat st;
	int fd, rc;

	*fd_out = -1;
	rc = target_label(vm, kind, group, label, sizeof(label));
	if (rc)
		return rc;
	rc = open_checked(path, kind, &fd, &st);
	if (rc)
		return rc;
	rc = record_and_set(vm, fd, &st, path, kind, label);
	if (!rc && kind == SVIRT_OBJ_VTPM_STATE)
		rc = label_dir_files(vm, fd, path, label);
	if (rc) {
		close(fd);
		return rc;
	}
	log_info("%s labelled %s (%s)", path, label, svirt_obj_name(kind));
	*fd_out = fd;
	return 0;
}

/* Restores every record (newest first) no other live guest still holds. */
static int restore_all(struct svirt_vm *vm, const struct svirt_entry *live,
		       size_t nlive)
{
	int rc, first = 0;

	for (int i = (int)vm->e->nfiles - 1; i >= 0; i--) {
		const struct svirt_file_rec *rec = &vm->e->files[i];

		if (svirt_find_file(live, nlive, vm->e->name, rec->dev, rec->ino, NULL))
			continue;
		rc = vm->fds[i] >= 0 ? svirt_restore_rec(vm->fds[i], rec) :
				       svirt_restore_path(rec);
		if (rc && !first)
			first = rc;
	}
	return first;
}

int svirt_vm_release(struct svirt_vm *vm)
{
	struct svirt_entry *live = NULL;
	struct svirt_reg r;
	size_t nlive = 0;
	int rc, repaired;

	rc = svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc)
		goto out;
	rc = svirt_reg_live(&r, &vm->cfg, vm->e->boot_id, &live, &nlive, &repaired);
	rc = rc ?: restore_all(vm, live, nlive);
	if (rc)
		log_err("guest %s: not every label was restored; its entry stays "
			"for `bulwark gc`", vm->e->name);
	else
		rc = svirt_reg_remove(&r, vm->e->name);
	free(live);
	svirt_reg_close(&r);
out:
	svirt_vm_forget(vm);
	return rc;
}

int svirt_vm_label_handover(struct svirt_vm *vm, const char *path, enum svirt_obj kind,
			    int *fd_out)
{
	const struct svirt_cats none = { 0 };
	char label[SVIRT_LABEL_MAX];
	struct stat st;
	int fd, rc;

	*fd_out = -1;
	if (kind != SVIRT_OBJ_IMAGE && kind != SVIRT_OBJ_CONTENT)
		return -EINVAL;
	rc = svirt_label_compose(vm->cfg.user, vm->cfg.object_role, vm->cfg.obj_type[kind],
				 &none, label, sizeof(label));
	rc = rc < 0 ? rc : open_checked(path, kind, &fd, &st);
	if (rc < 0)
		return rc;
	rc = record_and_set(vm, fd, &st, path, kind, label);
	if (rc) {
		close(fd);
		return rc;
	}
	log_info("%s labelled %s (hand-over of a migration)", path, label);
	*fd_out = fd;
	return 0;
}

/* The record of the file behind FD, or -1. */
static int record_of(const struct svirt_vm *vm, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	for (uint16_t i = 0; i < vm->e->nfiles; i++)
		if (vm->e->files[i].dev == (uint64_t)st.st_dev &&
		    vm->e->files[i].ino == (uint64_t)st.st_ino)
			return i;
	return -1;
}

int svirt_vm_claim(struct svirt_vm *vm, int fd)
{
	char label[SVIRT_LABEL_MAX], was[SVIRT_LABEL_MAX];
	struct svirt_file_rec *rec;
	struct svirt_reg r;
	int i = record_of(vm, fd), rc;

	if (i < 0)
		return -ENOENT;
	rec = &vm->e->files[i];
	rc = target_label(vm, rec->kind, NULL, label, sizeof(label));
	rc = rc < 0 ? rc : svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc < 0)
		return rc;
	snprintf(was, sizeof(was), "%s", rec->applied);
	snprintf(rec->applied, sizeof(rec->applied), "%s", label);
	rc = svirt_reg_store(&r, vm->e);        /* durable before the relabel */
	if (vm->fds[i] >= 0)
		fd = vm->fds[i];     /* ours, opened to label (FD may be O_PATH) */
	rc = rc ?: svirt_label_set(fd, label, rec->path);
	if (rc) {
		snprintf(rec->applied, sizeof(rec->applied), "%s", was);
		svirt_label_set(fd, was, rec->path);
		svirt_reg_store(&r, vm->e);
	} else {
		log_info("%s labelled %s (claimed)", rec->path, label);
	}
	svirt_reg_close(&r);
	return rc;
}

/*
 * The target relabels the storage it opens.  A regular file is the same
 * inode on both hosts (shared storage) or one host's: its label is now the
 * target's and stays, even when it reads the same as ours (a static label,
 * the same on both hosts: putting ours back would take the target's
 * guest's disk away).  A device node is this host's own (devtmpfs): still
 * at this guest's label, the target did not relabel it (another host's
 * node of the LUN, or the target's node here at another pair), and this
 * host may give the pair to another guest later: its old label goes back.
 * By our own descriptor, or the path when it is still the same inode.
 */
static void disown_node(struct svirt_vm *vm, int i)
{
	const struct svirt_file_rec *rec = &vm->e->files[i];
	char cur[SVIRT_LABEL_MAX];
	struct stat st;
	int fd = vm->fds[i], own = -1;

	if (fd < 0)
		own = fd = open(rec->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK);
	if (fd >= 0 && !fstat(fd, &st) && S_ISBLK(st.st_mode) &&
	    (own < 0 || ((uint64_t)st.st_dev == rec->dev && (uint64_t)st.st_ino == rec->ino)) &&
	    !svirt_label_get(fd, cur, sizeof(cur)) && !strcmp(cur, rec->applied)) {
		if (!svirt_label_set(fd, rec->orig, rec->path))
			log_info("%s: handed over; not relabelled by the target (this host's "
				 "own device node of shared storage): labelled %s again",
				 rec->path, rec->orig);
		else
			log_err("%s: handed over; its label %s could not be restored",
				rec->path, cur);
	} else {
		log_info("%s: handed over, its label stays (guest %s)", rec->path,
			 vm->e->name);
	}
	if (own >= 0)
		close(own);
}

int svirt_vm_disown(struct svirt_vm *vm, int fd)
{
	struct svirt_entry *e = vm->e;
	struct svirt_reg r;
	int i = record_of(vm, fd), rc;

	if (i < 0)
		return -ENOENT;
	rc = svirt_reg_open(vm->cfg.registry_dir, &r);
	if (rc)
		return rc;
	disown_node(vm, i);
	if (vm->fds[i] >= 0)
		close(vm->fds[i]);
	memmove(&e->files[i], &e->files[i + 1], (e->nfiles - i - 1) * sizeof(e->files[0]));
	memmove(&vm->fds[i], &vm->fds[i + 1], (e->nfiles - i - 1) * sizeof(vm->fds[0]));
	e->nfiles--;
	vm->fds[e->nfiles] = -1;
	rc = svirt_reg_store(&r, e);
	svirt_reg_close(&r);
	return rc;
}

int svirt_vm_label_memfd(const struct svirt_vm *vm, int fd)
{
	char label[SVIRT_LABEL_MAX];
	int rc;

	rc = svirt_label_compose(vm->cfg.user, vm->cfg.object_role,
				 vm->cfg.memfd_type, &vm->e->priv, label,
				 sizeof(label));
	if (rc < 0)
		return rc;
	return svirt_label_set(fd, label, "memfd");
}
