/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the launcher (bulwark run) hands the guest-facing VMM (bulwark-vmm):
 * exactly these file descriptors, nothing else open, an empty environment,
 * and argv "bulwark-vmm [--log-level LEVEL] [--seccomp MODE]" (MODE kill,
 * the default, or log: the vm_config seccomp mode the launcher measured in
 * the security state).  The configuration arrives as the canonical JSON in a
 * sealed memfd, so the VMM runs exactly what the launcher validated and
 * measured.
 *
 * Optional descriptors are absent (closed) when their device is: the VMM
 * decides from the configuration which ones it expects, and fails closed if
 * an expected one is not open.
 */
#ifndef BULWARK_VMM_ABI_H
#define BULWARK_VMM_ABI_H

#include <signal.h>

#define VMM_FD_CONFIG  3   /* sealed memfd: config_canonical() bytes */
#define VMM_FD_KVM     4   /* /dev/kvm */
#define VMM_FD_KERNEL  5   /* the bzImage, read-only */
#define VMM_FD_INITRD  6   /* the initrd, read-only; absent without one */
#define VMM_FD_TPM     7   /* the VMM end of the launcher's TPM proxy
			    * socketpair (stream); absent without vTPM */
#define VMM_FD_TAP     8   /* /dev/net/tun attached to cfg.tap (IFF_TAP |
			    * IFF_NO_PI, no IFF_VNET_HDR); absent without NIC */
#define VMM_FD_DISK0   9   /* cfg.disks[i] at VMM_FD_DISK0 + i: a regular
			    * file, O_RDWR, or O_RDONLY when readonly */
#define VMM_FD_DISK_LAST (VMM_FD_DISK0 + 7)          /* 16 */
#define VMM_FD_EVLOG   17  /* sealed memfd: the measured boot's event log
			    * (TCG crypto-agile), at most EVLOG_MAX_SIZE
			    * bytes; absent without vTPM */
#define VMM_FD_FIRST_FREE 18

#define VMM_BINARY "bulwark-vmm"

/* Exit status of bulwark-vmm (and so of bulwark run). */
#define VMM_EXIT_OK      0   /* the guest powered off or asked for a reboot */
#define VMM_EXIT_GUEST   1   /* triple fault, KVM error, unhandled exit */
#define VMM_EXIT_SETUP   2   /* bad configuration or set-up failure */
#define VMM_EXIT_STOPPED 3   /* stopped hard (VMM_SIG_STOP): the guest did
			      * not power off after the power button */

/*
 * Signals bulwark-vmm acts on: SIGTERM, SIGINT and SIGHUP press the guest's
 * ACPI power button (again on each signal: a press is never lost, and
 * presses the guest has not acknowledged yet are one); VMM_SIG_STOP stops
 * the vCPUs at once (VMM_EXIT_STOPPED).  The launcher decides when
 * (--stop-timeout, a second signal).
 */
#define VMM_SIG_STOP     SIGUSR2

#endif
