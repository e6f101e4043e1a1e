/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap-harness VMM [--restore FILE] [--SETTING VALUE | --FLAG]...: for the
 * lab test test-snap-vmm (issue 17).  Starts bulwark-vmm VMM the way the
 * launcher does as far as the VMM can tell (vmm_abi.h: the canonical
 * configuration in a memfd at fd 3, /dev/kvm, kernel, initrd, disks, the
 * control channel at 18 and the state stream at 19; no capability left, an
 * unprivileged uid, --seccomp kill), without the launcher's jail, labels
 * or vTPM: the test is the VMM's state, not its confinement.  Settings are
 * config_set()'s (--cpus 1 --memory 256 --kernel K --initrd I --disk D
 * --cmdline ... --no-vtpm).
 *
 * --restore FILE: the VMM gets --restore and FILE's bytes on its stream.
 * --incoming FILE: the VMM gets --incoming and FILE's bytes (a FIFO: as
 * they come) on its stream (test-mig-vmm, issue 18).
 * Then, one per line on stdin:  pause | resume | save FILE | stop | wait
 * | mig-start FILE | mig-round | mig-final | mig-cancel
 * (stop: VMM_SIG_STOP; wait: until the VMM exits by itself)
 * each answered on stderr "HARNESS op result" (save: the stream framed
 * with snap_frame_check, as the launcher will, written to FILE; "bytes N";
 * pause, resume: "t=SECONDS" of CLOCK_REALTIME at the reply; mig-*: the
 * migration stream framed in migration mode, appended to mig-start's FILE
 * (closed after mig-final), and the reply's round, pages, bytes, ns).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "core/vmm_abi.h"

#define HARNESS_UID 65534

static int ctl_fd = -1, snap_fd = -1;
static pid_t vmm_pid;
static uint32_t seq;

static int harness_config(int argc, char **argv, int first, struct vm_config *cfg)
{
	config_init(cfg);
	for (int i = first; i < argc; i++) {
		const char *f = argv[i] + 2;
		int takes;

		if (strncmp(argv[i], "--", 2) || (takes = config_flag_takes_value(f)) < 0)
			return fprintf(stderr, "snap-harness: unknown %s\n", argv[i]), -1;
		if (takes && i + 1 >= argc)
			return -1;
		if (config_set(cfg, f, takes ? argv[i + 1] : NULL, argv[i]))
			return -1;
		i += takes;
	}
	return config_validate(cfg);
}

static int harness_memfd(const struct vm_config *cfg)
{
	char *s;
	size_t n;
	int fd = memfd_create("config", MFD_CLOEXEC);

	if (fd < 0 || config_canonical(cfg, &s, &n) || write(fd, s, n) != (ssize_t)n)
		return -1;
	free(s);
	return fd;
}

/* In the child: SRC fds at their ABI numbers, privileges dropped, exec. */
static void harness_child(const char *vmm, const char *mode, const int src[],
			  const int dst[], int n)
{
	char *argv[] = { (char *)vmm, "--log-level", "info", "--seccomp", "kill",
			 (char *)mode, NULL };
	int hi[32];

	for (int i = 0; i < n; i++)
		hi[i] = src[i] < 0 ? -1 : fcntl(src[i], F_DUPFD, 100);
	for (int i = 0; i < n; i++)
		if (hi[i] >= 0 && dup2(hi[i], dst[i]) < 0)
			_exit(120);
	close_range(VMM_FD_FIRST_FREE, ~0U, 0);
	/* stdin: not the harness's orders (the VMM feeds stdin to the UART). */
	int nul = open("/dev/null", O_RDONLY);

	if (nul < 0 || dup2(nul, 0) < 0)
		_exit(123);
	for (int cap = 0; cap < 64; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (setgroups(0, NULL) || setresgid(HARNESS_UID, HARNESS_UID, HARNESS_UID) ||
	    setresuid(HARNESS_UID, HARNESS_UID, HARNESS_UID))
		_exit(121);
	execve(vmm, argv, (char *[]){ NULL });
	_exit(122);
}

static int harness_open(const char *path, int flags)
{
	int fd = path && path[0] ? open(path, flags | O_CLOEXEC) : -1;

	if (path && path[0] && fd < 0)
		fprintf(stderr, "snap-harness: %s: %s\n", path, strerror(errno));
	return fd;
}

static int harness_start(const char *vmm, const struct vm_config *cfg, const char *mode)
{
	int restore = !!mode;
	int src[32], dst[32], n = 0, cs[2], ss[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cs) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ss))
		return -1;
	ctl_fd = cs[0];
	snap_fd = ss[0];
#define ADD(s, d) (src[n] = (s), dst[n++] = (d))
	ADD(harness_memfd(cfg), VMM_FD_CONFIG);
	ADD(harness_open("/dev/kvm", O_RDWR), VMM_FD_KVM);
	ADD(restore ? -1 : harness_open(cfg->kernel, O_RDONLY), VMM_FD_KERNEL);
	ADD(restore ? -1 : harness_open(cfg->initrd, O_RDONLY), VMM_FD_INITRD);
	for (uint32_t i = 0; i < cfg->ndisks; i++)
		ADD(harness_open(cfg->disks[i].path, cfg->disks[i].readonly ? O_RDONLY : O_RDWR),
		    VMM_FD_DISK0 + (int)i);
	ADD(cs[1], VMM_FD_CONTROL);
	ADD(ss[1], VMM_FD_SNAP);
	vmm_pid = fork();
	if (vmm_pid == 0)
		harness_child(vmm, mode, src, dst, n);
	for (int i = 0; i < n; i++)
		if (src[i] >= 0)
			close(src[i]);
	return vmm_pid < 0 ? -1 : 0;
}

