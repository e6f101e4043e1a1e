/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measured vTPM start, in one call for the launcher.  In order:
 *
 *   1. swtpm_start            provision on first use (EK certs), spawn swtpm,
 *                             CMD_INIT (swtpm.h)
 *   2. buffer size            CMD_STOP, CMD_SET_BUFFERSIZE(TPMPROXY_MAX_MSG),
 *                             CMD_INIT: the TPM's commands and responses fit
 *                             the guest's CRB buffer (tpmproxy.h)
 *   3. swtpm_open_data        the launcher's data channel
 *   4. measure_boot_run       TPM2_Startup(CLEAR) and every measurement
 *                             (measure.h), before anyone else can send a
 *                             single TPM command
 *   5. platform hierarchy     TPM2_HierarchyControl(PLATFORM, NO), as
 *                             firmware does before the OS (tpmproxy.h)
 *   6. socketpair + proxy     v->vmm_fd is the VMM's end; the proxy holds
 *                             the other end and the data channel
 *   7. measure_log_save       the host copy of the log, at cfg->log_path
 *
 * Fail closed: any failure unwinds every step (swtpm stopped and reaped,
 * fds closed, no log file); only the persistent state directory (and, on
 * first use, the key and EK certificates) remain.
 *
 * The launcher then:
 *   - gives v->vmm_fd to the VMM as its CRB transport (dup2 in the child to
 *     the VMM's TPM fd number; crb_init(&crb, crb_transport_fd, &fd)), and
 *     calls vtpm_vmm_fd_close() in the parent after the fork;
 *   - copies v->log.buf (v->log.len bytes, at most EVLOG_MAX_SIZE) into guest
 *     memory at LASA, and points the TPM2 ACPI table there (crb_acpi_tpm2);
 *     the ACPI tables must be built before step 4, which measures them, so
 *     LASA and LAML are fixed values (LAML = EVLOG_MAX_SIZE), not the log's
 *     length;
 *   - polls tpmproxy_fd(&v->proxy) in its loop (tpmproxy.h) and runs host
 *     transactions (quotes) through &v->proxy: tpmproxy_host_begin,
 *     tpmproxy_host_set_locality(QUOTE_LOCALITY) (the proxy's locality
 *     control is swtpm's CMD_SET_LOCALITY, installed here), quote.h's
 *     commands with xfer = tpmproxy_host_exec, tpmproxy_host_end (which
 *     flushes what is left and returns to locality 0 before any guest
 *     command);
 *   - calls vtpm_stop() when the guest stops (also after a failed service:
 *     -EIO means the vTPM is unusable).
 * The control channel (v->swtpm.ctrl_fd) never leaves the launcher.
 *
 * Reboot.  A guest reset is a TPM power cycle: vtpm_reboot() takes the swtpm
 * channel from the proxy, sends CMD_INIT (PCRs back to their reset values,
 * platform hierarchy enabled again), measures the (possibly changed) boot
 * inputs again, closes the platform hierarchy, replaces v->log and the host
 * file.  The VMM must then reset its CRB (crb_init) and copy the new log to
 * LASA before the first vCPU runs again.  Today the launcher exits on a
 * guest reboot request (VMM_EXIT_OK) and a new `bulwark run` goes through
 * vtpm_start(); vtpm_reboot() is for an in-place reset.
 */
#ifndef BULWARK_ATTEST_VTPM_H
#define BULWARK_ATTEST_VTPM_H

#include <limits.h>

#include "attest/format/eventlog.h"
#include "attest/vtpm/measure.h"
#include "attest/vtpm/swtpm.h"
#include "attest/vtpm/tpmproxy.h"

struct vtpm_config {
	struct swtpm_config tpm;           /* production: tpm.sock_path NULL */
	const struct measure_boot *boot;   /* what the guest will run */
	const char *log_path;              /* host copy of the event log, absolute */
};

struct vtpm {
	struct swtpm swtpm;       /* control channel: launcher only */
	struct tpmproxy proxy;    /* holds the data channel */
	int vmm_fd;               /* the VMM's end (CLOEXEC); -1 once closed */
	struct evlog_writer log;  /* the log: log.buf, log.len */
	char log_path[PATH_MAX];
	int running;
};

/*
 * Steps 1-7 above.  0 or -errno; on failure nothing runs and v is empty.
 * v must stay where it is until vtpm_stop (the proxy points into it).
 */
int vtpm_start(const struct vtpm_config *cfg, struct vtpm *v);

/* The launcher's copy of the VMM's end, closed once the VMM has its own. */
void vtpm_vmm_fd_close(struct vtpm *v);

/*
 * Power cycle and measure again (above), from the poll loop's thread.  0 or
 * -errno; on failure the vTPM is closed (the proxy forwards nothing more)
 * and the launcher must stop the guest.
 */
int vtpm_reboot(struct vtpm *v, const struct measure_boot *boot);

/* Proxy closed, swtpm stopped (state saved) and reaped, log freed.  The host
 * log file stays (it is the record of the boot).  Idempotent. */
int vtpm_stop(struct vtpm *v);

#endif
