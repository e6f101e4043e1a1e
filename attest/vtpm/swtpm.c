/* SPDX-License-Identifier: Apache-2.0 */
/* One swtpm per guest: provision, start, control, supervise, stop (swtpm.h). */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/vtpm/swtpm.h"
#include "attest/vtpm/swtpm_priv.h"
#include "core/launch/gstate.h"
#include "core/log.h"
#include "core/util.h"

#define KEY_BYTES 32                     /* aes-256-cbc */
#define KEY_HEX_LEN (2 * KEY_BYTES + 1)  /* hex + '\n' */
#define CTRL_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 3000
#define CHILD_CTRL_FD 3
#define CHILD_KEY_FD 4
#define CHILD_SERVER_FD 5                /* sock_path mode: data listener */

/*
 * TMPDIR on tmpfs: swtpm_localca writes each certificate template to a
 * temporary file and has certtool read it while still open for writing; on
 * a disk /tmp a host measuring with IMA (ima_policy=tcb) records that as a
 * violation, a warning in the host's evidence (issue 15).  tmpfs is not
 * measured, and the templates are data.
 */
static char *const child_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR=/dev/shm",
				   NULL };

/* ---- validation -------------------------------------------------------- */

/* The guest-name rule is gstate_name_valid(); tpm->name must hold it. */
static_assert(GSTATE_NAME_MAX <= SWTPM_NAME_MAX, "a valid name fits swtpm's buffer");

/* Absolute, no comma (swtpm's option syntax), short enough for our buffers. */
static int path_valid(const char *p, size_t max)
{
	return p && p[0] == '/' && !strchr(p, ',') && strlen(p) < max;
}

static int cfg_validate(const struct swtpm_config *cfg)
{
	const char *banks = cfg->pcr_banks ? cfg->pcr_banks : "sha256,sha384";
	struct sockaddr_un sun;

	if (!gstate_name_valid(cfg->name)) {
		log_err("vTPM name '%s' invalid: want 1..%d of [A-Za-z0-9_.-]",
			cfg->name ? cfg->name : "", SWTPM_NAME_MAX);
		return -EINVAL;
	}
	if (!path_valid(cfg->state_dir, 512) || !path_valid(cfg->key_dir, 512) ||
	    !path_valid(cfg->ca_dir, 512) || !path_valid(cfg->cert_dir, 512)) {
		log_err("vTPM %s: state, key, CA and cert dirs must be absolute paths "
			"without commas", cfg->name);
		return -EINVAL;
	}
	if (cfg->sock_path && !path_valid(cfg->sock_path, sizeof(sun.sun_path) - 5)) {
		log_err("vTPM %s: socket path invalid or too long", cfg->name);
		return -EINVAL;
	}
	if (strspn(banks, "abcdefghijklmnopqrstuvwxyz0123456789,") != strlen(banks) ||
	    strlen(banks) > 64) {
		log_err("vTPM %s: PCR banks '%s' invalid", cfg->name, banks);
		return -EINVAL;
	}
	return 0;
}

