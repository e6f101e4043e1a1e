/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lab-selinux POLICYFILE: inside the lab, mount selinuxfs, load a binary
 * policy and switch to enforcing.  Exits non-zero, saying which step failed,
 * unless the kernel reports enforcing with the new policy afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <selinux/selinux.h>
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
	return 0;
}
