/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's TPM proxy: the only path between the guest-facing VMM and
 * the guest's swtpm.
 *
 *   guest --MMIO--> VMM (core/vmm/crb.c) --socketpair--> proxy --data fd--> swtpm
 *                                                        ^
 *                            launcher's own commands ----+ (quotes)
 *
 * The VMM never holds a swtpm channel.  swtpm serves one data client; the
 * launcher holds it and relays, one whole command at a time, what the VMM
 * sends on its end of a socketpair.  So the launcher can run its own commands
 * (a quote) between two guest commands, and a compromised VMM can send the
 * TPM nothing the guest could not send through the CRB anyway.
 *
 * Framing (VMM side, untrusted).  A command is a TPM 2.0 header, tag u16,
 * size u32 (big-endian, counting the header), code u32, then size - 10 bytes.
 * The proxy reads at most one frame at a time, never past its end, into a
 * fixed buffer of TPMPROXY_MAX_MSG bytes:
 *   - size < 10 or size > TPMPROXY_MAX_MSG: the VMM side is disconnected
 *     (logged): an honest VMM cannot produce it, the CRB bounds the size by
 *     its buffer (crb.c), so the peer is broken or hostile;
 *   - a frame not complete within frame_timeout_ms of its first byte (a
 *     stalled half-frame, a size larger than the data): disconnected;
 *   - a tag other than TPM_ST_NO_SESSIONS/TPM_ST_SESSIONS is well framed, so
 *     the guest just gets TPM_RC_BAD_TAG (as a TPM answers), nothing is sent;
 *   - commands the guest must not run (below) get TPM_RC_DISABLED.
 * Disconnecting closes only the VMM side: the swtpm channel stays in step
 * (nothing partial was ever forwarded), so host commands keep working.
 *
 * Bound: TPMPROXY_MAX_MSG = 3968, the CRB data buffer (crb.h), the largest
 * command the guest can build and the largest response it can receive.
 * vtpm_start() tells swtpm so (CMD_SET_BUFFERSIZE, as QEMU does for its CRB),
 * so the TPM reports TPM_PT_MAX_COMMAND/RESPONSE_SIZE = 3968 and never
 * answers with more.  A larger response from swtpm (4096 is its hard limit,
 * read in full so the channel stays in step) is replaced by TPM_RC_FAILURE
 * for the guest.  Anything unreadable from swtpm (bad header, size past 4096,
 * timeout, EOF) makes the vTPM unusable: tpmproxy_service returns -EIO and
 * the launcher must stop the guest (fail closed).
 *
 * What the guest can and cannot do to the host's keys and measurements.
 *   - Guest commands reach the TPM at locality 0 only (the locality is set on
 *     the control channel, which only the launcher holds): PCRs 0-15 and
 *     17-22 cannot be reset; PCR_Extend on a measured PCR only makes later
 *     quotes disagree with the host's log (the verifier then says so); it
 *     cannot bring back an earlier value.
 *   - After the measured boot, vtpm_start() disables the platform hierarchy
 *     (TPM2_HierarchyControl, as UEFI firmware does before the OS): the guest
 *     cannot change the EPS (the EK), PCR banks or platform NV.  The proxy
 *     also refuses (TPM_RC_DISABLED) TPM2_ChangeEPS, TPM2_ChangePPS,
 *     TPM2_PCR_Allocate, TPM2_HierarchyControl other than by the owner, and
 *     TPM2_HierarchyChangeAuth of the endorsement or platform hierarchy: with
 *     those a guest could lock the host out of its endorsement key.
 *   - Host objects: the AK is not persistent.  The launcher keeps the AK blob
 *     and loads it (under the EK, endorsement hierarchy: a guest TPM2_Clear
 *     leaves it intact) only inside a host transaction, flushed before the
 *     transaction ends, so no guest command ever runs while it is loaded.  The
 *     guest never holds the blob, never sees a host response, and cannot use,
 *     evict or replace the AK.  Create the AK with noDA so a guest hammering
 *     the lockout cannot block it.
 *   - What remains: the guest can deny attestation (fill the 3 transient
 *     slots: the host's load then fails with TPM_RC_OBJECT_MEMORY, 0x902;
 *     change the owner's auth; extend measured PCRs) but not forge it.  It can
 *     notice that host commands ran (timing, TPM clock, command audit
 *     digests), not read them.
 *
 * Threads.  None are needed: the launcher's poll loop polls tpmproxy_fd()
 * for tpmproxy_events() with tpmproxy_timeout_ms() and calls
 * tpmproxy_service().  Guest commands are forwarded synchronously inside
 * tpmproxy_service() (bounded by TPM_TIMEOUT_MS), so between two calls no
 * guest command is in flight.  The swtpm channel is also guarded by a mutex:
 * host transactions may come from another thread (an attestation service);
 * they then wait for the guest command in flight, never interleave with it.
 * Guest-side calls (service, events, timeout, disconnect) belong to one
 * thread.  The launcher must ignore SIGPIPE: a VMM or swtpm that goes away
 * must be an error return (-ECONNRESET, -EIO), not the launcher's death (the
 * proxy sends to the VMM with MSG_NOSIGNAL; tpm_transact uses write()).
 */