static int harness_send_file(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0, w; off < r; off += w)
			if ((w = write(snap_fd, buf + off, (size_t)(r - off))) <= 0)
				return close(fd), -EPIPE;
	close(fd);
	return 0;
}

static int harness_order(uint32_t op, struct vmm_ctl_reply *rep)
{
	struct vmm_ctl_req req = { op, ++seq };

	if (write(ctl_fd, &req, sizeof(req)) != sizeof(req) ||
	    read(ctl_fd, rep, sizeof(*rep)) != sizeof(*rep))
		return -EPIPE;
	return rep->result;
}

static int harness_read_all(int fd, void *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, (char *)buf + off, n - off);

		if (r <= 0)
			return -EPIPE;
		off += (size_t)r;
	}
	return 0;
}

/* One record, framed by its header alone (snap_frame_check), to OUT;
 * 0, SNAP_FRAME_END, or -errno.  *TYPE: the record's. */
static int harness_record(FILE *out, const struct snap_limits *lim,
			  struct snap_frame_state *st, uint64_t *bytes, uint32_t *type)
{
	static uint8_t buf[1 << 20];
	struct snap_rec r;
	uint8_t h[16];
	int rc;

	if (harness_read_all(snap_fd, h, sizeof(h)))
		return -EPIPE;
	snap_rec_decode(h, &r);
	*type = r.type;
	rc = snap_frame_check(&r, lim, st);
	if (rc < 0)
		return rc;
	fwrite(h, 1, sizeof(h), out);
	for (uint64_t left = r.len; left;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		if (harness_read_all(snap_fd, buf, k))
			return -EPIPE;
		fwrite(buf, 1, k, out);
		left -= k;
	}
	*bytes += sizeof(h) + r.len;
	return rc;
}

