/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark run`, part 2: the order of the launch (core/launch/launcher.h) and its
 * one unwind ladder.  Everything is validated and opened
 * (core/launch/launch_validate.c) before the first change to the host; whatever
 * fails later, nothing is left behind: no label changed, no swtpm running,
 * no registry entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/util.h"
#include "core/vmm_abi.h"

/* The receiver gets a read-only open of the sealed memfd: its fd cannot
 * write even if the seals were gone, and SELinux checks only read. */
int launch_memfd_sealed(const struct launch *l, const char *name,
			const void *buf, size_t len)
{
	char path[64];
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), ro, rc;

	if (fd < 0)
		return -errno;
	/* sVirt: the memfd type at the guest's pair (a plain tmpfs file
	 * otherwise, which the guest's domain may not read). */
	if (l->svm && (rc = svirt_vm_label_memfd(l->svm, fd)) < 0) {
		close(fd);
		return rc;
	}
	errno = 0;
	if (write(fd, buf, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_SEAL) < 0) {
		rc = errno ? -errno : -EIO;
		close(fd);
		return rc;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	rc = ro < 0 ? -errno : ro;
	close(fd);
	return rc;
}

static int run_id_parse(const char *val, const char *what, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || v == 0 || v >= 0xffffffffUL) {
		log_err("%s: '%.32s' is not a non-zero id", what, val);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int run_stop_timeout(const char *val, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v > LAUNCH_STOP_TIMEOUT_MAX) {
		log_err("--stop-timeout: '%.32s' is not a number of seconds (0..%u)",
			val, LAUNCH_STOP_TIMEOUT_MAX);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

/* --control-group NAME: an existing group other than root's. */
static int run_group(const char *val, gid_t *out)
{
	struct group *g = getgrnam(val);

	if (!g || g->gr_gid == 0) {
		log_err("--control-group: '%.32s' is not a group (root's is implied)", val);
		return -EINVAL;
	}
	*out = g->gr_gid;
	return 0;
}

/* The launcher's own flags (launcher_flag_cb); pass 2 only. */
int launch_run_opt(void *arg, const char *flag, const char *val, int file_pass)
{
	struct launch_opts *o = arg;
	const char *const *paths[] = { &o->state_dir, &o->vtpm_dir, &o->key_dir,
				       &o->ca_dir, &o->jail_root, &o->host_tpm, &o->host_dir };
	static const char *const path_flags[] = { "state-dir", "vtpm-state-dir",
		"key-dir", "ek-ca-dir", "jail-root", "host-tpm", "host-dir" };
	unsigned int id;
	int rc;

	(void)file_pass;
	static_assert(ARRAY_SIZE(paths) == ARRAY_SIZE(path_flags), "one per flag");
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (!strcmp(flag, path_flags[i])) {
			if (val[0] != '/') {
				log_err("--%s: '%.64s' is not an absolute path", flag, val);
				return -EINVAL;
			}
			*(const char **)paths[i] = val;
			return 0;
		}
	if (!strcmp(flag, "stop-timeout"))
		return run_stop_timeout(val, &o->stop_timeout);
	if (!strcmp(flag, "control-group"))
		return run_group(val, &o->control_gid);
	if (strcmp(flag, "uid") && strcmp(flag, "gid"))
		return -ENOENT;
	rc = run_id_parse(val, flag, &id);
	if (!rc && flag[0] == 'u')
		o->uid = id;
	else if (!rc)
		o->gid = id;
	return rc;
}

int launch_args_walk(int argc, char **argv, launch_arg_fn fn, void *ctx)
{
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *eq = strchr(f, '=');
		char flag[64];
		int rc;

		if (strncmp(f, "--", 2)) {
			rc = fn(ctx, NULL, f);
		} else {
			snprintf(flag, sizeof(flag), "%.*s", eq ? (int)(eq - f - 2) : 63, f + 2);
			rc = eq ? fn(ctx, flag, eq + 1) : fn(ctx, flag, NULL);
			if (rc == -EAGAIN)
				rc = i + 1 < argc ? fn(ctx, flag, argv[++i]) : -EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* The guest config's modes in the sandbox's and svirt's terms. */
static int run_modes(struct launch *l)
{
	static const enum svirt_mode sv[] = {
		[CONFIG_SVIRT_DYNAMIC] = SVIRT_MODE_DYNAMIC,
		[CONFIG_SVIRT_STATIC] = SVIRT_MODE_STATIC,
		[CONFIG_SVIRT_OFF] = SVIRT_MODE_OFF,
	};

	if ((size_t)l->cfg.svirt >= ARRAY_SIZE(sv) ||
	    (l->cfg.seccomp != CONFIG_SECCOMP_KILL && l->cfg.seccomp != CONFIG_SECCOMP_LOG))
		return -EINVAL;
	l->svirt = sv[l->cfg.svirt];
	l->seccomp = l->cfg.seccomp == CONFIG_SECCOMP_LOG ? SANDBOX_SECCOMP_LOG :
		     SANDBOX_SECCOMP_KILL;
	if (l->cfg.vtpm && !l->cfg.cmdline[0]) {
		log_err("the measured boot needs a command line");
		return -EINVAL;
	}
	return 0;
}

static void run_opts_default(struct launch *l)
{
	struct launch_opts *o = &l->opt;

	memset(o, 0, sizeof(*o));
	o->state_dir = LAUNCH_STATE_DIR;
	o->key_dir = LAUNCH_KEY_DIR;
	o->ca_dir = LAUNCH_CA_DIR;
	o->jail_root = JAIL_ROOT_DEFAULT;
	o->stop_timeout = LAUNCH_STOP_TIMEOUT;
}

/* What the VMM holds after its exec (l->canonical stays: run_free).
 * l->snap_fd, the launcher's end of
 * VMM_FD_SNAP, stays for the guest's life (a snapshot reads it):
 * launch_control_teardown closes it. */
static void run_close(struct launch *l)
{
	int *fds[] = { &l->kernel_fd, &l->initrd_fd, &l->kvm_fd, &l->config_fd,
		       &l->vmm_fd, &l->tap_fd, &l->evlog_fd, &l->vmm_ctl_fd,
		       &l->vmm_snap_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(l->disk_fd); i++) {
		if (l->disk_fd[i] >= 0)
			close(l->disk_fd[i]);
		l->disk_fd[i] = -1;
	}
}

/* The canonical configuration stays for the guest's life: a snapshot's
 * META carries it (core/launch/launch_snapshot.c). */
static void run_free(struct launch *l)
{
	free(l->canonical);
	l->canonical = NULL;
}

/* After the checks: the registry entry, the labels, the config memfd and
 * the jail root, in that order; the caller undoes them. */
static int run_act(struct launch *l)
{
	int rc = launch_svirt_setup(l);

	if (!rc)
		rc = launch_inputs_label(l);
	if (!rc)
		l->config_fd = rc = launch_memfd_sealed(l, "bulwark-config", l->canonical,
							l->canonical_len);
	if (rc >= 0)
		rc = launch_jail_setup(l);
	return rc < 0 ? rc : 0;
}
/* RUN_DIR/NAME, emptied by the control socket's and attestd's close: gone
 * too, so a stopped guest leaves nothing in /run.  Not empty (a file that
 * is not ours) or already gone: left as it is. */
static void launch_run_dir_remove(const struct launch *l)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", ATTESTD_RUN_DIR, l->cfg.name) >=
	    (int)sizeof(path))
		return;
	if (rmdir(path) && errno != ENOENT && errno != ENOTEMPTY)
		log_warn("%s: %s", path, strerror(errno));
}


/* The whole launch, one ladder: each step undone in reverse order.  Every
 * input is checked (launch_validate) before the first change to the host.
 * WHY names the step a refused start failed at (its audit record). */
static int run_launch(struct launch *l)
{
	const char *why = "validation";
	pid_t pid;
	int rc, status = VMM_EXIT_SETUP;

	rc = launch_validate(l);
	if (!rc) {
		why = "moved";       /* before any label: the disks may be in use there */
		rc = launch_moved_refuse(l);
	}
	if (!rc && l->restore) {
		why = "snapshot";
		rc = launch_restore_check(l);
	}
	if (!rc && l->incoming) {
		why = "incoming";
		rc = launch_incoming_check(l);
	}
	if (rc) {
		run_close(l);
		run_free(l);
		launch_audit_refused(l, why);
		launch_incoming_end(l, why, false);
		return VMM_EXIT_SETUP;
	}
	why = "labels";
	rc = run_act(l);
	if (rc)
		goto out_files;
	why = "vtpm";
	rc = launch_vtpm_start(l);
	if (rc)
		goto out_files;
	if (l->restore) {
		why = "restore";
		rc = launch_restore_setup(l);
		if (rc)
			goto out_vtpm;
	}
	if (l->incoming) {
		why = "incoming";
		rc = launch_incoming_setup(l);
		if (rc)
			goto out_vtpm;
	}
	/* A migration's target enrolls the source's TPM once the guest runs
	 * here (launch_incoming_feed, after RUNNING): the TPM made at this
	 * start is not the guest's. */
	why = "attestation";
	rc = l->incoming ? 0 : launch_attestd_open(l);
	if (rc)
		goto out_vtpm;
	why = "control";
	rc = launch_control_setup(l);
	if (rc)
		goto out_attestd;
	why = "jail";
	pid = launch_child_start(l);
	if (pid < 0)
		goto out_control;
	why = "exec";
	rc = launch_exec_wait(l, pid);
	if (!rc)
		rc = launch_watch_start(l, pid);
	if (rc)
		kill(pid, SIGKILL);
	run_close(l);     /* the VMM holds them now (or is being killed) */
	if (l->vtpm_running)
		vtpm_vmm_fd_close(&l->vtpm);
	/* A restore: the state fed to the VMM, the restore event measured,
	 * then the guest resumed; any failure kills it (fail closed). */
	if (!rc && l->restore) {
		why = "restore";
		rc = launch_restore_feed(l);
		if (rc)
			kill(pid, SIGKILL);
	}
	/* A migration's target: the same, from the source's stream; its
	 * source told at once of a failure (launch_incoming_end). */
	if (!rc && l->incoming) {
		why = "migration";
		rc = launch_incoming_feed(l);
		if (rc) {
			kill(pid, SIGKILL);
			launch_incoming_end(l, why, false);
		}
	}
	if (!rc) {
		launch_audit_started(l);
		why = NULL;
	}
	/* Also after a failed verification: reap the killed child. */
	status = launch_loop_run(l, pid);
	if (rc)
		status = VMM_EXIT_SETUP;
	launch_watch_stop(l);
out_control:
	launch_control_teardown(l);
out_attestd:
	launch_attestd_close(l);
	launch_run_dir_remove(l);
out_vtpm:
	launch_vtpm_stop(l);
	(void)launch_moved_retire(l);     /* a guest moved away: its TPM's copy */
out_files:
	run_close(l);
	run_free(l);
	launch_svirt_release(l);
	if (why)
		launch_audit_refused(l, why);
	else
		launch_audit_stopped(l, status);
	if (l->restore)
		launch_restore_audit(l, why ? why : "restored", !why);
	if (why)
		launch_incoming_end(l, why, false);
	return status;
}

void launch_init(struct launch *l)
{
	memset(l, 0, sizeof(*l));
	l->kernel_fd = l->initrd_fd = l->kvm_fd = l->config_fd = l->vmm_fd = -1;
	l->tap_fd = l->evlog_fd = l->vmm_ctl_fd = l->snap_fd = l->vmm_snap_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(l->disk_fd); i++)
		l->disk_fd[i] = -1;
	l->vtpm.vmm_fd = -1;
	l->level = log_get_level();
	run_opts_default(l);
}

int cmd_run(int argc, char **argv)
{
	static struct launch l;
	struct launcher_flag_cb cb = { launch_run_opt, &l.opt };
	int rc;

	/* A live migration's target: the configuration comes from the source. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--incoming") || !strncmp(argv[i], "--incoming=", 11))
			return cmd_incoming(argc, argv);
	launch_init(&l);
	rc = launcher_parse_flags(&l.cfg, argc, argv, &l.level, &cb);
	if (rc == 1)
		return 0;
	log_set_level(l.level);
	if (rc)
		return VMM_EXIT_SETUP;
	return launch_run_prepared(&l);
}

/* After the flags (cmd_run) or the snapshot (cmd_restore): the modes, then
 * the whole launch. */
int launch_run_prepared(struct launch *l)
{
	int rc = run_modes(l);

	if (rc)
		return VMM_EXIT_SETUP;
	log_set_vm_name(l->cfg.name);
	/* A VMM or swtpm that goes away must be an error return, not our
	 * death (tpmproxy.h, attestd.h). */
	signal(SIGPIPE, SIG_IGN);
	/* Before anything is opened, so the relay children hold nothing else. */
	rc = launch_stdio_relay();
	if (rc)
		log_warn("stdout/stderr relay: %s (the guest's console may be lost)",
			 strerror(-rc));
	rc = launch_tty_start();
	if (rc) {
		log_err("console input from the terminal: %s", strerror(-rc));
		launch_tty_restore();
		return VMM_EXIT_SETUP;
	}
	rc = run_launch(l);
	launch_tty_restore();
	return rc;
}
