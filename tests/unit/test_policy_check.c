/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark policy check` on the shipped policy (must pass) and on every
 * deliberately broken copy in tests/policy/ (each must fail, and the report
 * must name what broke).  The copies are compiled here with secilc, from
 * the same sources as build/policy/standalone.pol (see policy/policy.mk),
 * with neverallow checks off (-N) so the checker, not secilc, must catch
 * them.  The module for reference-policy hosts is installed with semodule
 * on a copy of Debian's real refpolicy store (tests/policy/refpolicy/ holds
 * host modules installed beside it).  Run from the top of the tree.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "attest/vtpm/policy_digest.h"
#include "core/util.h"
#include "policy/check.h"

static const char *const standalone[] = {
	"policy/classes.cil", "policy/mls.cil", "policy/base.cil",
	"policy/bulwark.cil", "policy/mcs.cil",
};

struct target {
	const char *name;
	const char *const *files;
	size_t n;
};

static const struct target targets[] = {
	{ "standalone", standalone, ARRAY_SIZE(standalone) },
};

/*
 * The module for reference-policy hosts, as build/policy/bulwark.cil is made
 * (policy/policy.mk), installed with semodule into a copy of the real
 * refpolicy store of this machine (Debian's selinux-policy-default, in
 * DEPS): the binary policy semodule builds is what the kernel would load.
 */
static const char *const module[] = {
	"policy/bulwark.cil", "policy/mcs.cil", "policy/refpolicy.cil",
};

static char tmpdir[64];

/* The value of ";; KEY: value" in a CIL file's header, or "". */
static void header(const char *path, const char *key, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");
	size_t klen = strlen(key);

	out[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && !strncmp(line, ";;", 2))
		if (!strncmp(line + 3, key, klen) && line[3 + klen] == ':') {
			snprintf(out, len, "%s", line + 5 + klen);
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(f);
}

/*
 * Compiles target T with VARIANT (NULL: none) into OUT: a variant with a
 * "replaces: FILE" header takes that file's place, any other is added.
 */
static int compile_target(const struct target *t, const char *variant, const char *out)
{
	char cmd[2048], replaces[128] = "";
	int n = snprintf(cmd, sizeof(cmd), "secilc -N -M true -c 33 -f /dev/null -o %s", out);
	bool added = false;

	if (variant)
		header(variant, "replaces", replaces, sizeof(replaces));
	for (size_t i = 0; i < t->n; i++) {
		const char *f = t->files[i];

		if (variant && !strcmp(f, replaces)) {
			f = variant;
			added = true;
		}
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s", f);
	}
	if (variant && !added)
		snprintf(cmd + n, sizeof(cmd) - (size_t)n, " %s", variant);
	return system(cmd);
}

static int compile(const char *variant, const char *out)
{
	return compile_target(&targets[0], variant, out);
}

static int check(const char *pol, char **report)
{
	size_t len;
	FILE *f = open_memstream(report, &len);
	int rc;

	assert_non_null(f);
	rc = policy_check_file(pol, f);
	fclose(f);
	return rc;
}

static void test_shipped_policy_passes(void **state)
{
	char pol[128], *report = NULL, want[65], *line;
	uint8_t md[32];

	(void)state;
	snprintf(pol, sizeof(pol), "%s/shipped.pol", tmpdir);
	assert_int_equal(compile(NULL, pol), 0);
	assert_int_equal(check(pol, &report), 0);
	assert_non_null(strstr(report, "0 violations: PASS"));
	/* Not vacuous: the positive controls and all four cases ran. */
	assert_non_null(strstr(report, "ok   positive controls"));
	assert_non_null(strstr(report, "ok   single-category"));
	/* The issue-12 properties, each by its name. */
	assert_non_null(strstr(report, "ok   the VMM domain has no connectto"));
	assert_non_null(strstr(report, "ok   guest domains have no unix socket"));
	assert_non_null(strstr(report, "ok   fd-signal (single-category)"));
	assert_non_null(strstr(report, "ok   no guest domain opens, writes or lists a secret"));
	assert_non_null(strstr(report, "ok   entrypoints and transitions"));
	/* The report names the digest the launcher measures for this policy. */
	assert_int_equal(policy_digest_file(pol, md), 0);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	line = strstr(report, "policy digest (measured, PCR 7): ");
	assert_non_null(line);
	assert_memory_equal(line + strlen("policy digest (measured, PCR 7): "), want, 64);
	free(report);
}

/* Does the broken copy PATH apply to target T ("only: standalone")? */
static bool applies(const char *path, const struct target *t)
{
	char only[64];

	header(path, "only", only, sizeof(only));
	return !only[0] || !strcmp(only, t->name);
}

/* PATH compiled into target T must fail the check, naming EXPECT. */
static void broken_one(const char *path, const struct target *t, const char *expect)
{
	char pol[128], *report = NULL;
	int rc;

	snprintf(pol, sizeof(pol), "%s/broken-%s.pol", tmpdir, t->name);
	if (compile_target(t, path, pol))
		fail_msg("%s: does not compile into the %s policy", path, t->name);
	rc = check(pol, &report);
	if (rc <= 0 || !strstr(report, expect))
		fail_msg("%s (%s): not caught (rc %d), or the report lacks '%s':\n%s",
			 path, t->name, rc, expect, report);
	free(report);
}

/*
 * Every .cil file in tests/policy, in the standalone policy (unless its
 * header says "only: module"; the module is tested on the real refpolicy,
 * whose constraints would hide what most copies break).
 */
static void test_broken_copies_fail(void **state)
{
	char path[512], expect[512];
	struct dirent *de;
	int count[ARRAY_SIZE(targets)] = { 0 };
	DIR *d = opendir("tests/policy");

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".cil"))
			continue;
		snprintf(path, sizeof(path), "tests/policy/%s", de->d_name);
		header(path, "expect", expect, sizeof(expect));
		assert_true(expect[0] != '\0');
		for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
			if (!applies(path, &targets[i]))
				continue;
			broken_one(path, &targets[i], expect);
			count[i]++;
		}
	}
	closedir(d);
	assert_true(count[0] >= 19);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fail_msg("'%s' failed (status %d)", cmd, rc);
}

/* A fresh copy of the host's refpolicy store under ROOT, with Bulwark's
 * module installed and the host modules EXTRA (may be ""); the binary
 * policy semodule built is in POL. */
static void refpolicy_install(const char *root, const char *extra, char *pol,
			      size_t len)
{
	char mod[160];
	FILE *f;

	if (access("/var/lib/selinux/default/active/modules/100/base", R_OK))
		fail_msg("Debian's refpolicy store is missing: install "
			 "selinux-policy-default (make deps)");
	run("rm -rf %s && mkdir -p %s/var/lib/selinux %s/etc/selinux && "
	    "cp -a /var/lib/selinux/default %s/var/lib/selinux/ && "
	    "cp -a /etc/selinux/default %s/etc/selinux/",
	    root, root, root, root, root);
	snprintf(mod, sizeof(mod), "%s/bulwark.cil", root);
	f = fopen(mod, "w");
	assert_non_null(f);
	fclose(f);
	for (size_t i = 0; i < ARRAY_SIZE(module); i++)
		run("cat %s >>%s", module[i], mod);
	run("semodule -p %s -s default -n -i %s %s 2>/dev/null", root, mod, extra);
	snprintf(pol, len, "%s/etc/selinux/default/policy/policy.33", root);
}

static void test_refpolicy_module(void **state)
{
	static const char libs[] = "tests/policy/refpolicy/host-domain-writes-libs.cil";
	static const char shadow[] = "tests/policy/refpolicy/host-domain-reads-shadow.cil";
	char root[128], pol[256], extra[512], expect[512], *report = NULL;

	(void)state;
	snprintf(root, sizeof(root), "%s/refpolicy", tmpdir);
	refpolicy_install(root, "", pol, sizeof(pol));
	if (check(pol, &report) != 0)
		fail_msg("the module on Debian's refpolicy fails:\n%s", report);
	assert_non_null(strstr(report, "0 violations: PASS"));
	assert_non_null(strstr(report, "ok   positive controls"));
	assert_non_null(strstr(report, "ok   single-category"));
	assert_non_null(strstr(report, "ok   the VMM domain has no connectto"));
	assert_non_null(strstr(report, "ok   guest domains have no unix socket"));
	assert_non_null(strstr(report, "ok   fd-signal (single-category)"));
	assert_non_null(strstr(report, "ok   no guest domain opens, writes or lists a secret"));
	assert_non_null(strstr(report, "ok   entrypoints and transitions"));
	assert_non_null(strstr(report, "bulwark_launcher_domain: unconfined_t"));
	/* What refpolicy gives every domain, listed by rule: mcstrans'
	 * socket taken away, /proc accepted with its reason. */
	assert_non_null(strstr(report, "\n[5b] inherited: "));
	assert_non_null(strstr(report, "  removed  bulwark_vmm_t: \"allow domain "
			       "setrans_t:unix_stream_socket { connectto }\""));
	assert_non_null(strstr(report, "  accepted bulwark_vmm_t: \"allow domain "
			       "proc_t:dir { getattr open search }\"\n           because: "));
	free(report);
	report = NULL;
	/* A host that grants every domain more: lib writes fail the check, a
	 * secret is listed as removed. */
	snprintf(extra, sizeof(extra), "-i %s -i %s", libs, shadow);
	refpolicy_install(root, extra, pol, sizeof(pol));
	assert_true(check(pol, &report) > 0);
	header(libs, "expect", expect, sizeof(expect));
	if (!expect[0] || !strstr(report, expect))
		fail_msg("the report lacks '%s':\n%s", expect, report);
	header(shadow, "expect", expect, sizeof(expect));
	if (!expect[0] || !strstr(report, expect))
		fail_msg("the report lacks '%s':\n%s", expect, report);
	free(report);
}

static void test_not_a_policy(void **state)
{
	char *report = NULL;

	(void)state;
	assert_true(check("policy/bulwark.cil", &report) < 0);
	free(report);
	report = NULL;
	assert_int_equal(check("/nonexistent/policy", &report), -ENOENT);
	free(report);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_policy.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_policy_passes),
		cmocka_unit_test(test_broken_copies_fail),
		cmocka_unit_test(test_refpolicy_module),
		cmocka_unit_test(test_not_a_policy),
	};
	return cmocka_run_group_tests_name("policy_check", tests, setup, teardown);
}