/* The key directory must belong to us and be closed to everyone else. */
static int key_dir_open(const struct swtpm_config *cfg)
{
	struct stat st;
	int fd = open(cfg->key_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		log_err("vTPM %s: key dir %s: %s", cfg->name, cfg->key_dir, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		log_err("vTPM %s: key dir %s must be owned by uid %u with mode 0700",
			cfg->name, cfg->key_dir, (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* ---- the state key ---------------------------------------------------- */

static int key_create(int dirfd, const char *file, const char *tmp)
{
	uint8_t raw[KEY_BYTES];
	char hex[KEY_HEX_LEN + 1];
	int fd, rc = 0;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	hex_encode(raw, sizeof(raw), hex);
	hex[2 * KEY_BYTES] = '\n';
	explicit_bzero(raw, sizeof(raw));
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (write(fd, hex, KEY_HEX_LEN) != KEY_HEX_LEN || fsync(fd))
		rc = -EIO;
	close(fd);
	if (!rc && renameat(dirfd, tmp, dirfd, file))
		rc = -errno;
	if (rc)
		(void)unlinkat(dirfd, tmp, 0);
out:
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

/* Opens (creating on first use) the guest's key file; returns an fd. */
static int key_open(const struct swtpm_config *cfg)
{
	char file[SWTPM_NAME_MAX + 8], tmp[SWTPM_NAME_MAX + 12];
	struct stat st;
	int dirfd, fd, rc = 0;

	snprintf(file, sizeof(file), "%s.key", cfg->name);
	snprintf(tmp, sizeof(tmp), "%s.key.new", cfg->name);
	dirfd = key_dir_open(cfg);
	if (dirfd < 0)
		return dirfd;
	fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		rc = key_create(dirfd, file, tmp);
		if (!rc)
			log_info("vTPM %s: new state key in %s", cfg->name, cfg->key_dir);
		fd = rc ? -1 : openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		rc = rc ? rc : -errno;
	else if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		 (st.st_mode & 077) || st.st_size != KEY_HEX_LEN)
		rc = -EPERM;
	if (rc) {
		log_err("vTPM %s: state key %s/%s unusable (%s)", cfg->name, cfg->key_dir,
			file, strerror(-rc));
		if (fd >= 0)
			close(fd);
		fd = rc;
	}
	close(dirfd);
	return fd;
}

/* ---- child processes -------------------------------------------------- */

/* In the child: fds[i] becomes fd 3+i, everything else above is closed. */
static void child_fds(const int *fds, size_t n)
{
	int tmp[4];
	int devnull = open("/dev/null", O_RDWR);

	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || n > ARRAY_SIZE(tmp))
		_exit(127);
	for (size_t i = 0; i < n; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD, 64)) < 0)
			_exit(127);
	for (size_t i = 0; i < n; i++)
		if (dup2(tmp[i], 3 + (int)i) < 0)
			_exit(127);
	if (syscall(SYS_close_range, 3 + (unsigned)n, ~0u, 0))
		_exit(127);
}

static pid_t child_spawn(const struct swtpm_config *cfg, char *const argv[],
			 const int *fds, size_t n, int quiet)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	child_fds(fds, n);
	if (quiet && dup2(STDIN_FILENO, STDOUT_FILENO) < 0)
		_exit(127);
	if (cfg->child_setup && cfg->child_setup(cfg->child_arg))
		_exit(126);
	execve(argv[0], argv, child_env);
	_exit(127);
}

static int child_wait(pid_t pid, const char *what, const char *name)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_err("vTPM %s: %s failed (status 0x%x)", name, what, status);
	return -EIO;
}

/* ---- provisioning ------------------------------------------------------ */