#ifndef BULWARK_ATTEST_TPMPROXY_H
#define BULWARK_ATTEST_TPMPROXY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TPMPROXY_MAX_MSG 3968u          /* = CRB_DATA_SIZE, see above */
#define TPMPROXY_FRAME_TIMEOUT_MS 2000  /* a whole command, first byte to last */
#define TPMPROXY_MAX_HANDLES 64         /* per handle type, host snapshot */

struct tpmproxy {
	int guest_fd;             /* launcher's end of the VMM socketpair; -1: gone */
	int tpm_fd;               /* swtpm data channel (owned) */
	int frame_timeout_ms;     /* TPMPROXY_FRAME_TIMEOUT_MS; tests may lower it */
	/* guest side: one frame in, or one response out */
	size_t have;              /* bytes of the current command read */
	size_t need;              /* 10 until the header is in, then its size */
	uint64_t deadline_ms;     /* CLOCK_MONOTONIC; 0: no partial frame */
	size_t out_len, out_off;  /* response being written to the VMM */
	uint8_t cmd[TPMPROXY_MAX_MSG];
	uint8_t rsp[4096];        /* swtpm's own limit (TPM_MAX_MSG) */
	/* swtpm side */
	pthread_mutex_t lock;     /* held during any exchange with swtpm */
	pthread_t host_owner;     /* valid while host_active */
	int host_active;          /* inside tpmproxy_host_begin/end (atomic) */
	int tpm_failed;           /* swtpm misbehaved: channel out of step */
	/* locality control: swtpm's control channel, installed by vtpm_start */
	int (*set_locality)(void *arg, uint8_t locality);
	void *locality_arg;
	uint8_t host_locality;    /* of host commands; 0 outside transactions */
	size_t nsnap;             /* handles loaded at tpmproxy_host_begin */
	uint32_t snap[3 * TPMPROXY_MAX_HANDLES];
	/* statistics */
	uint64_t guest_cmds;      /* forwarded to swtpm */
	uint64_t guest_refused;   /* answered locally (bad tag, refused command) */
	uint64_t host_cmds;
};

/*
 * Takes ownership of guest_fd (made non-blocking) and tpm_fd (swtpm's data
 * channel, blocking); both are closed by tpmproxy_free().  0 or -errno (on
 * error nothing is taken).
 */
int tpmproxy_init(struct tpmproxy *p, int guest_fd, int tpm_fd);
void tpmproxy_free(struct tpmproxy *p);

/* ---- the launcher's poll loop ------------------------------------------ */

/* The fd to poll, -1 once the VMM side is disconnected (poll ignores it). */
int tpmproxy_fd(const struct tpmproxy *p);
/* POLLIN (waiting for a command) or POLLOUT (a response not yet taken). */
short tpmproxy_events(const struct tpmproxy *p);
/* Milliseconds until a partial frame times out; -1: no deadline. */
int tpmproxy_timeout_ms(const struct tpmproxy *p);

