/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt_lab's probes (tests/lab/test-svirt-cases): each one makes exactly one
 * kind of kernel access attempt and prints what the kernel answered, so a
 * denial is seen as the errno of the system call that asked for it.  Output:
 * "RESULT OP ARGS", RESULT being ok or the errno's name.
 *
 *   read PATH       open(O_RDONLY) and read 1 byte      file: read open
 *   write PATH      open(O_WRONLY), pwrite 0x7f at 0    file: write open
 *                   (every target is an ELF: its first byte is 0x7f)
 *   stat PATH       stat()                              file: getattr
 *   exec PATH       fork, execve(PATH)                  file: execute (+ no_trans)
 *   readdir PATH    open(O_DIRECTORY), getdents          dir: read open
 *   create PATH     open(O_CREAT|O_EXCL), unlink        dir: add_name, file: create
 *   newfile PATH    open(O_CREAT|O_EXCL), kept          (a vTPM's new state file)
 *   replace PATH    write PATH.new, rename it over PATH  (how swtpm saves state)
 *   relabel PATH CTX  setxattr security.selinux         relabelfrom/relabelto
 *   connect ADDR    connect a stream socket (@ = abstract)  sock_file write,
 *                                                       unix_stream_socket connectto
 *   connectas CTX ADDR  the same from a socket labelled CTX  connectto from CTX
 *                   (setsockcreatecon: root makes the VMM's socket the VMM may
 *                   not make, so the kernel is asked connectto alone)
 *   signal PID      kill(PID, SIGCONT)                  process: signal
 *   sigchld PID     kill(PID, SIGCHLD)                  process: sigchld
 *   signull PID     kill(PID, 0)                        process: signull
 *   ptrace PID      ptrace(PTRACE_SEIZE)                process: ptrace
 *   setcon CTX      setcon()                            process: setcurrent, dyntransition
 *   setexec CTX PATH  fork, setexeccon(), execve(PATH)  process: setexec, transition,
 *                   (the child's output to /dev/null)   file: entrypoint
 *   socket          socket(AF_UNIX, SOCK_STREAM)        unix_stream_socket: create
 *   dgram           socket(AF_UNIX, SOCK_DGRAM)         unix_dgram_socket: create
 *   socketpair      socketpair(AF_UNIX, SOCK_STREAM)    unix_stream_socket: create
 *   fduse FD DEV:INO  fd FD is still the file DEV:INO   fd: use (at exec, the
 *                   and reads                           kernel replaces or
 *                                                       closes a descriptor
 *                                                       the new domain may
 *                                                       not use: EACCES or
 *                                                       EBADF here)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <selinux/selinux.h>

#include "core/util.h"
#include "tests/lab/helpers/svirt-probe.h"

const char *probe_errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int res(int rc)
{
	return rc < 0 ? errno : 0;
}

static int p_read(char **a)
{
	char c;
	int fd = open(a[0], O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return errno;
	e = res((int)read(fd, &c, 1));
	close(fd);
	return e;
}

static int p_write(char **a)
{
	int fd = open(a[0], O_WRONLY | O_CLOEXEC), e;

	if (fd < 0)
		return errno;
	e = res((int)pwrite(fd, "\x7f", 1, 0));
	close(fd);
	return e;
}

static int p_stat(char **a)
{
	struct stat st;

	return res(stat(a[0], &st));
}

static int p_readdir(char **a)
{
	int fd = open(a[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0;
	DIR *d;

	if (fd < 0)
		return errno;
	d = fdopendir(fd);
	if (!d) {
		e = errno;
		close(fd);
		return e;
	}
	errno = 0;
	if (!readdir(d))
		e = errno;
	closedir(d);
	return e;
}

static int p_create(char **a)
{
	int fd = open(a[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno;
	close(fd);
	unlink(a[0]);
	return 0;
}

static int p_newfile(char **a)
{
	int fd = open(a[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int p_replace(char **a)
{
	char tmp[PATH_MAX];
	int fd, e = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", a[0]) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	if (write(fd, "state", 5) != 5)
		e = errno;
	close(fd);
	if (!e && rename(tmp, a[0]))
		e = errno;
	return e;
}

static int p_relabel(char **a)
{
	return res(lsetxattr(a[0], "security.selinux", a[1], strlen(a[1]) + 1, 0));
}

/* A stream socket labelled CTX (NULL: the caller's own label) connected to
 * ADDR; the kernel checks connectto from the socket's label. */
static int connect_as(const char *ctx, const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, e;

	if (strlen(addr) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	strcpy(sa.sun_path, addr);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	if (ctx && setsockcreatecon_raw(ctx))
		return errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	e = errno;
	if (ctx && setsockcreatecon_raw(NULL) && fd >= 0)
		e = errno, close(fd), fd = -1;
	if (fd < 0)
		return e;
	e = res(connect(fd, (struct sockaddr *)&sa, len));
	close(fd);
	return e;
}

static int p_connect(char **a)
{
	return connect_as(NULL, a[0]);
}

static int p_connectas(char **a)
{
	return connect_as(a[0], a[1]);
}

static int p_signal(char **a)
{
	return res(kill(atoi(a[0]), SIGCONT));
}

static int p_sigchld(char **a)
{
	return res(kill(atoi(a[0]), SIGCHLD));
}

static int p_socket(char **a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)a;
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int p_dgram(char **a)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)a;
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int p_socketpair(char **a)
{
	int sp[2];

	(void)a;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return errno;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

/* The note for a descriptor the kernel replaced at exec. */
static const char *probe_note;

static int p_fduse(char **a)
{
	char want[64], c;
	struct stat st;
	int fd = atoi(a[0]);

	if (fstat(fd, &st))
		return errno;
	snprintf(want, sizeof(want), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	if (strcmp(want, a[1])) {
		probe_note = "exec: the kernel replaced it";
		return EACCES;
	}
	return res((int)pread(fd, &c, 1, 0));
}

static int p_signull(char **a)
{
	return res(kill(atoi(a[0]), 0));
}

static int p_ptrace(char **a)
{
	return res((int)ptrace(PTRACE_SEIZE, atoi(a[0]), NULL, NULL));
}

static int p_setcon(char **a)
{
	return res(setcon_raw(a[0]));
}

/*
 * Runs PATH in a child, after setexeccon(CTX) when CTX is given.  A
 * close-on-exec pipe tells which step failed: nothing read means the exec
 * happened.  *step names the step that failed.
 */
static int exec_child(const char *ctx, const char *path, const char **step)
{
	struct { int step, err; } r = { 0, 0 };
	char *const argv[] = { (char *)path, NULL }, *const envp[] = { NULL };
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return *step = "pipe", errno;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		close(p[0]);
		/* Only the probe's answers on stdout: a program that did run
		 * (swtpm without arguments) says nothing there. */
		if (null >= 0 && (dup2(null, STDOUT_FILENO) < 0 ||
				  dup2(null, STDERR_FILENO) < 0))
			_exit(127);
		r.step = 1;
		if (!ctx || setexeccon_raw(ctx) == 0) {
			execve(path, argv, envp);
			r.step = 2;
		}
		r.err = errno;
		(void)!write(p[1], &r, sizeof(r));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &r, sizeof(r)) < 0)
		r = (typeof(r)){ 3, errno };
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	*step = r.step == 1 ? "setexeccon" : r.step == 2 ? "execve" : "fork";
	return r.err;
}

static int p_exec(char **a)
{
	const char *step;

	return exec_child(NULL, a[0], &step);
}

static int p_setexec(char **a)
{
	const char *step;
	int e = exec_child(a[0], a[1], &step);

	if (e)
		probe_note = step;
	return e;
}

static const struct {
	const char *name;
	int nargs;
	int (*fn)(char **args);
} probes[] = {
	{ "read", 1, p_read }, { "write", 1, p_write }, { "stat", 1, p_stat },
	{ "exec", 1, p_exec }, { "readdir", 1, p_readdir },
	{ "create", 1, p_create }, { "newfile", 1, p_newfile },
	{ "replace", 1, p_replace }, { "relabel", 2, p_relabel },
	{ "connect", 1, p_connect }, { "signal", 1, p_signal },
	{ "signull", 1, p_signull }, { "ptrace", 1, p_ptrace },
	{ "setcon", 1, p_setcon }, { "setexec", 2, p_setexec },
	{ "sigchld", 1, p_sigchld }, { "socket", 0, p_socket },
	{ "dgram", 0, p_dgram }, { "socketpair", 0, p_socketpair },
	{ "fduse", 2, p_fduse }, { "connectas", 2, p_connectas },
};

int probe_main(int argc, char **argv)
{
	int i = 2;

	while (i < argc) {
		size_t k;
		int e;

		for (k = 0; k < ARRAY_SIZE(probes); k++)
			if (!strcmp(argv[i], probes[k].name))
				break;
		if (k == ARRAY_SIZE(probes) || i + probes[k].nargs >= argc) {
			fprintf(stderr, "probe: bad or incomplete op %s\n", argv[i]);
			return 2;
		}
		probe_note = NULL;
		e = probes[k].fn(argv + i + 1);
		printf("%s", e ? probe_errname(e) : "ok");
		for (int j = 0; j <= probes[k].nargs; j++)
			printf(" %s", argv[i + j]);
		printf(probe_note ? " (at %s)\n" : "\n", probe_note);
		fflush(stdout);
		i += probes[k].nargs + 1;
	}
	return 0;
}

static int listen_on(const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (strlen(addr) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, addr);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	else
		unlink(addr);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 64)) {
		fprintf(stderr, "listen %s: %s\n", addr, strerror(errno));
		return -1;
	}
	return fd; /* kept open until the process is killed */
}

int probe_listen(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			if (setsockcreatecon_raw(argv[++i]) < 0)
				return perror("setsockcreatecon"), 1;
		} else if (listen_on(argv[i]) < 0) {
			return 1;
		}
	}
	printf("listening\n");
	fflush(stdout);
	for (;;)
		pause();
}

int probe_revoke(int argc, char **argv)
{
	sigset_t set;
	char c;
	int fd, sig;

	if (argc != 3)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return printf("revoke-open %s %s\n", argv[2], probe_errname(errno)), 1;
	printf("armed\n");
	fflush(stdout);
	if (sigwait(&set, &sig))
		return 1;
	printf("revoke-read %s %s\n", argv[2],
	       read(fd, &c, 1) < 0 ? probe_errname(errno) : "ok");
	printf("revoke-write %s %s\n", argv[2],
	       pwrite(fd, "\x7f", 1, 0) < 0 ? probe_errname(errno) : "ok");
	close(fd);
	return 0;
}
