/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One swtpm per guest: provisioning (EK certificates from a local CA), state
 * encrypted at rest, start, the control channel, supervision, stop, delete.
 *
 * Channels.  The control channel is one end of a socketpair handed to swtpm
 * as --ctrl type=unixio,clientfd=3: it has no path, nobody else can connect
 * to it, and only the launcher holds the other end (it must never reach the
 * guest-facing VMM: whoever holds it can reset the TPM, i.e. its PCRs).  The
 * data channel is another socketpair whose swtpm end is sent over the control
 * channel (CMD_SET_DATAFD); the launcher measures through its end and only
 * then passes it to the VMM.
 *
 * For tests and interop with tpm2-tools, cfg->sock_path instead makes swtpm
 * listen on paths (data at sock_path, control at sock_path.ctrl, the layout
 * of the tss2 "swtpm:path=" TCTI).  The caller binds both (root-owned, mode
 * 0600) and swtpm gets the listening fds, so the jail needs no path for
 * them.  Not for production: anyone who can connect to the control socket
 * can reset the TPM.
 *
 * Confinement.  swtpm parses every TPM command the guest sends, so it never
 * runs with privilege: swtpm_start starts it in a jail of its own
 * (attest/vtpm/swtpm_jail.c, core/launch/jail*.c): its own uid and gid (cfg->uid, by
 * default JAIL_VTPM_ID_BASE + a slot from the caller's pid), no capability,
 * NO_NEW_PRIVS, new pid, mount, ipc, uts, cgroup and network namespaces, an
 * empty read-only root holding only the loader, the libraries, the swtpm
 * binary and its state directory (owned by that uid), its own seccomp
 * profile (--seccomp action=kill), parent-death SIGKILL.  After CMD_INIT
 * the caller reads the live process and stops it unless all of that holds.
 * Provisioning (swtpm_setup, swtpm_localca with the CA key) runs before,
 * unconfined, as the caller (SECURITY.md says why).
 *
 * State key.  32 random bytes, hex, in KEY_DIR/NAME.key (0600), KEY_DIR owned
 * by the launcher's user with mode 0700.  The key is handed to swtpm and
 * swtpm_setup as an inherited fd, so neither needs access to KEY_DIR, and it
 * never lives in the state directory: a copy or backup of the state is
 * ciphertext (aes-256-cbc), and deleting the key destroys the state.
 */
#ifndef BULWARK_ATTEST_SWTPM_H
#define BULWARK_ATTEST_SWTPM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Control channel commands (swtpm's ptm.h; big-endian u32 on the wire). */
enum swtpm_ctrl_cmd {
	SWTPM_CMD_GET_CAPABILITY = 1,
	SWTPM_CMD_INIT = 2,
	SWTPM_CMD_SHUTDOWN = 3,
	SWTPM_CMD_SET_LOCALITY = 5,
	SWTPM_CMD_GET_STATEBLOB = 12,
	SWTPM_CMD_SET_STATEBLOB = 13,
	SWTPM_CMD_STOP = 14,
	SWTPM_CMD_SET_DATAFD = 16,
};

/* swtpm's state blobs (ptm.h PTM_BLOB_TYPE_*). */
enum swtpm_blob {
	SWTPM_BLOB_PERMANENT = 1,
	SWTPM_BLOB_VOLATILE = 2,
	SWTPM_BLOB_SAVESTATE = 3,
};
/* Bound on one blob (swtpm's NV is at most 128 KiB plus headers). */
#define SWTPM_BLOB_MAX (1u << 20)

#define SWTPM_NAME_MAX 64

struct swtpm_config {
	const char *name;         /* guest name: [A-Za-z0-9_.-], 1..64 chars */
	const char *state_dir;    /* per-guest state directory (created 0700) */
	const char *key_dir;      /* launcher-only key directory, mode 0700 */
	const char *ca_dir;       /* swtpm_localca directory (created 0700) */
	const char *cert_dir;     /* EK certificates kept on the host */
	const char *pcr_banks;    /* e.g. "sha256,sha384"; NULL: that default */
	const char *sock_path;    /* NULL in production; see above */
	uid_t uid;                /* swtpm's uid, never root; 0: the default */
	gid_t gid;                /* swtpm's gid; 0: = its uid */
	const char *jail_root;    /* an empty directory, the mount point of the
				   * jail's root; NULL: JAIL_ROOT_DEFAULT */
	/*
	 * Runs in the swtpm child after fork, before exec (e.g. setexeccon for
	 * the vTPM domain).  Non-zero: the child exits and start fails.
	 */
	int (*child_setup)(void *arg);
	void *child_arg;
};

struct swtpm {
	char name[SWTPM_NAME_MAX + 1];
	pid_t pid;          /* 0 when not running */
	int pidfd;          /* pollable: readable when swtpm exits */
	int ctrl_fd;        /* launcher's end of the control channel */
	uid_t uid;          /* the ids swtpm runs as (checked live) */
	gid_t gid;
	char sock_path[108];
};

/*
 * Provisions the state on first use (swtpm_setup with EK and platform
 * certificates, the given PCR banks), then starts swtpm and sends CMD_INIT.
 * Validates cfg fully before creating anything.  Returns 0 or -errno; on
 * failure nothing is left running.
 */
int swtpm_start(const struct swtpm_config *cfg, struct swtpm *tpm);

/*
 * A fresh data channel: returns the launcher's end in *fd (CLOEXEC).  In
 * production mode a socketpair sent with CMD_SET_DATAFD; with sock_path a
 * connection to it.  swtpm serves one data channel at a time.
 */
int swtpm_open_data(struct swtpm *tpm, int *fd);

/* One control command: payload in, result code checked, reply payload out. */
int swtpm_ctrl(struct swtpm *tpm, uint32_t cmd, const void *in, size_t in_len,
	       void *out, size_t out_len);

/* 0 while swtpm runs, -ESRCH once it has exited (reaped, status logged). */
int swtpm_check(struct swtpm *tpm);

/* CMD_SHUTDOWN, wait (bounded), SIGKILL as a last resort; reaps; idempotent. */
int swtpm_stop(struct swtpm *tpm);

/*
 * The vTPM's state for a snapshot (issue 17), swtpm's CMD_GET_STATEBLOB /
 * CMD_SET_STATEBLOB on the control channel (ptm.h's ptm_getstate and
 * ptm_setstate, big-endian; on a socket the blob follows the reply header,
 * resp. the request header, whole).  Always the decrypted blob: the state
 * key of the swtpm it goes to may differ, and the snapshot is sealed by
 * the launcher (core/launch/snapbox.h).
 *
 * get: the guest paused and no TPM command in flight (the proxy idle);
 * *buf malloc'd (caller frees), at most SWTPM_BLOB_MAX.  A volatile or
 * savestate blob that swtpm does not have is returned empty (len 0).
 * set: on a swtpm stopped with CMD_STOP (swtpm_state_restore below does
 * the whole sequence).  0 or -errno (-EIO: swtpm's result code logged).
 */
int swtpm_state_get(struct swtpm *s, enum swtpm_blob which, uint8_t **buf, size_t *len);
int swtpm_state_set(struct swtpm *s, enum swtpm_blob which, const uint8_t *buf, size_t len);

/*
 * (Beyond snap-iface.md's interface D: swtpm_state_restore and struct
 * swtpm_blobs, the whole restore sequence in one call.)
 * A restore onto a running, freshly started swtpm: CMD_STOP, the three blobs
 * (permanent and volatile required, an empty savestate skipped), CMD_INIT.  The TPM then has the snapshot's keys,
 * NV, sessions and PCRs.  0 or -errno; on failure the swtpm must be stopped.
 */
struct swtpm_blobs {
	const uint8_t *data[3];            /* [which - 1] */
	size_t len[3];
};
int swtpm_state_restore(struct swtpm *s, const struct swtpm_blobs *b);

/* Removes the state directory's files and the key (swtpm must be stopped). */
int swtpm_delete(const struct swtpm_config *cfg);

#endif