/* The stream, framed by headers alone (snap_frame_check), to OUT. */
static int harness_receive(FILE *out, const struct snap_limits *lim, uint64_t *bytes)
{
	uint8_t magic[SNAP_MAGIC_LEN];
	struct snap_frame_state st;
	uint32_t type;
	int rc = harness_read_all(snap_fd, magic, SNAP_MAGIC_LEN);

	if (rc || snap_header_check(magic, SNAP_MAGIC_LEN))
		return -EBADMSG;
	snap_frame_init(&st, 0);
	fwrite(magic, 1, SNAP_MAGIC_LEN, out);
	*bytes = SNAP_MAGIC_LEN;
	do
		rc = harness_record(out, lim, &st, bytes, &type);
	while (rc == 0);
	return rc == SNAP_FRAME_END ? 0 : rc;
}

static double harness_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The migration (issue 18): the stream's state across orders. */
static FILE *mig_out;
static struct snap_frame_state mig_st;
static int mig_header_seen;

/*
 * One migration order: the request, then whatever the VMM writes, framed
 * in migration mode, until its reply comes (the VMM writes the stream
 * before it replies, so what is left once the reply is there is in the
 * socket already).  "HARNESS mig-OP result stream RC round R pages P
 * bytes B ns N dirty D received BYTES t=SECONDS".
 */
static void harness_mig(const char *name, uint32_t op, const struct snap_limits *lim)
{
	struct vmm_ctl_req req = { op, ++seq };
	struct vmm_ctl_reply rep;
	uint64_t bytes = 0;
	uint32_t type;
	int rc = 0, replied = 0;

	memset(&rep, 0, sizeof(rep));
	if (!mig_out)      /* an order out of turn: whatever comes is dropped */
		mig_out = fopen("/dev/null", "we");
	if (!mig_out || write(ctl_fd, &req, sizeof(req)) != sizeof(req)) {
		fprintf(stderr, "HARNESS %s -1 (cannot start)\n", name);
		return;
	}
	while (rc >= 0) {
		struct pollfd p[2] = { { .fd = snap_fd, .events = POLLIN },
				       { .fd = ctl_fd, .events = POLLIN } };

		if (poll(p, 2, replied ? 0 : -1) <= 0 || !(p[0].revents & POLLIN)) {
			if (replied)
				break;
			if (read(ctl_fd, &rep, sizeof(rep)) != sizeof(rep)) {
				rep.result = -EPIPE;
				break;
			}
			replied = 1;
			continue;
		}
		if (!mig_header_seen) {
			uint8_t magic[SNAP_MAGIC_LEN];

			if (harness_read_all(snap_fd, magic, sizeof(magic)) ||
			    snap_mig_header_check(magic, sizeof(magic))) {
				rc = -EBADMSG;
				break;
			}
			fwrite(magic, 1, sizeof(magic), mig_out);
			bytes += sizeof(magic);
			snap_frame_init(&mig_st, 1);
			mig_header_seen = 1;
			continue;
		}
		rc = harness_record(mig_out, lim, &mig_st, &bytes, &type);
		if (rc == SNAP_FRAME_END)
			rc = 0;
	}
	if (!replied && read(ctl_fd, &rep, sizeof(rep)) != sizeof(rep))
		rep.result = -EPIPE;
	fflush(mig_out);
	fprintf(stderr, "HARNESS %s %d stream %d round %u pages %llu bytes %llu ns %llu "
		"dirty %llu received %llu t=%.6f\n", name, rep.result, rc, rep.mig.round,
		(unsigned long long)rep.mig.pages, (unsigned long long)rep.mig.bytes,
		(unsigned long long)rep.mig.ns, (unsigned long long)rep.mig.dirty_pages_total,
		(unsigned long long)bytes, harness_now());
	if (op == VMM_CTL_MIG_FINAL && !rep.result) {
		fclose(mig_out);
		mig_out = NULL;
	}
}

