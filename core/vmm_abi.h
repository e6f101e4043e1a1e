/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the launcher (bulwark run) hands the guest-facing VMM (bulwark-vmm):
 * exactly these file descriptors, nothing else open, an empty environment,
 * and argv "bulwark-vmm [--log-level LEVEL]".  The configuration arrives as
 * the canonical JSON in a sealed memfd, so the VMM runs exactly what the
 * launcher validated (and, later, measured).
 */
#ifndef BULWARK_VMM_ABI_H
#define BULWARK_VMM_ABI_H

#define VMM_FD_CONFIG  3   /* sealed memfd: config_canonical() bytes */
#define VMM_FD_KVM     4   /* /dev/kvm */
#define VMM_FD_KERNEL  5   /* the bzImage, read-only */
#define VMM_FD_INITRD  6   /* the initrd, read-only; absent without one */
#define VMM_FD_FIRST_FREE 7

#define VMM_BINARY "bulwark-vmm"

/* Exit status of bulwark-vmm (and so of bulwark run). */
#define VMM_EXIT_OK      0   /* power-off, reboot request, or SIGTERM stop */
#define VMM_EXIT_GUEST   1   /* triple fault, KVM error, unhandled exit */
#define VMM_EXIT_SETUP   2   /* bad configuration or set-up failure */

#endif
