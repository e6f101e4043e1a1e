/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark run`: the privileged launcher.  Parses and validates everything
 * (flags override the --config file) and opens every file before creating
 * anything; then starts the guest-facing VMM (bulwark-vmm, beside this
 * binary) with only the descriptors of vmm_abi.h, forwards SIGTERM/SIGINT/
 * SIGHUP to it, and exits with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/acpi.h"
#include "core/boot.h"
#include "core/commands.h"
#include "core/config.h"
#include "core/launcher.h"
#include "core/log.h"
#include "core/util.h"
#include "core/vmm_abi.h"

static const char *const run_flags[] = {
	"name", "kernel", "initrd", "cmdline", "cpus", "memory",
};

static void run_usage(FILE *f)
{
	fprintf(f, "usage: bulwark run --kernel BZIMAGE [--initrd FILE] "
		"[--cmdline STRING]\n"
		"                  [--cpus 1..%d] [--memory MIB] [--name NAME]\n"
		"                  [--config FILE.json] [--log-level err|warn|info|debug]\n"
		"Flags override the settings of --config.  Exit status: 0 guest powered\n"
		"off, rebooted or was stopped by SIGTERM; 1 guest crash or KVM error;\n"
		"2 bad configuration or set-up failure.\n", VM_MAX_CPUS);
}

/* "--flag value" or "--flag=value": sets *FLAG (without dashes) and *VAL. */
static int run_next_flag(int argc, char **argv, int *i, char *flag, size_t flen,
			 const char **val)
{
	const char *a = argv[*i], *eq;

	if (strncmp(a, "--", 2) || !a[2]) {
		log_err("unexpected argument '%.64s' (see bulwark run --help)", a);
		return -EINVAL;
	}
	a += 2;
	eq = strchr(a, '=');
	if ((size_t)(eq ? eq - a : (long)strlen(a)) >= flen) {
		log_err("unknown option '--%.32s'", a);
		return -EINVAL;
	}
	snprintf(flag, flen, "%.*s", (int)(eq ? eq - a : (long)strlen(a)), a);
	if (!strcmp(flag, "help")) {
		*val = NULL;
		return 0;
	}
	if (eq) {
		*val = eq + 1;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		log_err("--%s: needs a value", flag);
		return -EINVAL;
	}
	return 0;
}

static int run_is_setting(const char *flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_flags); i++)
		if (!strcmp(flag, run_flags[i]))
			return 1;
	return 0;
}

/* Pass 1 (config file, log level) when FILE_PASS, else pass 2 (settings). */
static int run_parse_pass(struct vm_config *cfg, int argc, char **argv,
			  int file_pass, enum log_level *level)
{
	for (int i = 1; i < argc; i++) {
		char flag[32], what[40];
		const char *val;
		int rc = run_next_flag(argc, argv, &i, flag, sizeof(flag), &val);

		if (rc)
			return rc;
		if (!val) {
			run_usage(stdout);
			return 1;
		}
		snprintf(what, sizeof(what), "--%s", flag);
		if (!strcmp(flag, "config")) {
			rc = file_pass ? config_load_file(cfg, val) : 0;
		} else if (!strcmp(flag, "log-level")) {
			rc = log_parse_level(val, level);
			if (rc)
				log_err("--log-level: '%.16s' is not err, warn, info or debug", val);
		} else if (run_is_setting(flag)) {
			rc = file_pass ? 0 : config_set(cfg, flag, val, what);
		} else {
			log_err("unknown option '--%s' (see bulwark run --help)", flag);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int launcher_parse_args(struct vm_config *cfg, int argc, char **argv,
			enum log_level *level)
{
	int rc;

	config_init(cfg);
	rc = run_parse_pass(cfg, argc, argv, 1, level);
	if (!rc)
		rc = run_parse_pass(cfg, argc, argv, 0, level);
	if (!rc)
		rc = config_validate(cfg);
	return rc;
}

static int run_open(const char *path, int flags, const char *what)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		log_err("%s: %s: %s", what, path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* bulwark-vmm beside our own executable, opened now and exec'd by fd later. */
static int run_open_vmm(void)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		log_err("cannot find our own executable: %s", strerror(errno));
		return -ENOENT;
	}
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirname(self), VMM_BINARY);
	return run_open(path, O_RDONLY, "VMM binary");
}

static int run_config_memfd(const struct launch *l)
{
	int fd = memfd_create("bulwark-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (write(fd, l->canonical, l->canonical_len) != (ssize_t)l->canonical_len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_SEAL) < 0) {
		int rc = -errno;

		close(fd);
		return rc ? rc : -EIO;
	}
	return fd;
}

/* Validate and open everything; nothing is created before this succeeds. */
static int run_prepare(struct launch *l)
{
	int rc;

	l->kernel_fd = rc = run_open(l->cfg.kernel, O_RDONLY, "--kernel");
	if (rc >= 0 && l->cfg.initrd[0])
		l->initrd_fd = rc = run_open(l->cfg.initrd, O_RDONLY, "--initrd");
	if (rc >= 0)
		rc = boot_plan(&l->cfg, l->kernel_fd, l->initrd_fd, &l->plan);
	if (rc >= 0)
		rc = config_canonical(&l->cfg, &l->canonical, &l->canonical_len);
	if (rc >= 0)
		rc = acpi_build(&l->cfg, &l->acpi);
	if (rc >= 0)
		l->vmm_fd = rc = run_open_vmm();
	if (rc >= 0)
		l->kvm_fd = rc = run_open("/dev/kvm", O_RDWR, "KVM");
	if (rc >= 0)
		l->config_fd = rc = run_config_memfd(l);
	return rc < 0 ? rc : 0;
}

static void run_close(struct launch *l)
{
	int *fds[] = { &l->kernel_fd, &l->initrd_fd, &l->kvm_fd, &l->config_fd,
		       &l->vmm_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	free(l->canonical);
	l->canonical = NULL;
}

int launcher_child_confine(const struct launch *l)
{
	(void)l;   /* svirt label + jail: see launcher.h */
	return 0;
}

/* In the child: the VMM's descriptors at their fixed numbers, all others closed. */
static int run_child_fds(const struct launch *l)
{
	const int src[] = { l->config_fd, l->kvm_fd, l->kernel_fd, l->initrd_fd,
			    l->vmm_fd };
	const int dst[] = { VMM_FD_CONFIG, VMM_FD_KVM, VMM_FD_KERNEL, VMM_FD_INITRD,
			    VMM_FD_FIRST_FREE };
	int hi[ARRAY_SIZE(src)];

	static_assert(ARRAY_SIZE(src) == ARRAY_SIZE(dst), "one target per fd");
	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		hi[i] = src[i] < 0 ? -1 : fcntl(src[i], F_DUPFD_CLOEXEC, 100);
		if (src[i] >= 0 && hi[i] < 0)
			return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(src); i++) {
		/* The VMM binary's fd stays close-on-exec: fexecve consumes it. */
		int flags = dst[i] == VMM_FD_FIRST_FREE ? O_CLOEXEC : 0;

		if (hi[i] < 0)
			close(dst[i]);
		else if (dup3(hi[i], dst[i], flags) < 0)
			return -errno;
	}
	return close_range(VMM_FD_FIRST_FREE + 1, ~0U, 0) < 0 ? -errno : 0;
}

static void run_child(const struct launch *l)
{
	char *argv[] = { VMM_BINARY, "--log-level", NULL, NULL };
	static const char *const levels[] = { "err", "warn", "info", "debug" };
	char *envp[] = { NULL };
	sigset_t none;
	int rc;

	sigemptyset(&none);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	argv[2] = (char *)levels[l->level];
	rc = run_child_fds(l);
	if (!rc)
		rc = launcher_child_confine(l);
	if (!rc) {
		fexecve(VMM_FD_FIRST_FREE, argv, envp);
		rc = -errno;
	}
	log_err("cannot start " VMM_BINARY ": %s", strerror(-rc));
	_exit(VMM_EXIT_SETUP);
}

/* Wait for the VMM, forwarding stop signals; returns its exit status. */
static int run_wait(pid_t pid, const sigset_t *set)
{
	int status;

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);

		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			log_info("signal %d: asking the VMM to stop the guest", sig);
			kill(pid, SIGTERM);
			continue;
		}
		if (sig < 0 && errno != EINTR)
			return VMM_EXIT_SETUP;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	log_err(VMM_BINARY " killed by signal %d", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

static int run_launch(struct launch *l)
{
	struct termios tio;
	int have_tio = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
	sigset_t set, old;
	pid_t pid;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return VMM_EXIT_SETUP;
	}
	if (pid == 0)
		run_child(l);
	run_close(l);     /* the VMM holds them now */
	status = run_wait(pid, &set);
	if (have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

int cmd_run(int argc, char **argv)
{
	static struct launch l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.kernel_fd = l.initrd_fd = l.kvm_fd = l.config_fd = l.vmm_fd = -1;
	l.level = log_get_level();
	rc = launcher_parse_args(&l.cfg, argc, argv, &l.level);
	if (rc == 1)
		return 0;
	log_set_level(l.level);
	if (rc)
		return VMM_EXIT_SETUP;
	log_set_vm_name(l.cfg.name);
	rc = run_prepare(&l);
	if (rc) {
		run_close(&l);
		return VMM_EXIT_SETUP;
	}
	return run_launch(&l);
}
