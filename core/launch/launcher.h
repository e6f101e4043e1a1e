/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The privileged launcher (`bulwark run`).  One file per responsibility:
 *   core/launch/launcher.c       flags
 *   core/launch/launch_validate.c every check and open before the first change
 *   core/launch/launch_run.c     the order of it all
 *   core/launch/launch_svirt.c   SELinux: state, registry entry, labels by fd
 *   core/launch/launch_vtpm.c    swtpm, the measured boot, the event log memfd
 *   core/launch/launch_child.c   the jail and the exec of bulwark-vmm
 *   core/launch/launch_loop.c    supervision: signals (power button, stop
 *                         timeout), VMM, swtpm, TPM proxy, attestation socket
 *   core/launch/launch_watch.c   the watchdog: VMM and swtpm die with the launcher
 *   core/launch/launch_control*.c  the guest's control socket (launch_control.h)
 *
 * The order (every step fails closed and is undone by run_unwind()).
 * First every check, with no change to the host (launch_validate()):
 *   parse + validate flags (none twice) and --config; ignore SIGPIPE
 *   open kernel, initrd, disks (core/path.h: no symlink anywhere, regular
 *     files only); no file twice, kernel/initrd never a writable disk;
 *     kernel and initrd headers (boot_plan); state folders; jail root
 *   canonical config, ACPI tables, bulwark-vmm (exec'd by that fd later),
 *   /dev/kvm, the tap (TUNSETIFF), the seccomp filters (digests measured)
 *   svirt_state_probe (refuses permissive/disabled unless --svirt=off)
 * Then the changes, each undone on failure:
 *   svirt_gc, svirt_vm_create (the guest's pair in the host registry)
 *   label kernel, initrd, disks through svirt (by fd; each must still be
 *     the file validated), the config memfd, the jail root
 *   vtpm_start: swtpm (vTPM domain, own state type) + measured boot
 *   attestation socket (attestd, when linked), control socket
 *   jail_clone (new namespaces) -> child: fds at their ABI numbers,
 *     setexeccon(guest label), jail_enter_child (pivot_root, rlimits,
 *     capabilities, uid/gid), fexecve(bulwark-vmm)
 *   parent: wait for the exec, svirt_parent_verify (SIGKILL on mismatch),
 *     svirt_vm_add_pid, the watchdog, close its copies of the VMM's fds,
 *     poll loop
 *   stop: watchdog stopped, attestd_close, vtpm_stop, svirt_vm_release
 *     (labels restored)
 */
#ifndef BULWARK_LAUNCHER_H
#define BULWARK_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "attest/vtpm/measure.h"
#include "attest/vtpm/vtpm.h"
#include "core/acpi.h"
#include "core/boot.h"
#include "core/config.h"
#include "core/log.h"
#include "core/sandbox.h"
#include "svirt/svirt.h"

#define LAUNCH_STATE_DIR "/var/lib/bulwark"
#define LAUNCH_KEY_DIR   "/var/lib/bulwark/keys"
#define LAUNCH_CA_DIR    "/var/lib/bulwark/ca"

/*
 * Stopping a guest (launch_loop.c): the first SIGTERM,
 * SIGINT or SIGHUP presses its power button; if it has not powered off
 * --stop-timeout seconds later (or at a second signal) the VMM stops it
 * hard (VMM_SIG_STOP, exit VMM_EXIT_STOPPED); a VMM still there
 * LAUNCH_STOP_GRACE_S seconds after that is killed.
 */
#define LAUNCH_STOP_TIMEOUT     60U
#define LAUNCH_STOP_TIMEOUT_MAX 86400U
#define LAUNCH_STOP_GRACE_S     10U

/*
 * Launcher-only host settings (paths, ids): not part of the guest config
 * (disks, NIC, vTPM, svirt and seccomp modes are: core/config.h).
 */
struct launch_opts {
	const char *state_dir;             /* --state-dir (LAUNCH_STATE_DIR) */
	const char *vtpm_dir;              /* --vtpm-state-dir: STATE/NAME/vtpm */
	const char *key_dir;               /* --key-dir (LAUNCH_KEY_DIR) */
	const char *ca_dir;                /* --ek-ca-dir (LAUNCH_CA_DIR) */
	const char *jail_root;             /* --jail-root (JAIL_ROOT_DEFAULT) */
	uid_t uid;                         /* --uid; 0: per-guest default */
	gid_t gid;                         /* --gid; 0: per-guest default */
	unsigned int stop_timeout;         /* --stop-timeout seconds: host policy,
					    * not measured (the guest is the same) */
	gid_t control_gid;                 /* --control-group: may use the control
					    * socket beside root; 0: root only */
	const char *host_tpm;              /* --host-tpm: enrollment bound to the */
	const char *host_dir;              /* --host-dir: host TPM (attestd.h) */
};

struct launch_restore;    /* core/launch/launch_restore.c: `bulwark restore` */
struct launch_incoming;   /* core/launch/launch_incoming.c: `run --incoming` */
struct measure_migration;

/* Everything the launcher prepared before starting the VMM. */
struct launch {
	struct vm_config cfg;
	struct launch_opts opt;
	enum svirt_mode svirt;             /* from cfg.svirt */
	enum sandbox_seccomp_mode seccomp; /* from cfg.seccomp */
	struct boot_plan plan;
	struct acpi_blob acpi;       /* the exact tables the guest will get */
	char *canonical;             /* config_canonical() bytes */
	size_t canonical_len;
	int kernel_fd, initrd_fd, kvm_fd, config_fd, vmm_fd, tap_fd, evlog_fd;
	int disk_fd[CONFIG_MAX_DISKS];
	/* What launch_validate() opened: the identity of every file. */
	struct stat kernel_st, initrd_st, disk_st[CONFIG_MAX_DISKS];
	enum log_level level;
	/* svirt */
	struct svirt_config scfg;
	struct svirt_state sstate;
	struct svirt_vm *svm;        /* NULL with --svirt=off */
	char vmm_label[SVIRT_LABEL_MAX];
	char vtpm_label[SVIRT_LABEL_MAX];
	/* seccomp filters, built here only for their digests */
	struct sandbox_filter filters[SANDBOX_ROLE_COUNT];
	bool have_filters;
	/* vTPM */
	struct vtpm vtpm;
	bool vtpm_running;
	char vtpm_dir[PATH_MAX], cert_dir[PATH_MAX], log_path[PATH_MAX];
	/* attestation control socket (attest/producer/attestd.h), when linked */
	void *attestd;
	/* the guest's control socket (core/launch/launch_control.h) and the VMM's
	 * end of its order channel (VMM_FD_CONTROL) */
	struct control *control;
	int vmm_ctl_fd;
	/* the state stream's socketpair (VMM_FD_SNAP; core/snapshot.h): the
	 * launcher's end and the VMM's */
	int snap_fd, vmm_snap_fd;
	/* the jail */
	struct jail_config jail;
	pid_t vmm_pid;
	pid_t watch_pid;             /* core/launch/launch_watch.c */
	/* `bulwark restore`: the opened, authenticated snapshot; NULL for a
	 * start (core/launch/launch_restore.c) */
	struct launch_restore *restore;
	/* `bulwark run --incoming`: the channel and HELLO of a live
	 * migration's source; NULL otherwise (core/launch/launch_incoming.c) */
	struct launch_incoming *incoming;
};

/* Flags and --config into CFG (validated).  1 for --help, 0, or -errno. */
int launcher_parse_args(struct vm_config *cfg, int argc, char **argv,
			enum log_level *level);

/*
 * A flag that is not a guest setting: fn gets it (value "" for the flags
 * without one) in both passes (FILE_PASS 1, then 0) and returns 0, -EINVAL
 * (message logged) or -ENOENT (not its flag either).
 */
struct launcher_flag_cb {
	int (*fn)(void *arg, const char *flag, const char *val, int file_pass);
	void *arg;
};
int launcher_parse_flags(struct vm_config *cfg, int argc, char **argv,
			 enum log_level *level, const struct launcher_flag_cb *cb);

/*
 * Runs in the child between fork and exec, with the VMM's descriptors in
 * place: setexeccon(guest label), then the jail.  Non-zero: the child
 * exits without exec (fail closed).
 */
int launcher_child_confine(const struct launch *l);

/* A sealed (read-only, fixed size) memfd holding BUF; fd or -errno. */
int launch_memfd_sealed(const struct launch *l, const char *name,
			const void *buf, size_t len);

/* core/launch/launch_svirt.c */
int launch_svirt_setup(struct launch *l);
/* SELinux's state (svirt_state_probe): reads only; before any change. */
int launch_svirt_probe(struct launch *l);
/* core/launch_validate.c: every input checked, every file opened; no host
 * change.  Then, once the registry entry exists, each file labelled and
 * checked to be the one validated. */
int launch_validate(struct launch *l);
int launch_inputs_label(struct launch *l);
int launch_svirt_open(struct launch *l, const char *path, enum svirt_obj kind,
		      const char *what);
int launch_svirt_handover(struct launch *l, const char *path, enum svirt_obj kind,
			  const char *what);
int launch_svirt_verify(struct launch *l, pid_t pid);
int launch_svirt_add_pid(struct launch *l, pid_t pid);
/* Under systemd, stdout and stderr are sockets of init_t that no guest
 * domain may use (nor a terminal, nor a file the user redirected to): a
 * pipe of the launcher's in the place of each, copied to it by a relay
 * child (core/launch/launch_stdio.c).  0 or -errno. */
int launch_stdio_relay(void);
/* The terminal on stdin as the guest's console (core/launch/launch_tty.c):
 * raw mode and a relay child whose pipe becomes stdin; Ctrl-] q arrives on
 * launch_tty_cmd_fd() (-1: none), launch_tty_cmd_read() says how many
 * times (-1: the relay is gone).  launch_tty_restore() ends the relay and
 * puts the mode back.  0 or -errno. */
int launch_tty_start(void);
int launch_tty_cmd_fd(void);
int launch_tty_cmd_read(void);
void launch_tty_restore(void);
void launch_svirt_release(struct launch *l);
/* A snapshot's folder at the guest's pair (vTPM-state type). */
int launch_svirt_label_snapshot(struct launch *l, const char *path);
unsigned int launch_svirt_slot(const struct launch *l);

/* core/launch/launch_vtpm.c */
int launch_filters_build(struct launch *l);
int launch_vtpm_start(struct launch *l);
void launch_vtpm_stop(struct launch *l);
/* STATE_DIR/NAME, created and locked for the life of this process (once):
 * its fd, or -errno. */
int launch_state_dirfd(struct launch *l);
/* The guest's swtpm paths (name, state, key, CA and certificate folders). */
void launch_vtpm_config(const struct launch *l, struct swtpm_config *tc);
/* A restore: the snapshot's blobs into the freshly started swtpm and its
 * log in place of the new boot's (before the VMM exists); later, the guest
 * restored and paused, the restore event (measure_restore) with the new
 * security state.  0 or -errno (fail closed). */
int launch_vtpm_restore(struct launch *l, const struct swtpm_blobs *b,
			const uint8_t *log, size_t log_len);
int launch_vtpm_measure_restore(struct launch *l, const uint8_t digest[32]);
/* The same for a live migration's target (measure_migrate). */
int launch_vtpm_measure_migrate(struct launch *l, const struct measure_migration *mg);

/* core/launch/launch_run.c, shared with `bulwark restore` */
void launch_init(struct launch *l);
int launch_run_opt(void *arg, const char *flag, const char *val, int file_pass);
int launch_run_prepared(struct launch *l);
/* `restore` and `run --incoming`: each argument to FN, "--flag=value" and
 * "--flag value" alike (FLAG without "--"; FLAG NULL for a word that is
 * not a flag).  FN gets VAL NULL first for a flag without '=': -EAGAIN
 * takes the next argument as its value.  0 or FN's first error. */
typedef int (*launch_arg_fn)(void *ctx, const char *flag, const char *val);
int launch_args_walk(int argc, char **argv, launch_arg_fn fn, void *ctx);

/* core/launch/launch_restore.c (a start: each returns 0 at once) */
int launch_restore_check(struct launch *l);
int launch_restore_setup(struct launch *l);
int launch_restore_feed(struct launch *l);
void launch_restore_audit(const struct launch *l, const char *reason, bool ok);

/* core/launch/launch_incoming.c: `run --incoming` (each returns 0 at once
 * for any other start); launch_incoming_end tells the source of a failed
 * start (STEP) and audits it. */
int cmd_incoming(int argc, char **argv);
int launch_incoming_check(struct launch *l);
int launch_incoming_setup(struct launch *l);
int launch_incoming_feed(struct launch *l);
void launch_incoming_end(struct launch *l, const char *step, bool ok);

/* core/launch/launch_child.c */
int launch_tap_open(const char *ifname);
int launch_jail_setup(struct launch *l);
pid_t launch_child_start(struct launch *l);
int launch_exec_wait(struct launch *l, pid_t pid);

/* core/launch/launch_watch.c */
int launch_watch_start(struct launch *l, pid_t vmm);
void launch_watch_stop(struct launch *l);

/* core/launch/launch_loop.c */
int launch_attestd_open(struct launch *l);
/* A migration's target, after RUNNING: the socket open (refusing until
 * the migrated TPM is enrolled, in a thread; for good if that fails). */
int launch_attestd_open_migrated(struct launch *l);
void launch_attestd_close(struct launch *l);
struct attestd_guest;
struct bundle_chain;
const struct attestd_guest *launch_attestd_identity(const struct launch *l);
int launch_attestd_ek_check(const struct launch *l, const struct bundle_chain *ek,
			    char *why, size_t whylen);
int launch_attestd_adopt(const struct launch *l, const char *uuid,
			 const struct bundle_chain *ek);
int launch_loop_run(struct launch *l, pid_t pid);
int launch_control_setup(struct launch *l);
void launch_control_teardown(struct launch *l);

#endif
