/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lab-selinux POLICYFILE: inside the lab, mount selinuxfs, load a binary
 * policy and switch to enforcing.  Exits non-zero, saying which step failed,
 * unless the kernel reports enforcing with the new policy afterwards.
 *
 * Then, when POLICYFILE is NAME.pol and NAME.fc exists (secilc's file
 * contexts, build/policy/standalone.fc), labels the files it names: the
 * lab's host tree arrives over 9p without labels, as one type, and setting
 * a label on the overlay root copies the file up to its tmpfs upper layer,
 * which keeps it.  Only the forms the standalone policy uses are applied: a
 * literal path, or a literal directory and a pattern for its entries
 * ("/etc/ssh/ssh_host_.*_key", "/var/lib/bulwark/keys/.*", one level).  A
 * directory entry that does not exist yet is created (mode 0700), so that
 * what the launcher writes there later inherits its type.  Any entry that
 * cannot be applied fails the set-up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <selinux/selinux.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *step, const char *what)
{
	fprintf(stderr, "lab-selinux: %s: %s: %s\n", step, what, strerror(errno));
	return 1;
}

/* Does the file type of ST match secilc's flag ("--", "-d", ...; NULL: any)? */
static bool fc_type_ok(const char *flag, const struct stat *st)
{
	if (!flag)
		return true;
	if (!strcmp(flag, "--"))
		return S_ISREG(st->st_mode);
	if (!strcmp(flag, "-d"))
		return S_ISDIR(st->st_mode);
	if (!strcmp(flag, "-l"))
		return S_ISLNK(st->st_mode);
	return false;
}

/* mkdir -p PATH, the last component 0700. */
static int fc_mkdir(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

static int fc_label(const char *path, const char *flag, const char *ctx, bool create)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno != ENOENT)
			return fail("lstat", path);
		if (!create)
			return 0;	/* not on this machine: nothing to label */
		if (fc_mkdir(path) || lstat(path, &st))
			return fail("mkdir", path);
	}
	if (!fc_type_ok(flag, &st))
		return 0;
	if (lsetfilecon_raw(path, ctx))
		return fail("setfilecon", path);
	fprintf(stderr, "lab-selinux: labelled %s %s\n", path, ctx);
	return 0;
}

/* "\." becomes "."; any other regular-expression syntax: not literal. */
static bool fc_literal(const char *re, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = re; *p; p++) {
		if (p[0] == '\\' && p[1] == '.')
			p++;
		else if (strchr("^$*+?()[]{}|\\", *p))
			return false;
		if (n + 1 >= len)
			return false;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}

/* One line of the file contexts: PATHRE [FLAG] CONTEXT. */
static int fc_line(char *line)
{
	char *re = strtok(line, " \t\n"), *f = strtok(NULL, " \t\n");
	char *ctx = strtok(NULL, " \t\n"), dir[PATH_MAX], path[PATH_MAX], *slash;
	regex_t rx;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (!re || !f || re[0] != '/')
		return 0;
	if (!ctx) {
		ctx = f;
		f = NULL;
	}
	if (fc_literal(re, path, sizeof(path)))
		return fc_label(path, f, ctx, f && !strcmp(f, "-d"));
	slash = strrchr(re, '/');
	*slash = '\0';
	if (!fc_literal(re[0] ? re : "/", dir, sizeof(dir)))
		return errno = EINVAL, fail("file contexts: unsupported pattern", re);
	snprintf(path, sizeof(path), "^(%s)$", slash + 1);
	if (regcomp(&rx, path, REG_EXTENDED | REG_NOSUB))
		return errno = EINVAL, fail("file contexts: bad pattern", slash + 1);
	d = opendir(dir);
	while (d && !rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    regexec(&rx, de->d_name, 0, NULL, 0))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		rc = fc_label(path, f, ctx, false);
	}
	if (d)
		closedir(d);
	regfree(&rx);
	return rc;
}

static int fc_apply(const char *policy)
{
	char fc[PATH_MAX], line[1024];
	size_t n = strlen(policy);
	FILE *f;
	int rc = 0;

	if (n < 4 || strcmp(policy + n - 4, ".pol") || n >= sizeof(fc))
		return 0;
	snprintf(fc, sizeof(fc), "%.*s.fc", (int)(n - 4), policy);
	f = fopen(fc, "re");
	if (!f)
		return errno == ENOENT ? 0 : fail("open", fc);
	while (!rc && fgets(line, sizeof(line), f))
		rc = fc_line(line);
	fclose(f);
	if (!rc)
		fprintf(stderr, "lab-selinux: applied %s\n", fc);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	void *data;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: lab-selinux POLICYFILE\n");
		return 2;
	}
	if (mount("selinuxfs", "/sys/fs/selinux", "selinuxfs", 0, NULL) && errno != EBUSY)
		return fail("mount", "/sys/fs/selinux");
	/* libselinux caches where selinuxfs is; point it there explicitly. */
	set_selinuxmnt("/sys/fs/selinux");
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return fail("open", argv[1]);
	if (st.st_size <= 0)
		return errno = EINVAL, fail("policy", "empty file");
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return fail("mmap", argv[1]);
	if (security_load_policy(data, (size_t)st.st_size))
		return fail("security_load_policy", argv[1]);
	if (security_setenforce(1))
		return fail("security_setenforce", "1");
	if (security_getenforce() != 1)
		return errno = EPERM, fail("security_getenforce", "not enforcing");
	fprintf(stderr, "lab-selinux: loaded %s (%lld bytes), enforcing\n", argv[1],
		(long long)st.st_size);
	return fc_apply(argv[1]);
}
