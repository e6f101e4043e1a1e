/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-wide registry of guests' categories and relabelled files: a
 * directory (default /var/lib/bulwark/svirt, root only), a lock file every
 * launcher takes with flock before it reads or changes anything, and one
 * file per guest, replaced atomically (write, fsync, rename, fsync the
 * directory) so a crash leaves the old or the new entry, never half of one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

#define ENTRY_PREFIX "vm."

static int mkdir_p(const char *dir)
{
	char buf[SVIRT_PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf) || dir[0] != '/')
		return -EINVAL;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

int svirt_reg_open(const char *dir, struct svirt_reg *r)
{
	struct stat st;
	int rc;

	r->dirfd = r->lockfd = -1;
	rc = mkdir_p(dir);
	if (rc) {
		log_err("cannot create the registry %s: %s", dir, strerror(-rc));
		return rc;
	}
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->dirfd < 0 || fstat(r->dirfd, &st)) {
		rc = -errno;
		log_err("cannot open the registry %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		rc = -EPERM;
		log_err("registry %s is writable by others or not ours; refusing", dir);
		goto fail;
	}
	r->lockfd = openat(r->dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->lockfd < 0 || flock(r->lockfd, LOCK_EX)) {
		rc = -errno;
		log_err("cannot lock the registry %s: %s", dir, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	svirt_reg_close(r);
	return rc;
}

void svirt_reg_close(struct svirt_reg *r)
{
	if (r->lockfd >= 0)
		close(r->lockfd); /* drops the flock */
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = r->lockfd = -1;
}

static int read_entry(int dirfd, const char *fname, struct svirt_entry *e)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = openat(dirfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	rc = -EINVAL;
	if (!S_ISREG(st.st_mode) || st.st_size > SVIRT_ENTRY_MAX_BYTES)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	rc = -ENOMEM;
	if (!buf)
		goto out;
	n = pread(fd, buf, (size_t)st.st_size, 0);
	rc = -EIO;
	if (n != st.st_size)
		goto out;
	rc = svirt_entry_parse(buf, (size_t)n, e);
	if (!rc && strcmp(e->name, fname + strlen(ENTRY_PREFIX)))
		rc = -EINVAL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Room for entry n: the array doubles from 8 (entries are ~100 KiB). */
static int grow(struct svirt_entry **v, size_t n)
{
	struct svirt_entry *nv;

	if (n != 0 && (n < 8 || (n & (n - 1))))
		return 0; /* still room */
	nv = realloc(*v, (n ? n * 2 : 8) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

/*
 * Loads every entry.  One that cannot be read or parsed fails the whole
 * load: its categories and files are unknown, so allocating beside it could
 * hand them out twice (fail closed; the error names the file to fix).
 */
int svirt_reg_load(struct svirt_reg *r, struct svirt_entry **list, size_t *n)
{
	struct svirt_entry *v;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	*list = NULL;
	*n = 0;
	v = NULL;
	fd = dup(r->dirfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		rc = -errno;
		goto fail;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ENTRY_PREFIX, strlen(ENTRY_PREFIX)) ||
		    strchr(de->d_name + strlen(ENTRY_PREFIX), '.'))
			continue; /* the lock, temporary files */
		if (*n >= SVIRT_ENTRIES_MAX) {
			rc = -ENOSPC;
			log_err("registry holds more than %d guests", SVIRT_ENTRIES_MAX);
			goto fail;
		}
		rc = grow(&v, *n);
		if (rc)
			goto fail;
		rc = read_entry(r->dirfd, de->d_name, &v[*n]);
		if (rc) {
			log_err("registry entry %s is unreadable or malformed (%s); "
				"refusing to allocate beside it: fix or remove it",
				de->d_name, strerror(-rc));
			goto fail;
		}
		(*n)++;
	}
	closedir(d);
	*list = v;
	return 0;
fail:
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	free(v);
	*n = 0;
	return rc;
}

int svirt_reg_store(struct svirt_reg *r, const struct svirt_entry *e)
{
	char fname[SVIRT_NAME_MAX + 8], tmp[SVIRT_NAME_MAX + 16];
	char *buf = NULL;
	size_t len;
	int fd = -1, rc;

	rc = svirt_entry_format(e, &buf, &len);
	if (rc)
		return rc;
	snprintf(fname, sizeof(fname), ENTRY_PREFIX "%s", e->name);
	snprintf(tmp, sizeof(tmp), ENTRY_PREFIX "%s.tmp", e->name);
	fd = openat(r->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, buf, len);
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc && renameat(r->dirfd, tmp, r->dirfd, fname))
		rc = -errno;
	if (!rc && fsync(r->dirfd))
		rc = -errno;
out:
	if (rc)
		log_err("cannot write registry entry %s: %s", fname, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int svirt_reg_remove(struct svirt_reg *r, const char *name)
{
	char fname[SVIRT_NAME_MAX + 8];

	snprintf(fname, sizeof(fname), ENTRY_PREFIX "%s", name);
	if (unlinkat(r->dirfd, fname, 0) && errno != ENOENT) {
		log_err("cannot remove registry entry %s: %s", fname, strerror(errno));
		return -errno;
	}
	return fsync(r->dirfd) ? -errno : 0;
}

int svirt_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int rc = -EIO;

	if (!f)
		return -errno;
	if (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		rc = svirt_label_valid(buf) ? 0 : -EIO;
	}
	fclose(f);
	return rc;
}

/* Field 22 (starttime) of /proc/PID/stat; comm (field 2) may hold spaces
 * and parentheses, so counting starts after its last ')'. */
int svirt_stat_parse_start(const char *buf, size_t len, uint64_t *start)
{
	const char *p = NULL, *end = buf + len;
	int field = 2;
	char *e;

	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p)
		return -EINVAL;
	for (p++; p < end && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	*start = strtoull(p, &e, 10);
	if (errno || e > end || (e < end && *e != ' ' && *e != '\n'))
		return -EINVAL;
	return 0;
}

int svirt_proc_start(int32_t pid, uint64_t *start)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return svirt_stat_parse_start(buf, (size_t)n, start);
}

/*
 * A guest is alive while this boot lasts and any process recorded for it
 * still exists with the same start time (a reused pid has another one).
 * Anything else is provably gone; an unreadable /proc is not proof.
 */
bool svirt_entry_alive(const struct svirt_entry *e, const char *boot_id)
{
	if (strcmp(e->boot_id, boot_id))
		return false;
	for (uint16_t i = 0; i < e->nprocs; i++) {
		uint64_t start;
		int rc = svirt_proc_start(e->procs[i].pid, &start);

		if (rc == 0 && start == e->procs[i].start)
			return true;
		if (rc && rc != -ENOENT && rc != -ESRCH)
			return true;
	}
	return false;
}
