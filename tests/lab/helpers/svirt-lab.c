/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt_lab: the lab's stand-in for the launcher and the guest-facing VMM,
 * built on the svirt library and real SELinux (tests/lab/test-svirt-enforce).
 *
 *   svirt_lab setcon PATH CONTEXT...     label files (lab set-up), pairs of args
 *   svirt_lab start REG NAME DIR ENTRY   a launcher: reserve, label DIR/disk.img,
 *                                        DIR/vmlinuz, DIR/tpm; start ENTRY hold
 *                                        as the VMM; print "pid label" on
 *                                        stdout; on SIGTERM stop and restore
 *   svirt_lab as LABEL ENTRY ARGS...     setexeccon(LABEL), exec ENTRY ARGS
 *   svirt_lab open rw|ro PATH...         (confined) print "PATH ok|ERRNO"
 *   svirt_lab signal PID                 (confined) print "signal PID ok|ERRNO"
 *   svirt_lab hold                       (confined) sleep until killed
 *   svirt_lab holdfd PATH                (confined) open PATH rw, print
 *                                        "holding FD", sleep until killed
 *   svirt_lab passfd PID FD LABEL ENTRY  take fd FD of process PID
 *                                        (pidfd_getfd), keep it as fd 9, and
 *                                        exec ENTRY probe fduse 9 DEV:INO at
 *                                        LABEL: may LABEL use PID's fd?
 *   svirt_lab probe|listen|revoke ...    see svirt-probe.c (test-svirt-cases)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/log.h"
#include "svirt/svirt.h"
#include "tests/lab/helpers/svirt-probe.h"

static int do_open(int argc, char **argv)
{
	int flags = !strcmp(argv[2], "rw") ? O_RDWR : O_RDONLY;

	for (int i = 3; i < argc; i++) {
		int fd = open(argv[i], flags | O_CLOEXEC);

		printf("%s %s\n", argv[i], fd >= 0 ? "ok" : probe_errname(errno));
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int do_holdfd(const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return perror(path), 1;
	printf("holding %d\n", fd);
	fflush(stdout);
	for (;;)
		pause();
}

/* The descriptor keeps the label of the process that opened it: only the
 * exec below, into LABEL, asks the kernel whether LABEL may use it. */
static int do_passfd(char **argv)
{
	char devino[64], *args[] = { "svirt_lab", "probe", "fduse", "9", devino, NULL };
	int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[2]), 0), fd;
	struct stat st;

	if (pidfd < 0)
		return perror("pidfd_open"), 1;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(argv[3]), 0);
	if (fd < 0 || dup2(fd, 9) < 0 || fstat(9, &st))
		return perror("pidfd_getfd"), 1;
	snprintf(devino, sizeof(devino), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	if (svirt_child_setexec(argv[4]))
		return perror("setexeccon"), 1;
	execv(argv[5], args);
	return perror(argv[5]), 1;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static pid_t start_vmm(struct svirt_vm *vm, const char *entry, char *label,
		       size_t len)
{
	pid_t pid;

	if (svirt_vm_exec_label(vm, SVIRT_ROLE_VMM, label, len))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (svirt_child_setexec(label))
			_exit(126);
		execl(entry, "svirt_lab", "hold", (char *)NULL);
		_exit(127);
	}
	/* A real launcher waits for its CLOEXEC pipe; the lab just waits. */
	usleep(300000);
	if (pid < 0 || svirt_parent_verify(pid, label) || svirt_vm_add_pid(vm, pid))
		return -1;
	return pid;
}

static int do_start(char **argv)
{
	static const struct { const char *file; enum svirt_obj kind; } objs[] = {
		{ "disk.img", SVIRT_OBJ_IMAGE },
		{ "vmlinuz", SVIRT_OBJ_CONTENT },
		{ "tpm", SVIRT_OBJ_VTPM_STATE },
	};
	struct svirt_config cfg;
	struct svirt_vm *vm;
	char path[512], label[SVIRT_LABEL_MAX];
	pid_t pid;
	int fd;

	svirt_config_default(&cfg);
	snprintf(cfg.registry_dir, sizeof(cfg.registry_dir), "%s", argv[2]);
	if (svirt_vm_create(&cfg, argv[3], SVIRT_MODE_DYNAMIC, NULL, NULL, 0, &vm))
		return 1;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[4], objs[i].file);
		if (svirt_vm_label_path(vm, path, objs[i].kind, NULL, &fd))
			return 1;
		close(fd);
	}
	signal(SIGTERM, on_term);
	pid = start_vmm(vm, argv[5], label, sizeof(label));
	if (pid < 0)
		return 1;
	printf("%d %s\n", (int)pid, label);
	fflush(stdout);
	while (!stop)
		pause();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return svirt_vm_release(vm) ? 1 : 0;
}

int main(int argc, char **argv)
{
	log_set_level(LOG_INFO);
	if (argc >= 4 && argc % 2 == 0 && !strcmp(argv[1], "setcon")) {
		for (int i = 2; i < argc; i += 2)
			if (setfilecon_raw(argv[i], argv[i + 1]))
				return perror(argv[i]), 1;
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "start"))
		return do_start(argv);
	if (argc >= 4 && !strcmp(argv[1], "as")) {
		if (svirt_child_setexec(argv[2]))
			return perror("setexeccon"), 1;
		execv(argv[3], argv + 3);
		return perror(argv[3]), 1;
	}
	if (argc >= 4 && !strcmp(argv[1], "open"))
		return do_open(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "signal")) {
		int rc = kill(atoi(argv[2]), SIGCONT);

		printf("signal %s %s\n", argv[2], rc ? probe_errname(errno) : "ok");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "probe"))
		return probe_main(argc, argv);
	if (argc >= 3 && !strcmp(argv[1], "listen"))
		return probe_listen(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "revoke"))
		return probe_revoke(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "holdfd"))
		return do_holdfd(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "passfd"))
		return do_passfd(argv);
	if (argc == 2 && !strcmp(argv[1], "hold")) {
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: see tests/lab/helpers/svirt-lab.c\n");
	return 2;
}
