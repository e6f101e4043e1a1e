/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Linux audit trail of guests (libaudit), with libvirt's record types
 * and field names so that auditors' `ausearch -m VIRT_MACHINE_ID -vm NAME`,
 * `-su CONTEXT` and `aureport --virt` find Bulwark's guests as they find
 * libvirt's:
 *   VIRT_CONTROL (2500)    virt=kvm op=OP reason=R vm="NAME" uuid=U vm-pid=P
 *   VIRT_RESOURCE (2501)   virt=kvm resrc=R reason=R vm="NAME" uuid=U
 *                          old-R=V new-R=V   (device=PATH for the vTPM)
 *   VIRT_MACHINE_ID (2502) virt=kvm vm="NAME" uuid=U vm-ctx=C img-ctx=C
 *                          model=selinux
 * libaudit adds exe=, hostname=, addr=, terminal= and res=success|failed.
 * Strings an operator chose (name, paths, contexts) are encoded by
 * libaudit's own rule (audit_encode_nv_string: "quoted", or hex when the
 * value holds a space, a quote or a byte outside 0x21..0x7e); op and reason
 * are Bulwark's own words ([a-z0-9-]).
 *
 * A host whose kernel has no audit, or where the launcher may not write to
 * it, still runs guests: the first record that cannot be written is logged
 * once ("audit records go nowhere"), the rest silently dropped.  With no
 * auditd running the kernel still takes the records (to its log).
 */
#ifndef BULWARK_LAUNCH_AUDIT_H
#define BULWARK_LAUNCH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What every record says about the guest. */
struct audit_guest {
	const char *name;
	const char *uuid;     /* NULL: "?" (as libvirt writes a missing value) */
	pid_t pid;            /* the VMM's pid; 0 before it exists */
};

/* A record's text, formatted without writing it (pure, for the tests).
 * Each returns the length, or -EINVAL (an op or reason that is not a
 * word), -ENOSPC (BUF too small) or -ENOMEM. */
int audit_format_control(char *buf, size_t size, const struct audit_guest *g,
			 const char *op, const char *reason);
int audit_format_machine_id(char *buf, size_t size, const struct audit_guest *g,
			    const char *vm_ctx, const char *img_ctx);
/* resrc "disk", "net", "mem", "vcpu": old-RESRC=OLDV new-RESRC=NEWV, the
 * values encoded ("?" for none); "tpm-emulator": device=NEWV. */
int audit_format_resource(char *buf, size_t size, const struct audit_guest *g,
			  const char *resrc, const char *reason,
			  const char *oldv, const char *newv);

/* Write one record.  Never fails the caller: a record that cannot be
 * written is logged once per process (see above).  audit_control() is the
 * call for every lifecycle operation (start, stop, and the control API's
 * pause, resume, shutdown, destroy); OK false writes res=failed. */
void audit_control(const struct audit_guest *g, const char *op,
		   const char *reason, bool ok);
void audit_machine_id(const struct audit_guest *g, const char *vm_ctx,
		      const char *img_ctx, bool ok);
void audit_resource(const struct audit_guest *g, const char *resrc,
		    const char *reason, const char *oldv, const char *newv, bool ok);

/*
 * The launcher's calls (core/launch/launch_audit.c), in `bulwark run`:
 *   launch_audit_refused()  VIRT_CONTROL op=start res=failed reason=STEP,
 *                           when a start is refused or fails to set up
 *   launch_audit_started()  once the VMM runs at its label: VIRT_MACHINE_ID
 *                           (vm-ctx, img-ctx), VIRT_RESOURCE for each disk,
 *                           the NIC, memory, vCPUs and the vTPM, then
 *                           VIRT_CONTROL op=start reason=booted
 *   launch_audit_stopped()  VIRT_CONTROL op=stop with the reason read from
 *                           the exit status: power-off, stopped-hard,
 *                           killed, crashed (failed: set-up after exec)
 *   launch_audit_control()  VIRT_CONTROL for each control API operation
 */
struct launch;
void launch_audit_refused(const struct launch *l, const char *reason);
void launch_audit_started(const struct launch *l);
void launch_audit_stopped(const struct launch *l, int status);
/* A control API operation (core/launch/launch_control_api.c): VIRT_CONTROL
 * op=pause|resume|shutdown|destroy reason=control-api, res= as OK. */
void launch_audit_control(const struct launch *l, const char *op, bool ok);
/* svirt_config.gone (svirt/svirt.h), set by the launcher and `bulwark gc`:
 * a guest whose launcher died (kill -9, a host crash) was found dead and
 * its labels restored.  VIRT_CONTROL op=stop reason=crashed res=failed,
 * vm-pid the last process recorded for it, the uuid read from
 * LAUNCH_STATE_DIR/NAME/uuid.  Its own launcher could not write it. */
void launch_audit_gone(const char *name, int32_t pid);

#endif
