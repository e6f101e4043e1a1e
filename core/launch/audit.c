/* SPDX-License-Identifier: Apache-2.0 */
/* Guests' audit records through libaudit (core/launch/audit.h). */
#include "core/launch/audit.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libaudit.h includes <syslog.h>, whose LOG_ERR, LOG_INFO and LOG_DEBUG
 * macros would rename core/log.h's levels: it comes first and they go. */
#include <libaudit.h>
#undef LOG_ERR
#undef LOG_INFO
#undef LOG_DEBUG

#include "core/log.h"

#define AUDIT_VIRT "kvm"       /* libvirt's virt= for a KVM guest */
#define AUDIT_MODEL "selinux"

/* op and reason are Bulwark's words, written as they are. */
static bool audit_word_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* snprintf into BUF with each %s a field already encoded. */
static int audit_put(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int audit_put(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= size ? -ENOSPC : n;
}

/* KEY=VALUE by libaudit's rule; NULL or "" is written "?". */
static char *audit_nv(const char *key, const char *value)
{
	if (!value || !*value)
		value = "?";
	return audit_encode_nv_string(key, value, 0);
}

/* The uuid is written bare, as libvirt does (ausearch -uu reads it so):
 * the canonical lower-case form, or "?" when the guest has none. */
static const char *audit_uuid(const struct audit_guest *g)
{
	const char *u = g->uuid;

	if (!u)
		return "?";
	if (strlen(u) != 36)
		return NULL;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !((u[i] >= '0' && u[i] <= '9') ||
					    (u[i] >= 'a' && u[i] <= 'f')))
			return NULL;
	}
	return u;
}

/* A context bare, as libvirt writes vm-ctx and img-ctx (ausearch -su
 * matches it so); hex by libaudit's rule if it could not be bare. */
static char *audit_ctx(const char *key, const char *ctx)
{
	char *out;

	if (!ctx || !*ctx)
		ctx = "?";
	if (audit_value_needs_encoding(ctx, (unsigned int)strlen(ctx)))
		return audit_encode_nv_string(key, ctx, 0);
	if (asprintf(&out, "%s=%s", key, ctx) < 0)
		return NULL;
	return out;
}

/* mem (KiB) and vcpu counts are written bare, as libvirt does. */
static bool audit_number_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int audit_format_control(char *buf, size_t size, const struct audit_guest *g,
			 const char *op, const char *reason)
{
	const char *uuid = audit_uuid(g);
	char *vm;
	int rc = -ENOMEM;

	if (!audit_word_ok(op) || !audit_word_ok(reason) || !uuid)
		return -EINVAL;
	vm = audit_nv("vm", g->name);
	if (vm)
		rc = audit_put(buf, size, "virt=" AUDIT_VIRT " op=%s reason=%s %s uuid=%s vm-pid=%lld",
			       op, reason, vm, uuid, (long long)g->pid);
	free(vm);
	return rc;
}

int audit_format_machine_id(char *buf, size_t size, const struct audit_guest *g,
			    const char *vm_ctx, const char *img_ctx)
{
	const char *uuid = audit_uuid(g);
	char *vm, *vc, *ic;
	int rc = -ENOMEM;

	if (!uuid)
		return -EINVAL;
	vm = audit_nv("vm", g->name);
	vc = audit_ctx("vm-ctx", vm_ctx);
	ic = audit_ctx("img-ctx", img_ctx);
	if (vm && vc && ic)
		rc = audit_put(buf, size, "virt=" AUDIT_VIRT " %s uuid=%s %s %s model=" AUDIT_MODEL,
			       vm, uuid, vc, ic);
	free(ic);
	free(vc);
	free(vm);
	return rc;
}

/* old-R=V new-R=V: numbers bare (mem, vcpu), strings encoded; the
 * vTPM is one device=PATH, as libvirt's emulator TPM. */
static int audit_resource_values(const char *resrc, const char *oldv,
				 const char *newv, char **o, char **n)
{
	char oldk[48], newk[48];
	bool num = !strcmp(resrc, "mem") || !strcmp(resrc, "vcpu");

	*o = *n = NULL;
	if (!strcmp(resrc, "tpm-emulator")) {
		*n = audit_nv("device", newv);
		return *n ? 0 : -ENOMEM;
	}
	if (num && (!audit_number_ok(oldv) || !audit_number_ok(newv)))
		return -EINVAL;
	snprintf(oldk, sizeof(oldk), "old-%s", resrc);
	snprintf(newk, sizeof(newk), "new-%s", resrc);
	if (num) {
		if (asprintf(o, "%s=%s", oldk, oldv) < 0)
			*o = NULL;
		if (asprintf(n, "%s=%s", newk, newv) < 0)
			*n = NULL;
	} else {
		*o = audit_nv(oldk, oldv);
		*n = audit_nv(newk, newv);
	}
	return *o && *n ? 0 : -ENOMEM;
}

int audit_format_resource(char *buf, size_t size, const struct audit_guest *g,
			  const char *resrc, const char *reason,
			  const char *oldv, const char *newv)
{
	const char *uuid = audit_uuid(g);
	char *vm = NULL, *o = NULL, *n = NULL;
	int rc;

	if (!audit_word_ok(resrc) || !audit_word_ok(reason) || !uuid)
		return -EINVAL;
	rc = audit_resource_values(resrc, oldv, newv, &o, &n);
	if (!rc) {
		vm = audit_nv("vm", g->name);
		rc = vm ? 0 : -ENOMEM;
	}
	if (!rc)
		rc = audit_put(buf, size, "virt=" AUDIT_VIRT " resrc=%s reason=%s %s uuid=%s%s%s %s",
			       resrc, reason, vm, uuid, o ? " " : "", o ? o : "", n);
	free(vm);
	free(n);
	free(o);
	return rc;
}

/* The audit netlink socket, opened at the first record; -1 once it has
 * failed (the one message said so). */
static int audit_fd = -2;

static void audit_write(int type, const char *text, int len, bool ok)
{
	if (len < 0) {
		log_err("audit record not formatted: %s", strerror(-len));
		return;
	}
	if (audit_fd == -2) {
		audit_fd = audit_open();
		if (audit_fd < 0)
			log_warn("audit records go nowhere: the kernel's audit is not "
				 "reachable (%s)", strerror(errno));
	}
	if (audit_fd < 0)
		return;
	if (audit_log_user_message(audit_fd, type, text, NULL, NULL, NULL, ok) <= 0) {
		log_warn("audit records go nowhere: %s", strerror(errno));
		audit_close(audit_fd);
		audit_fd = -1;
	}
}

void audit_control(const struct audit_guest *g, const char *op,
		   const char *reason, bool ok)
{
	char buf[1024];

	audit_write(AUDIT_VIRT_CONTROL, buf,
		    audit_format_control(buf, sizeof(buf), g, op, reason), ok);
}

void audit_machine_id(const struct audit_guest *g, const char *vm_ctx,
		      const char *img_ctx, bool ok)
{
	char buf[2048];

	audit_write(AUDIT_VIRT_MACHINE_ID, buf,
		    audit_format_machine_id(buf, sizeof(buf), g, vm_ctx, img_ctx), ok);
}

void audit_resource(const struct audit_guest *g, const char *resrc,
		    const char *reason, const char *oldv, const char *newv, bool ok)
{
	char buf[PATH_MAX * 2 + 1024];

	audit_write(AUDIT_VIRT_RESOURCE, buf,
		    audit_format_resource(buf, sizeof(buf), g, resrc, reason, oldv, newv), ok);
}
