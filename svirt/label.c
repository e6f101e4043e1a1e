/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Labelling by file descriptor.  A path is opened once, without following
 * a symlink, and everything after that (type check, old label, new label,
 * read-back) uses the descriptor, so nothing can swap the file in between.
 * The old label is in the registry, on disk, before the new one is set.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

int svirt_label_get(int fd, char *buf, size_t len)
{
	char *con = NULL;
	int rc = 0;

	if (fgetfilecon_raw(fd, &con) < 0)
		return -errno;
	if (strlen(con) >= len || !svirt_label_valid(con))
		rc = -EINVAL;
	else
		strcpy(buf, con);
	freecon(con);
	return rc;
}

int svirt_label_set(int fd, const char *label, const char *what)
{
	char back[SVIRT_LABEL_MAX];
	int rc;

	if (fsetfilecon_raw(fd, label) < 0) {
		rc = -errno;
		log_err("cannot label %s %s: %s", what, label, strerror(errno));
		return rc;
	}
	rc = svirt_label_get(fd, back, sizeof(back));
	if (rc || strcmp(back, label)) {
		log_err("%s: label read back is %s, not %s; refusing", what,
			rc ? "unreadable" : back, label);
		return -EPERM;
	}
	return 0;
}

/*
 * Files the vTPM created in its state directory while it ran (swtpm
 * replaces its state by writing a new file and renaming it over the old)
 * carry the guest's label but no record.  Every regular file directly in
 * the directory that still has exactly the label Bulwark gave the directory
 * gets the directory's original label, as a file created there by the
 * host would have had.  Anything else is left alone.
 */
static int restore_new_files(int dirfd, const struct svirt_file_rec *rec)
{
	char cur[SVIRT_LABEL_MAX];
	struct dirent *de;
	struct stat st;
	int dfd, fd, rc, first = 0;
	DIR *d;

	dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		rc = -errno;
		if (dfd >= 0)
			close(dfd);
		log_err("%s: cannot list the vTPM state: %s", rec->path, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			continue; /* gone, or a symlink: never followed */
		if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
		    !svirt_label_get(fd, cur, sizeof(cur)) && !strcmp(cur, rec->applied)) {
			rc = svirt_label_set(fd, rec->orig, de->d_name);
			if (!rc)
				log_info("%s/%s (made by the vTPM) labelled %s", rec->path,
					 de->d_name, rec->orig);
			else if (!first)
				first = rc;
		}
		close(fd);
	}
	closedir(d);
	return first;
}

int svirt_restore_rec(int fd, const struct svirt_file_rec *rec)
{
	char cur[SVIRT_LABEL_MAX];
	struct stat st;
	int rc;

	rc = svirt_label_get(fd, cur, sizeof(cur));
	if (rc)
		return rc;
	if (rec->kind == SVIRT_OBJ_VTPM_STATE && fstat(fd, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		rc = restore_new_files(fd, rec);
		if (rc)
			return rc;
	}
	if (strcmp(cur, rec->applied)) {
		log_warn("%s: label changed since Bulwark set it (now %s); "
			 "leaving it", rec->path, cur);
		return 0;
	}
	return svirt_label_set(fd, rec->orig, rec->path);
}

/* After a crash: the path must still name the same inode. */
int svirt_restore_path(const struct svirt_file_rec *rec)
{
	struct stat st;
	int fd, rc;

	fd = open(rec->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			log_info("%s is gone; nothing to restore", rec->path);
			return 0;
		}
		log_err("cannot open %s to restore its label: %s", rec->path,
			strerror(errno));
		return -errno;
	}
	rc = fstat(fd, &st) ? -errno : 0;
	if (!rc && ((uint64_t)st.st_dev != rec->dev || (uint64_t)st.st_ino != rec->ino))
		log_warn("%s is now another file; not touching it", rec->path);
	else if (!rc)
		rc = svirt_restore_rec(fd, rec);
	close(fd);
	return rc;
}

const struct svirt_file_rec *svirt_find_file(const struct svirt_entry *live,
					     size_t nlive, const char *self,
					     uint64_t dev, uint64_t ino,
					     const char **owner)
{
	for (size_t i = 0; i < nlive; i++) {
		if (self && !strcmp(live[i].name, self))
			continue;
		for (uint16_t j = 0; j < live[i].nfiles; j++)
			if (live[i].files[j].dev == dev && live[i].files[j].ino == ino) {
				if (owner)
					*owner = live[i].name;
				return &live[i].files[j];
			}
	}
	return NULL;
}

int svirt_reclaim(struct svirt_reg *r, const struct svirt_entry *e,
		  const struct svirt_entry *live, size_t nlive)
{
	int rc, first = 0;

	for (int i = (int)e->nfiles - 1; i >= 0; i--) {
		const struct svirt_file_rec *rec = &e->files[i];

		if (svirt_find_file(live, nlive, e->name, rec->dev, rec->ino, NULL))
			continue; /* a live member of its group still uses it */
		rc = svirt_restore_path(rec);
		if (rc && !first)
			first = rc;
	}
	if (first) {
		log_err("guest %s: some labels could not be restored; keeping "
			"its registry entry for the next gc", e->name);
		return first;
	}
	return svirt_reg_remove(r, e->name);
}