static void harness_save(const char *path, const struct snap_limits *lim)
{
	struct vmm_ctl_req req = { VMM_CTL_SAVE, ++seq };
	struct vmm_ctl_reply rep;
	FILE *out = fopen(path, "we");
	uint64_t bytes = 0;
	int rc;

	if (!out || write(ctl_fd, &req, sizeof(req)) != sizeof(req)) {
		fprintf(stderr, "HARNESS save -1 (cannot start)\n");
		return;
	}
	rc = harness_receive(out, lim, &bytes);
	fclose(out);
	if (read(ctl_fd, &rep, sizeof(rep)) != sizeof(rep))
		rep.result = -EPIPE;
	fprintf(stderr, "HARNESS save %d stream %d bytes %llu\n", rep.result, rc,
		(unsigned long long)bytes);
}

/* Orders from stdin until stop, wait or EOF; a VMM that ends by itself
 * ends the loop at once (its status in *STATUS, 1 returned). */
static int harness_loop(const struct snap_limits *lim, int *status)
{
	struct vmm_ctl_reply rep;
	char line[4096];

	for (;;) {
		struct pollfd in = { .fd = 0, .events = POLLIN };

		if (poll(&in, 1, 500) == 0) {
			if (waitpid(vmm_pid, status, WNOHANG) == vmm_pid)
				return 1;
			continue;
		}
		if (!fgets(line, sizeof(line), stdin))
			break;
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "pause"))
			fprintf(stderr, "HARNESS pause %d t=%.6f\n",
				harness_order(VMM_CTL_PAUSE, &rep), harness_now());
		else if (!strcmp(line, "resume"))
			fprintf(stderr, "HARNESS resume %d t=%.6f\n",
				harness_order(VMM_CTL_RESUME, &rep), harness_now());
		else if (!strncmp(line, "mig-start ", 10)) {
			if (mig_out)
				fclose(mig_out);
			mig_out = fopen(line + 10, "we");
			mig_header_seen = 0;
			harness_mig("mig-start", VMM_CTL_MIG_START, lim);
		} else if (!strcmp(line, "mig-round"))
			harness_mig("mig-round", VMM_CTL_MIG_ROUND, lim);
		else if (!strcmp(line, "mig-final"))
			harness_mig("mig-final", VMM_CTL_MIG_FINAL, lim);
		else if (!strcmp(line, "mig-cancel"))
			harness_mig("mig-cancel", VMM_CTL_MIG_CANCEL, lim);
		else if (!strncmp(line, "save ", 5))
			harness_save(line + 5, lim);
		else if (!strcmp(line, "wait"))
			return 0;
		else if (!strcmp(line, "stop"))
			break;
	}
	kill(vmm_pid, VMM_SIG_STOP);
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	struct snap_limits lim;
	const char *restore = NULL, *mode = NULL;
	int first = 2, status = 0;

	if (argc < 2)
		return fprintf(stderr, "usage: snap-harness VMM [--restore|--incoming FILE] "
			       "SETTINGS...\n"), 2;
	if (argc > 3 && (!strcmp(argv[2], "--restore") || !strcmp(argv[2], "--incoming"))) {
		restore = argv[3];
		mode = !strcmp(argv[2], "--restore") ? VMM_ARG_RESTORE : VMM_ARG_INCOMING;
		first = 4;
	}
	signal(SIGPIPE, SIG_IGN);
	if (harness_config(argc, argv, first, &cfg) || snap_limits_from_config(&cfg, &lim) ||
	    harness_start(argv[1], &cfg, mode))
		return fprintf(stderr, "snap-harness: cannot start\n"), 2;
	/* Then the write side is shut, as the launcher must: a stream cut
	 * short ends at EOF for the VMM instead of waiting for more bytes. */
	if (restore) {
		fprintf(stderr, "HARNESS restore-sent %d\n", harness_send_file(restore));
		shutdown(snap_fd, SHUT_WR);
	}
	if (!harness_loop(&lim, &status))
		waitpid(vmm_pid, &status, 0);
	fprintf(stderr, "HARNESS vmm-exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) :
		128 + WTERMSIG(status));
	return 0;
}