/*
 * Call with poll's revents for tpmproxy_fd() (0 after a poll timeout).
 * Reads what is there (never past the current frame), checks the deadline,
 * and once a command is whole: checks it, forwards it, queues the response.
 * Returns 0 while the VMM side stays connected; -ECONNRESET (VMM closed),
 * -EPROTO (bad framing) or -ETIMEDOUT (stalled frame) when this call
 * disconnected it, -ENOTCONN after that; -EIO when swtpm failed (the vTPM is
 * unusable: stop the guest).  Every disconnect is logged with its reason.
 */
int tpmproxy_service(struct tpmproxy *p, short revents);

/* Closes the VMM side (e.g. on VMM exit); host commands keep working. */
void tpmproxy_disconnect(struct tpmproxy *p, const char *why);

/* ---- host transactions (the launcher's own commands) ------------------- *
 *
 *   tpmproxy_host_begin(p);                       waits for the swtpm channel
 *   tpmproxy_host_set_locality(p, 3);             if the AK needs it
 *   tpmproxy_host_exec(p, load AK ...);           any number of commands
 *   tpmproxy_host_exec(p, quote ...);
 *   tpmproxy_host_flush(p, handles, n);           what it created, if known
 *   tpmproxy_host_end(p);                         always, even after errors
 *
 * No guest command runs between begin and end: everything the host loads is
 * invisible to the guest if the host flushes it before end.  end enforces
 * that: it flushes every transient object and session handle that was not
 * there at begin (so the host cannot forget one) and checks none is left;
 * if one cannot be flushed, end returns -EIO and the proxy forwards nothing
 * more, for the guest or the host (the guest must not reach a host object):
 * the next tpmproxy_service returns -EIO and the launcher stops the guest.
 */

/*
 * Takes the swtpm channel (waits for a guest command in flight, bounded by
 * TPM_TIMEOUT_MS) and records the loaded handles.  0, -EBUSY (already in a
 * transaction), or -EIO (swtpm failed; the channel is released).
 */
int tpmproxy_host_begin(struct tpmproxy *p);

/*
 * One host command (10..TPMPROXY_MAX_MSG bytes, a TPM 2.0 header first);
 * the response (validated the same way, at most rsp_cap bytes) goes to rsp
 * and never to the guest.  Returns 0 with the TPM's response code in the
 * response (the caller checks it), -EPERM outside a transaction, -EINVAL
 * for a malformed command, or -EIO (swtpm failed).
 */
int tpmproxy_host_exec(struct tpmproxy *p, const uint8_t *cmd, size_t len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

/*
 * Inside a transaction: the locality (0..3) of the host commands that follow,
 * e.g. QUOTE_LOCALITY for the AK (quote.h: its policy is PolicyLocality(3),
 * which guest commands, always at locality 0, can never satisfy).
 * tpmproxy_host_end puts it back to 0 before any guest command can run; if
 * that fails the vTPM is closed (-EIO, as below).  -EPERM outside a
 * transaction, -EINVAL for 4 (swtpm rejects it), -EOPNOTSUPP without a
 * locality control (p->set_locality, which vtpm_start installs).
 */
int tpmproxy_host_set_locality(struct tpmproxy *p, uint8_t locality);

/* TPM2_FlushContext of each handle; tries all, returns the first error. */
int tpmproxy_host_flush(struct tpmproxy *p, const uint32_t *handles, size_t n);

/* Flushes leftovers (above), locality back to 0, releases the channel.
 * 0, -EPERM or -EIO. */
int tpmproxy_host_end(struct tpmproxy *p);

/*
 * For a power cycle (vtpm_reboot), from the poll loop's thread: takes the
 * swtpm channel, drops the guest's partial command and unsent response (they
 * belong to the guest being reset), and runs fn(arg, tpm_fd).  fn failing
 * closes the vTPM for good (as -EIO above): a half-done reset must not be
 * used.  Returns fn's result.
 */
int tpmproxy_host_run(struct tpmproxy *p, int (*fn)(void *arg, int tpm_fd), void *arg);

#endif
