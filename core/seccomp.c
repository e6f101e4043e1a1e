/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp filters of the guest-facing process.
 *
 * A role's table (core/seccomp_tables.c) is compiled once with libseccomp to
 * classic BPF; the bytes are kept, digested (SHA-256) and installed as they
 * are, so the digest the launcher measures is the digest of the program the
 * kernel runs.  The digest is stable across runs for one build: it depends
 * only on the table, the mode and libseccomp's compiler.
 */
#include "core/sandbox.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static const char *const role_names[] = {
	[SANDBOX_ROLE_MAIN] = "main",
	[SANDBOX_ROLE_VCPU] = "vcpu",
	[SANDBOX_ROLE_IO] = "io",
};
static_assert(ARRAY_SIZE(role_names) == SANDBOX_ROLE_COUNT, "role names");

static const char *const mode_names[] = {
	[SANDBOX_SECCOMP_KILL] = "kill",
	[SANDBOX_SECCOMP_LOG] = "log",
	[SANDBOX_SECCOMP_OFF] = "off",
};

int sandbox_role_parse(const char *s, enum sandbox_role *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(role_names); i++) {
		if (s && strcmp(s, role_names[i]) == 0) {
			*out = (enum sandbox_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sandbox_role_name(enum sandbox_role role)
{
	if ((unsigned int)role >= ARRAY_SIZE(role_names))
		return "?";
	return role_names[role];
}

int sandbox_seccomp_mode_parse(const char *s, enum sandbox_seccomp_mode *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (s && strcmp(s, mode_names[i]) == 0) {
			*out = (enum sandbox_seccomp_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sandbox_seccomp_mode_name(enum sandbox_seccomp_mode mode)
{
	if ((unsigned int)mode >= ARRAY_SIZE(mode_names))
		return "?";
	return mode_names[mode];
}

static int seccomp_rule_check(const struct seccomp_rule *r)
{
	if (r->nr < 0 || r->arg > 5)
		return -EINVAL;
	if (r->kind != SECCOMP_ARG_IN_SET && r->kind != SECCOMP_ARG_IN_SET32)
		return 0;
	if (!r->values || r->n_values == 0)
		return -EINVAL;
	for (size_t i = 0; i < r->n_values; i++)
		if (r->kind == SECCOMP_ARG_IN_SET32 && r->values[i] > UINT32_MAX)
			return -EINVAL;
	return 0;
}

/* Adds one table entry: one libseccomp rule per allowed value. */
static int seccomp_rule_add_one(scmp_filter_ctx ctx, const struct seccomp_rule *r)
{
	int rc = 0;

	switch (r->kind) {
	case SECCOMP_ARG_ANY:
		return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	case SECCOMP_ARG_ENOSYS:
		return seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(ENOSYS), r->nr, 0);
	case SECCOMP_ARG_MASK_CLEAR:
		return seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, r->nr, 1,
			SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ, r->mask, 0));
	case SECCOMP_ARG_IN_SET:
		for (size_t i = 0; i < r->n_values && rc == 0; i++)
			rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				SCMP_CMP64(r->arg, SCMP_CMP_EQ, r->values[i]));
		return rc;
	case SECCOMP_ARG_IN_SET32:
		for (size_t i = 0; i < r->n_values && rc == 0; i++)
			rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, r->nr, 1,
				SCMP_CMP64(r->arg, SCMP_CMP_MASKED_EQ,
					   UINT32_MAX, r->values[i]));
		return rc;
	}
	return -EINVAL;
}

/* A libseccomp context for a role.  Unknown architectures (i386 through
 * int 0x80, x32) always kill, in every mode. */
static int seccomp_ctx_new(enum sandbox_role role, enum sandbox_seccomp_mode mode,
			   scmp_filter_ctx *out)
{
	const struct seccomp_table *t = seccomp_table_get(role);
	scmp_filter_ctx ctx;
	int rc;

	if (!t || (mode != SANDBOX_SECCOMP_KILL && mode != SANDBOX_SECCOMP_LOG))
		return -EINVAL;
	for (size_t i = 0; i < t->n_rules; i++)
		if (seccomp_rule_check(&t->rules[i]))
			return -EINVAL;
	ctx = seccomp_init(mode == SANDBOX_SECCOMP_LOG ? SCMP_ACT_LOG
						       : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; i < t->n_rules && rc == 0; i++) {
		rc = seccomp_rule_add_one(ctx, &t->rules[i]);
		if (rc)
			log_err("role %s: rule %s: %s", t->name,
				t->rules[i].name, strerror(-rc));
	}
	if (rc) {
		seccomp_release(ctx);
		return rc < 0 ? rc : -EINVAL;
	}
	*out = ctx;
	return 0;
}

/* Reads the BPF that libseccomp exports to an fd back into memory. */
static int seccomp_bpf_read(scmp_filter_ctx ctx, struct sandbox_filter *f)
{
	struct stat st;
	size_t n;
	int fd, rc;

	fd = memfd_create("bulwark-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	if (rc)
		goto out_close;
	rc = fstat(fd, &st) ? -errno : 0;
	if (rc)
		goto out_close;
	n = (size_t)st.st_size / sizeof(struct sock_filter);
	rc = -E2BIG;
	if (n == 0 || n > BPF_MAXINSNS || n * sizeof(struct sock_filter) != (size_t)st.st_size)
		goto out_close;
	rc = -ENOMEM;
	f->insns = calloc(n, sizeof(struct sock_filter));
	if (!f->insns)
		goto out_close;
	rc = 0;
	if (pread(fd, f->insns, (size_t)st.st_size, 0) != st.st_size) {
		rc = -EIO;
		free(f->insns);
		f->insns = NULL;
		goto out_close;
	}
	f->len = (unsigned short)n;
out_close:
	close(fd);
	return rc;
}

int sandbox_filter_build(enum sandbox_role role, enum sandbox_seccomp_mode mode,
			 struct sandbox_filter *out)
{
	scmp_filter_ctx ctx;
	int rc;

	if (!out || !seccomp_table_get(role) ||
	    (unsigned int)mode >= ARRAY_SIZE(mode_names))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->role = role;
	out->mode = mode;
	if (mode == SANDBOX_SECCOMP_OFF)
		return 0;
	rc = seccomp_ctx_new(role, mode, &ctx);
	if (rc)
		return rc;
	rc = seccomp_bpf_read(ctx, out);
	seccomp_release(ctx);
	if (rc) {
		log_err("role %s: cannot compile filter: %s", role_names[role],
			strerror(-rc));
		sandbox_filter_free(out);
	}
	return rc;
}

void sandbox_filter_free(struct sandbox_filter *f)
{
	if (!f)
		return;
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
}

int sandbox_filters_build(enum sandbox_seccomp_mode mode,
			  struct sandbox_filter out[SANDBOX_ROLE_COUNT])
{
	int rc = 0;
	size_t i;

	for (i = 0; i < SANDBOX_ROLE_COUNT; i++) {
		rc = sandbox_filter_build((enum sandbox_role)i, mode, &out[i]);
		if (rc)
			goto unwind;
	}
	return 0;
unwind:
	while (i-- > 0)
		sandbox_filter_free(&out[i]);
	return rc;
}

void sandbox_filters_free(struct sandbox_filter f[SANDBOX_ROLE_COUNT])
{
	for (size_t i = 0; i < SANDBOX_ROLE_COUNT; i++)
		sandbox_filter_free(&f[i]);
}

int sandbox_filter_install(const struct sandbox_filter *f)
{
	struct sock_fprog prog;

	if (!f || (unsigned int)f->mode >= ARRAY_SIZE(mode_names))
		return -EINVAL;
	if (f->mode == SANDBOX_SECCOMP_OFF) {
		log_warn("role %s: seccomp is off: this thread is not filtered",
			 sandbox_role_name(f->role));
		return 0;
	}
	if (!f->insns || f->len == 0)
		return -EINVAL;
	/* Required to install a filter without CAP_SYS_ADMIN; also set by
	 * jail_finish_after_exec(), so this is a no-op there. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	prog.len = f->len;
	prog.filter = f->insns;
	/* Calling thread only (no TSYNC): each role has its own filter. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

int sandbox_seccomp_apply(enum sandbox_role role, enum sandbox_seccomp_mode mode)
{
	struct sandbox_filter f;
	int rc;

	rc = sandbox_filter_build(role, mode, &f);
	if (rc)
		return rc;
	rc = sandbox_filter_install(&f);
	if (rc)
		log_err("role %s: cannot install filter: %s",
			sandbox_role_name(role), strerror(-rc));
	sandbox_filter_free(&f);
	return rc;
}

int sandbox_filter_export_pfc(enum sandbox_role role,
			      enum sandbox_seccomp_mode mode, int fd)
{
	scmp_filter_ctx ctx;
	int rc;

	rc = seccomp_ctx_new(role, mode, &ctx);
	if (rc)
		return rc;
	rc = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return rc;
}