static int file_write_new(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;     /* the admin's copy wins */
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

/* swtpm_setup.conf + swtpm_localca configuration, all inside ca_dir. */
static int ca_config(const struct swtpm_config *cfg, const char *banks)
{
	char text[4 * PATH_MAX];
	const char *d = cfg->ca_dir;
	int rc;

	if (mkdir(d, 0700) && errno != EEXIST)
		return -errno;
	snprintf(text, sizeof(text), "statedir = %s\nsigningkey = %s/signkey.pem\n"
		 "issuercert = %s/issuercert.pem\ncertserial = %s/certserial\n", d, d, d, d);
	rc = file_write_new(d, "swtpm-localca.conf", text);
	rc = rc ? rc : file_write_new(d, "swtpm-localca.options",
				      "--platform-manufacturer Bulwark\n"
				      "--platform-version 0.1\n"
				      "--platform-model bulwark-vmm\n");
	snprintf(text, sizeof(text), "create_certs_tool = /usr/bin/swtpm_localca\n"
		 "create_certs_tool_config = %s/swtpm-localca.conf\n"
		 "create_certs_tool_options = %s/swtpm-localca.options\n"
		 "active_pcr_banks = %s\n", d, d, banks);
	return rc ? rc : file_write_new(d, "swtpm_setup.conf", text);
}

static int state_provisioned(const struct swtpm_config *cfg)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/tpm2-00.permall", cfg->state_dir);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* First start: manufacture the vTPM with EK + platform certificates. */
static int state_provision(const struct swtpm_config *cfg, int keyfd)
{
	const char *banks = cfg->pcr_banks ? cfg->pcr_banks : "sha256,sha384";
	char conf[PATH_MAX], fdarg[16];
	char *argv[] = {
		"/usr/bin/swtpm_setup", "--tpm2", "--tpmstate", (char *)cfg->state_dir,
		"--create-ek-cert", "--create-platform-cert", "--config", conf,
		"--write-ek-cert-files", (char *)cfg->cert_dir, "--pcr-banks",
		(char *)banks, "--keyfile-fd", fdarg, "--cipher", "aes-256-cbc",
		"--not-overwrite", NULL
	};
	pid_t pid;
	int rc;

	rc = ca_config(cfg, banks);
	if (rc || (mkdir(cfg->cert_dir, 0755) && errno != EEXIST)) {
		log_err("vTPM %s: CA %s / cert dir %s: %s", cfg->name, cfg->ca_dir,
			cfg->cert_dir, strerror(rc ? -rc : errno));
		return rc ? rc : -errno;
	}
	snprintf(conf, sizeof(conf), "%s/swtpm_setup.conf", cfg->ca_dir);
	snprintf(fdarg, sizeof(fdarg), "%d", CHILD_CTRL_FD);
	pid = child_spawn(cfg, argv, &keyfd, 1, 1);
	if (pid < 0)
		return (int)pid;
	rc = child_wait(pid, "swtpm_setup", cfg->name);
	if (!rc)
		log_info("vTPM %s: manufactured, EK certificates in %s", cfg->name,
			 cfg->cert_dir);
	return rc;
}

/* ---- control channel --------------------------------------------------- */

static int ctrl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* The launcher's control fd; in sock_path mode a connection per command. */
static int ctrl_get(struct swtpm *tpm)
{
	char path[sizeof(tpm->sock_path) + 8];

	if (!tpm->sock_path[0])
		return tpm->ctrl_fd >= 0 ? tpm->ctrl_fd : -ENOTCONN;
	snprintf(path, sizeof(path), "%s.ctrl", tpm->sock_path);
	return ctrl_connect(path);
}

static void ctrl_put(struct swtpm *tpm, int fd)
{
	if (tpm->sock_path[0] && fd >= 0)
		close(fd);
}

static int ctrl_read(int fd, uint8_t *b, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (len) {
		ssize_t n;
		int r = poll(&pfd, 1, CTRL_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ETIMEDOUT;
		n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends BE cmd + payload (+ one fd by SCM_RIGHTS when pass_fd >= 0). */
static int ctrl_send(int fd, uint32_t cmd, const void *in, size_t in_len, int pass_fd)
{
	uint8_t buf[64];
	struct iovec iov = { .iov_base = buf, .iov_len = 4 + in_len };
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint32_t be = htobe32(cmd);

	if (in_len > sizeof(buf) - 4)
		return -EINVAL;
	memcpy(buf, &be, 4);
	if (in_len)
		memcpy(buf + 4, in, in_len);
	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.space;
		msg.msg_controllen = sizeof(ctl.space);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -EPIPE;
}

static int ctrl_exchange(struct swtpm *tpm, uint32_t cmd, const void *in, size_t in_len,
			 int pass_fd, void *out, size_t out_len)
{
	uint8_t res[4];
	uint32_t result;
	int fd = ctrl_get(tpm), rc;

	if (fd < 0)
		return fd;
	rc = ctrl_send(fd, cmd, in, in_len, pass_fd);
	rc = rc ? rc : ctrl_read(fd, res, sizeof(res));
	if (!rc) {
		memcpy(&result, res, 4);
		result = be32toh(result);
		if (result) {
			log_err("vTPM %s: control command %u: TPM result 0x%x", tpm->name,
				cmd, result);
			rc = -EIO;
		}
	}
	if (!rc && out_len)
		rc = ctrl_read(fd, out, out_len);
	ctrl_put(tpm, fd);
	if (rc && rc != -EIO)
		log_err("vTPM %s: control command %u: %s", tpm->name, cmd, strerror(-rc));
	return rc;
}

int swtpm_ctrl(struct swtpm *tpm, uint32_t cmd, const void *in, size_t in_len,
	       void *out, size_t out_len)
{
	if (cmd == SWTPM_CMD_SET_DATAFD)
		return -EINVAL;           /* only through swtpm_open_data() */
	return ctrl_exchange(tpm, cmd, in, in_len, -1, out, out_len);
}

/* ---- lifecycle --------------------------------------------------------- */

static void swtpm_reset(struct swtpm *tpm)
{
	memset(tpm, 0, sizeof(*tpm));
	tpm->pidfd = -1;
	tpm->ctrl_fd = -1;
}

/* sock_path mode: a listening socket at path, root's, mode 0600. */
static int listen_at(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc = 0;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);       /* a stale socket of an earlier run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	old = umask(077);                 /* no window where others may connect */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 8))
		rc = -errno;
	umask(old);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* The channels swtpm gets: fds[0] control, fds[2] data listener (paths). */
static int swtpm_channels(const struct swtpm_config *cfg, int sp[2], int fds[3])
{
	char path[sizeof(((struct swtpm *)0)->sock_path) + 8];

	if (!cfg->sock_path) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
			return -errno;
		fds[0] = sp[1];
		return 0;
	}
	snprintf(path, sizeof(path), "%s.ctrl", cfg->sock_path);
	fds[0] = listen_at(path);
	fds[2] = fds[0] < 0 ? fds[0] : listen_at(cfg->sock_path);
	if (fds[2] < 0) {
		int rc = fds[2];

		if (fds[0] >= 0)
			close(fds[0]);
		fds[0] = fds[2] = -1;
		return rc;
	}
	return 0;
}

static void swtpm_argv(const struct swtpm_config *cfg, char *argv[], char bufs[4][600])
{
	size_t argc = 0;

	argv[argc++] = SWTPM_BIN;
	argv[argc++] = "socket";
	argv[argc++] = "--tpm2";
	argv[argc++] = "--tpmstate";
	argv[argc++] = bufs[0];
	argv[argc++] = "--ctrl";
	argv[argc++] = bufs[1];
	argv[argc++] = "--key";
	argv[argc++] = bufs[2];
	argv[argc++] = "--locality";
	argv[argc++] = "reject-locality-4";
	/* swtpm's own profile: the calls it never needs kill it. */
	argv[argc++] = "--seccomp";
	argv[argc++] = "action=kill";
	snprintf(bufs[0], 600, "dir=%s,mode=0600", cfg->state_dir);
	snprintf(bufs[2], 600, "fd=%d,mode=aes-256-cbc,format=hex", CHILD_KEY_FD);
	/* Path mode: listeners the caller bound (the jail has no path to
	 * them); production: our end of a socketpair, as a connection. */
	snprintf(bufs[1], 600, "type=unixio,%s=%d", cfg->sock_path ? "fd" : "clientfd",
		 CHILD_CTRL_FD);
	if (cfg->sock_path) {
		snprintf(bufs[3], 600, "type=unixio,fd=%d", CHILD_SERVER_FD);
		argv[argc++] = "--server";
		argv[argc++] = bufs[3];
	}
	argv[argc] = NULL;
}

/* The jail, the state given to swtpm's uid, the confined child. */
static int swtpm_spawn(const struct swtpm_config *cfg, struct swtpm *tpm, int keyfd)
{
	char bufs[4][600], *argv[20];
	int sp[2] = { -1, -1 }, fds[3] = { -1, keyfd, -1 }, rc;
	size_t nfds = cfg->sock_path ? 3 : 2;
	struct jail_config j;
	pid_t pid;

	rc = swtpm_jail_init(cfg, &j);
	rc = rc ? rc : swtpm_state_own(cfg, j.uid, j.gid);
	for (int fd = CHILD_CTRL_FD; !rc && fd < CHILD_CTRL_FD + (int)nfds; fd++)
		rc = jail_config_keep_fd(&j, fd);
	rc = rc ? rc : swtpm_channels(cfg, sp, fds);
	if (rc)
		return rc;
	swtpm_argv(cfg, argv, bufs);
	pid = jail_clone(&j);
	if (pid == 0) {
		child_fds(fds, nfds);
		/* Not our stdout (it says nothing there): a file held open for
		 * writing by a long-lived swtpm is an IMA violation when root
		 * reads it (the fixture's output, say). */
		if (dup2(STDIN_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		swtpm_jail_child(cfg, &j, argv);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (i != 1 && fds[i] >= 0)
			close(fds[i]);
	if (pid < 0) {
		if (sp[0] >= 0)
			close(sp[0]);
		return (int)pid;
	}
	tpm->pid = pid;
	tpm->uid = j.uid;
	tpm->gid = j.gid;
	tpm->ctrl_fd = sp[0];
	tpm->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* In sock_path mode the sockets appear once swtpm runs: wait, bounded. */
static int swtpm_wait_ready(struct swtpm *tpm)
{
	char path[sizeof(tpm->sock_path) + 8];
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (!tpm->sock_path[0])
		return 0;
	snprintf(path, sizeof(path), "%s.ctrl", tpm->sock_path);
	for (int i = 0; i < 250; i++) {
		int fd = ctrl_connect(path);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (swtpm_check(tpm))
			return -ESRCH;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/*
 * After a failed start: a swtpm that already exited is reaped here and its
 * reason said in one line (126: its jail could not be set up, the child's
 * own line above says which step), so swtpm_stop sends it nothing.
 */
static void swtpm_gone_report(struct swtpm *tpm)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status;

	for (int i = 0; tpm->pid && i < 20; i++) {
		if (waitpid(tpm->pid, &status, WNOHANG) == tpm->pid) {
			log_err("vTPM %s: swtpm exited before serving (status 0x%x)%s",
				tpm->name, status, WIFEXITED(status) &&
				WEXITSTATUS(status) == 126 ? ": its jail could not be set up; "
				"the guest does not start" : "");
			tpm->pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
}

int swtpm_start(const struct swtpm_config *cfg, struct swtpm *tpm)
{
	uint32_t init_flags = 0;
	int keyfd, rc;

	swtpm_reset(tpm);
	rc = cfg_validate(cfg);
	if (rc)
		return rc;
	snprintf(tpm->name, sizeof(tpm->name), "%s", cfg->name);
	if (cfg->sock_path)
		snprintf(tpm->sock_path, sizeof(tpm->sock_path), "%s", cfg->sock_path);
	if (mkdir(cfg->state_dir, 0700) && errno != EEXIST)
		return -errno;
	keyfd = key_open(cfg);
	if (keyfd < 0)
		return keyfd;
	if (!state_provisioned(cfg))
		rc = state_provision(cfg, keyfd);
	if (!rc && lseek(keyfd, 0, SEEK_SET))
		rc = -errno;
	rc = rc ? rc : swtpm_spawn(cfg, tpm, keyfd);
	close(keyfd);
	if (rc)
		goto fail;
	rc = swtpm_wait_ready(tpm);
	/* CMD_INIT: the TPM powers on; PCRs are at their reset values. */
	rc = rc ? rc : ctrl_exchange(tpm, SWTPM_CMD_INIT, &init_flags, 4, -1, NULL, 0);
	/* swtpm answered, so its seccomp profile is in place: the live process
	 * must show every drop, or it is stopped and the start fails. */
	rc = rc ? rc : swtpm_jail_verify(tpm->name, tpm->pid, tpm->uid, tpm->gid);
	if (rc)
		goto fail;
	log_info("vTPM %s: swtpm running confined as pid %d, uid %u", tpm->name,
		 (int)tpm->pid, (unsigned)tpm->uid);
	return 0;
fail:
	log_err("vTPM %s: cannot start: %s", cfg->name, strerror(-rc));
	swtpm_gone_report(tpm);
	swtpm_stop(tpm);
	return rc;
}

int swtpm_open_data(struct swtpm *tpm, int *fd)
{
	int sp[2], rc;

	*fd = -1;
	if (!tpm->pid)
		return -ESRCH;
	if (tpm->sock_path[0]) {
		rc = ctrl_connect(tpm->sock_path);
		if (rc >= 0)
			*fd = rc;
		return rc < 0 ? rc : 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -errno;
	rc = ctrl_exchange(tpm, SWTPM_CMD_SET_DATAFD, NULL, 0, sp[1], NULL, 0);
	close(sp[1]);                 /* swtpm holds its own copy now */
	if (rc) {
		close(sp[0]);
		return rc;
	}
	*fd = sp[0];
	return 0;
}

int swtpm_check(struct swtpm *tpm)
{
	int status;
	pid_t r;

	if (!tpm->pid)
		return -ESRCH;
	r = waitpid(tpm->pid, &status, WNOHANG);
	if (r == 0)
		return 0;
	if (r == tpm->pid)
		log_err("vTPM %s: swtpm (pid %d) exited, status 0x%x", tpm->name,
			(int)tpm->pid, status);
	tpm->pid = 0;
	return -ESRCH;
}

/* Waits up to ms for the child to exit; 0 once reaped. */
static int swtpm_reap(struct swtpm *tpm, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int waited = 0; waited <= ms; waited += 10) {
		int status;
		pid_t r = waitpid(tpm->pid, &status, WNOHANG);

		if (r == tpm->pid || r < 0) {
			log_debug("vTPM %s: swtpm exited, status 0x%x", tpm->name,
				  r < 0 ? -1 : status);
			tpm->pid = 0;
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int swtpm_stop(struct swtpm *tpm)
{
	int rc = 0;

	if (tpm->pid) {
		/* swtpm writes its state and exits on CMD_SHUTDOWN. */
		if (ctrl_exchange(tpm, SWTPM_CMD_SHUTDOWN, NULL, 0, -1, NULL, 0) ||
		    swtpm_reap(tpm, STOP_TIMEOUT_MS)) {
			log_warn("vTPM %s: no clean shutdown, killing pid %d", tpm->name,
				 (int)tpm->pid);
			kill(tpm->pid, SIGKILL);      /* unreaped: the pid is still ours */
			swtpm_reap(tpm, STOP_TIMEOUT_MS);
			rc = -ETIMEDOUT;
		}
	}
	if (tpm->ctrl_fd >= 0)
		close(tpm->ctrl_fd);
	if (tpm->pidfd >= 0)
		close(tpm->pidfd);
	if (tpm->sock_path[0]) {
		char path[sizeof(tpm->sock_path) + 8];

		snprintf(path, sizeof(path), "%s.ctrl", tpm->sock_path);
		(void)unlink(path);
		(void)unlink(tpm->sock_path);
	}
	swtpm_reset(tpm);
	return rc;
}

/* Removes the regular files of dir, then dir; subdirectories are refused. */
static int dir_remove(const char *dir)
{
	struct dirent *de;
	int rc = 0, fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(fd, de->d_name, 0))
			rc = -errno;
	}
	closedir(d);
	if (!rc && rmdir(dir))
		rc = -errno;
	return rc;
}

int swtpm_delete(const struct swtpm_config *cfg)
{
	char file[SWTPM_NAME_MAX + 8];
	int dirfd, rc = cfg_validate(cfg);

	if (rc)
		return rc;
	rc = dir_remove(cfg->state_dir);
	if (rc) {
		log_err("vTPM %s: cannot remove state %s: %s", cfg->name, cfg->state_dir,
			strerror(-rc));
		return rc;
	}
	/* Without the key, any copy of the state left elsewhere is unreadable. */
	dirfd = key_dir_open(cfg);
	if (dirfd < 0)
		return dirfd;
	snprintf(file, sizeof(file), "%s.key", cfg->name);
	if (unlinkat(dirfd, file, 0) && errno != ENOENT)
		rc = -errno;
	close(dirfd);
	if (!rc)
		log_info("vTPM %s: state and key deleted", cfg->name);
	return rc;
}

/* ---- state blobs (issue 17) -------------------------------------------- */

#define STATE_FLAG_DECRYPTED 1u        /* ptm.h PTM_STATE_FLAG_DECRYPTED */
#define STATE_FLAG_ENCRYPTED 2u        /* ptm.h PTM_STATE_FLAG_ENCRYPTED */
#define INIT_FLAG_DELETE_VOLATILE 1u   /* ptm.h PTM_INIT_FLAG_DELETE_VOLATILE */
#define TPM_RETRY_BIT 0x800u           /* "no such blob": an empty one */

static const char *blob_name(enum swtpm_blob which)
{
	static const char *const names[] = { "permanent", "volatile", "savestate" };

	return which >= SWTPM_BLOB_PERMANENT && which <= SWTPM_BLOB_SAVESTATE ?
		names[which - 1] : NULL;
}

/* ptm_getstate's reply: result, flags, totlength, length, then the blob. */
static int state_get_reply(struct swtpm *tpm, int fd, const char *name, uint8_t **buf,
			   size_t *len)
{
	uint32_t h[4];
	int rc = ctrl_read(fd, (uint8_t *)h, sizeof(h));

	for (size_t i = 0; !rc && i < ARRAY_SIZE(h); i++)
		h[i] = be32toh(h[i]);
	if (rc)
		return rc;
	if (h[0] && (h[0] & TPM_RETRY_BIT) && !h[2])
		return 0;                          /* swtpm has no such blob */
	if (h[0] || h[2] != h[3] || h[2] > SWTPM_BLOB_MAX || (h[1] & STATE_FLAG_ENCRYPTED)) {
		log_err("vTPM %s: %s blob refused: result 0x%x, flags 0x%x, %u of %u bytes "
			"(at most %u, decrypted)", tpm->name, name, h[0], h[1], h[3], h[2],
			SWTPM_BLOB_MAX);
		return h[0] ? -EIO : -EPROTO;
	}
	if (!h[2])
		return 0;
	*buf = malloc(h[2]);
	if (!*buf)
		return -ENOMEM;
	rc = ctrl_read(fd, *buf, h[2]);
	if (rc) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	*len = h[2];
	return 0;
}

int swtpm_state_get(struct swtpm *s, enum swtpm_blob which, uint8_t **buf, size_t *len)
{
	const char *name = blob_name(which);
	uint32_t req[3] = { htobe32(STATE_FLAG_DECRYPTED), htobe32((uint32_t)which), 0 };
	int fd, rc;

	*buf = NULL;
	*len = 0;
	if (!name)
		return -EINVAL;
	fd = ctrl_get(s);
	if (fd < 0)
		return fd;
	rc = ctrl_send(fd, SWTPM_CMD_GET_STATEBLOB, req, sizeof(req), -1);
	rc = rc ? rc : state_get_reply(s, fd, name, buf, len);
	ctrl_put(s, fd);
	if (rc)
		log_err("vTPM %s: cannot read its %s state: %s", s->name, name, strerror(-rc));
	else
		log_debug("vTPM %s: %s state, %zu bytes", s->name, name, *len);
	return rc;
}

/* All of buf to the control channel, without SIGPIPE if swtpm went away. */
static int ctrl_send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int swtpm_state_set(struct swtpm *s, enum swtpm_blob which, const uint8_t *buf, size_t len)
{
	const char *name = blob_name(which);
	uint32_t req[3] = { 0, htobe32((uint32_t)which), htobe32((uint32_t)len) };
	uint32_t result = 0;
	int fd, rc;

	if (!name || len > SWTPM_BLOB_MAX || (len && !buf))
		return -EINVAL;
	fd = ctrl_get(s);
	if (fd < 0)
		return fd;
	/* header and blob in one stream: swtpm reads them as one command */
	rc = ctrl_send(fd, SWTPM_CMD_SET_STATEBLOB, req, sizeof(req), -1);
	rc = rc ? rc : ctrl_send_all(fd, buf, len);
	rc = rc ? rc : ctrl_read(fd, (uint8_t *)&result, sizeof(result));
	ctrl_put(s, fd);
	if (!rc && be32toh(result)) {
		log_err("vTPM %s: %s state refused by swtpm: result 0x%x", s->name, name,
			be32toh(result));
		rc = -EIO;
	} else if (rc) {
		log_err("vTPM %s: cannot set its %s state: %s", s->name, name, strerror(-rc));
	}
	return rc;
}

int swtpm_state_restore(struct swtpm *s, const struct swtpm_blobs *b)
{
	uint32_t init_flags = htobe32(INIT_FLAG_DELETE_VOLATILE);
	int rc;

	if (!b->len[0] || !b->len[1]) {
		/* without the volatile state the TPM would come up reset: no
		 * PCRs, no startup, not the guest's TPM */
		log_err("vTPM %s: a restore needs the permanent and volatile state", s->name);
		return -EINVAL;
	}
	rc = ctrl_exchange(s, SWTPM_CMD_STOP, NULL, 0, -1, NULL, 0);
	for (int w = SWTPM_BLOB_PERMANENT; !rc && w <= SWTPM_BLOB_SAVESTATE; w++)
		if (b->len[w - 1])
			rc = swtpm_state_set(s, (enum swtpm_blob)w, b->data[w - 1],
					     b->len[w - 1]);
	/* INIT loads what was set (volatile: the PCRs, loaded objects, sessions)
	 * and then deletes the volatile file, as QEMU does on an incoming
	 * migration, so a later plain restart cannot resume it again. */
	rc = rc ? rc : ctrl_exchange(s, SWTPM_CMD_INIT, &init_flags, 4, -1, NULL, 0);
	if (rc)
		log_err("vTPM %s: state restore failed: %s", s->name, strerror(-rc));
	return rc;
}
