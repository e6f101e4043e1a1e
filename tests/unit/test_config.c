/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: flags, JSON file, validation, canonical form (golden file). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/args.h"
#include "core/config.h"
#include "core/launch/launcher.h"

#define GOLDEN "tests/unit/golden/config_canonical.json"

static int apply(struct vm_config *c, const char *json)
{
	return config_apply_json(c, json, strlen(json), "test.json");
}

static char *canon(const struct vm_config *c)
{
	char *s = NULL;
	size_t n = 0;

	assert_int_equal(config_canonical(c, &s, &n), 0);
	assert_int_equal(strlen(s), n);
	return s;
}

static void test_golden_canonical(void **state)
{
	struct vm_config c;
	char golden[2048], *s;
	FILE *f = fopen(GOLDEN, "r");
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(golden, 1, sizeof(golden) - 1, f);
	fclose(f);
	golden[n] = '\0';
	if (n && golden[n - 1] == '\n')
		golden[--n] = '\0';
	config_init(&c);
	assert_int_equal(apply(&c, "{\"cmdline\": \"console=ttyS0 quiet\", "
			       "\"kernel\": \"/boot/vmlinuz\", \"cpus\": 4, "
			       "\"initrd\": \"/tmp/i.gz\", \"memory\": 512, "
			       "\"name\": \"web-1\", \"disks\": [{\"path\": \"/img/a.raw\"}, "
			       "{\"path\": \"/img/b.raw\", \"readonly\": true, "
			       "\"serial\": \"DATA-1\"}], \"net\": {\"tap\": \"tap0\", "
			       "\"mac\": \"52:54:00:AB:cd:01\"}, \"vtpm\": false, "
			       "\"svirt\": \"static\", \"svirt_label\": "
			       "\"system_u:system_r:svirt_t:s0:c1,c2\", \"seccomp\": \"log\"}"), 0);
	assert_int_equal(config_validate(&c), 0);
	s = canon(&c);
	assert_string_equal(s, golden);
	free(s);
}

static void test_roundtrip_and_strictness(void **state)
{
	struct vm_config c, back;
	char *s, *t;

	(void)state;
	config_init(&c);
	strcpy(c.kernel, "/k");
	strcpy(c.cmdline, "a \"quoted\" \\ /path");
	s = canon(&c);
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), 0);
	t = canon(&back);
	assert_string_equal(s, t);
	assert_string_equal(back.cmdline, c.cmdline);
	/* The same settings with a space added are not canonical. */
	s = realloc(s, strlen(s) + 2);
	memmove(s + 2, s + 1, strlen(s + 1) + 1);
	s[1] = ' ';
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), -EINVAL);
	/* Missing keys are not canonical either. */
	assert_int_equal(config_from_canonical(&back, "{\"kernel\":\"/k\"}", 15), -EINVAL);
	free(s);
	free(t);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"{\"cpus\": 0}", "{\"cpus\": 65}", "{\"cpus\": -1}", "{\"cpus\": \"4\"}",
		"{\"cpus\": 1.5}", "{\"memory\": 63}", "{\"memory\": 65537}",
		"{\"memory\": 99999999999999999999999}",
		"{\"name\": \"\"}", "{\"name\": \"a/b\"}", "{\"name\": \"-x\"}",
		"{\"name\": \"0123456789012345678901234567890123456789012345678901234567890123\"}",
		"{\"cmdline\": \"a\\nb\"}", "{\"kernel\": \"\"}", "{\"kernel\": \"a\\u0000b\"}",
		"{\"disk\": \"/x\"}", "[1, 2]", "{\"cpus\": 1", "{\"cpus\": 1} x", "",
		"{\"cpus\": 1,}",
		"{\"disks\": {}}", "{\"disks\": [\"/x\"]}", "{\"disks\": [{}]}",
		"{\"disks\": [{\"path\": \"\"}]}",
		"{\"disks\": [{\"path\": \"/x\", \"ro\": true}]}",
		"{\"disks\": [{\"path\": \"/x\", \"readonly\": 1}]}",
		"{\"disks\": [{\"path\": \"/x\", \"serial\": \"123456789012345678901\"}]}",
		"{\"disks\": [{\"path\": \"/x\", \"serial\": \"a b\"}]}",
		"{\"disks\": [{\"path\": \"/x\"}, {\"path\": \"/x\"}]}",
		"{\"disks\": [{\"path\": \"/a\\nb\"}]}",
		"{\"disks\": [{\"path\": \"/1\"},{\"path\": \"/2\"},{\"path\": \"/3\"},"
		"{\"path\": \"/4\"},{\"path\": \"/5\"},{\"path\": \"/6\"},"
		"{\"path\": \"/7\"},{\"path\": \"/8\"},{\"path\": \"/9\"}]}",
		"{\"net\": \"tap0\"}", "{\"net\": {}}", "{\"net\": {\"tap\": \"\"}}",
		"{\"net\": {\"tap\": \"t0\", \"x\": 1}}",
		"{\"net\": {\"tap\": \"0123456789abcdef\"}}",
		"{\"net\": {\"tap\": \"t,0\"}}",
		"{\"net\": {\"tap\": \"t0\", \"mac\": \"01:00:00:00:00:01\"}}",
		"{\"net\": {\"tap\": \"t0\", \"mac\": \"52:54:00:00:00\"}}",
		"{\"vtpm\": 1}", "{\"vtpm\": \"on\"}",
		"{\"svirt\": \"enforcing\"}", "{\"svirt\": true}",
		"{\"svirt_label\": \"svirt_t\"}",
		"{\"svirt_label\": \"u:r:t:s0 c1\"}",
		"{\"seccomp\": \"off\"}", "{\"seccomp\": \"trap\"}",
		/* A key given twice, at any depth (json-c alone keeps the last). */
		"{\"cpus\": 1, \"cpus\": 2}",
		"{\"kernel\": \"/k\", \"k\\u0065rnel\": \"/etc/shadow\"}",
		"{\"disks\": [{\"path\": \"/x\", \"path\": \"/y\"}]}",
		"{\"net\": {\"tap\": \"t0\", \"tap\": \"t1\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_config c;

		config_init(&c);
		if (apply(&c, bad[i]) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void test_bounds_accepted(void **state)
{
	struct vm_config c;

	(void)state;
	config_init(&c);
	assert_int_equal(apply(&c, "{\"cpus\": 64, \"memory\": 65536, \"name\": \"a.b-c_d\"}"), 0);
	assert_int_equal(c.cpus, 64);
	assert_int_equal(c.memory_mib, 65536);
	assert_int_equal(config_set(&c, "cpus", "1", "--cpus"), 0);
	assert_int_equal(config_set(&c, "cpus", "01x", "--cpus"), -EINVAL);
	assert_int_equal(config_set(&c, "nosuch", "1", "--nosuch"), -ENOENT);
	/* Without a kernel the configuration is incomplete. */
	assert_int_equal(config_validate(&c), -EINVAL);
}

static void test_device_flags(void **state)
{
	struct vm_config c, back;
	char *s;

	(void)state;
	config_init(&c);
	assert_true(c.vtpm);
	assert_int_equal(c.svirt, CONFIG_SVIRT_DYNAMIC);
	assert_int_equal(c.seccomp, CONFIG_SECCOMP_KILL);
	/* The file's disks are replaced by the first --disk, then added to. */
	assert_int_equal(apply(&c, "{\"kernel\": \"/k\", \"disks\": [{\"path\": \"/f\"}]}"), 0);
	assert_int_equal(c.ndisks, 1);
	assert_int_equal(config_set(&c, "disk", "/a,readonly,serial=S1", "--disk"), 0);
	assert_int_equal(config_set(&c, "disk", "/b", "--disk"), 0);
	assert_int_equal(c.ndisks, 2);
	assert_string_equal(c.disks[0].path, "/a");
	assert_true(c.disks[0].readonly);
	assert_string_equal(c.disks[0].serial, "S1");
	assert_false(c.disks[1].readonly);
	assert_int_equal(config_set(&c, "disk", "/b", "--disk"), -EINVAL);
	assert_int_equal(config_set(&c, "disk", "/c,rw", "--disk"), -EINVAL);
	assert_int_equal(config_set(&c, "disk", ",readonly", "--disk"), -EINVAL);
	/* Without mac= the MAC follows from the tap name: measured, so stable. */
	assert_int_equal(config_set(&c, "net", "tap=tap7", "--net"), 0);
	assert_true(c.net);
	memcpy(back.mac, c.mac, 6);
	assert_int_equal(config_set(&c, "net", "tap=tap7", "--net"), 0);
	assert_memory_equal(back.mac, c.mac, 6);
	assert_int_equal(c.mac[0], 0x52);
	assert_int_equal(config_set(&c, "net", "tap7", "--net"), -EINVAL);
	assert_int_equal(config_set(&c, "net", "tap=t,mac=zz", "--net"), -EINVAL);
	/* Boolean flags take no value; the others need one. */
	assert_int_equal(config_set(&c, "no-vtpm", NULL, "--no-vtpm"), 0);
	assert_false(c.vtpm);
	assert_int_equal(config_set(&c, "vtpm", "yes", "--vtpm"), -EINVAL);
	assert_int_equal(config_set(&c, "vtpm", NULL, "--vtpm"), 0);
	assert_true(c.vtpm);
	assert_int_equal(config_set(&c, "cpus", NULL, "--cpus"), -EINVAL);
	assert_int_equal(config_flag_takes_value("vtpm"), 0);
	assert_int_equal(config_flag_takes_value("no-vtpm"), 0);
	assert_int_equal(config_flag_takes_value("disk"), 1);
	assert_int_equal(config_flag_takes_value("svirt-label"), 1);
	assert_int_equal(config_flag_takes_value("config"), -ENOENT);
	assert_true(config_is_setting("seccomp"));
	assert_false(config_is_setting("disks"));      /* JSON key, not a flag */
	assert_false(config_is_setting("svirt_label"));
	/* Host-only security settings: validated, never canonical. */
	assert_int_equal(config_set(&c, "seccomp", "log", "--seccomp"), 0);
	assert_int_equal(config_set(&c, "svirt-label", "u:r:t:s0:c1,c2", "--svirt-label"), 0);
	assert_int_equal(config_validate(&c), -EINVAL);   /* label without static */
	assert_int_equal(config_set(&c, "svirt", "static", "--svirt"), 0);
	assert_int_equal(config_validate(&c), 0);
	s = canon(&c);
	assert_null(strstr(s, "svirt"));
	assert_null(strstr(s, "seccomp"));
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), 0);
	assert_int_equal(back.ndisks, 2);
	assert_string_equal(back.tap, "tap7");
	assert_memory_equal(back.mac, c.mac, 6);
	assert_int_equal(back.seccomp, CONFIG_SECCOMP_KILL);
	free(s);
	config_set(&c, "svirt", "off", "--svirt");
	config_set(&c, "svirt-label", "", "--svirt-label");
	assert_int_equal(config_validate(&c), -EINVAL);   /* label still set */
}

static void test_canonical_refuses_host_keys(void **state)
{
	struct vm_config c, back;
	char *s, *t;
	size_t n;

	(void)state;
	config_init(&c);
	strcpy(c.kernel, "/k");
	s = canon(&c);
	n = strlen(s);
	/* A host-only key spliced in is not canonical. */
	t = malloc(n + 32);
	assert_non_null(t);
	memcpy(t, s, n - 1);
	strcpy(t + n - 1, ",\"seccomp\":\"log\"}");
	assert_int_equal(config_from_canonical(&back, t, strlen(t)), -EINVAL);
	/* vtpm missing: not canonical. */
	assert_non_null(strstr(s, ",\"vtpm\":true}"));
	strcpy(strstr(s, ",\"vtpm\":true}"), "}");
	assert_int_equal(config_from_canonical(&back, s, strlen(s)), -EINVAL);
	free(s);
	free(t);
}

static void test_flags_override_file(void **state)
{
	char path[] = "/tmp/bulwark-test-config-XXXXXX";
	const char *json = "{\"kernel\": \"/file/kernel\", \"cpus\": 2, \"memory\": 128}";
	int fd = mkstemp(path);
	struct vm_config c;
	enum log_level lvl = LOG_WARN;
	/* --cpus before --config still wins over the file. */
	char *argv[] = { "run", "--cpus", "3", "--config", path, "--name=vm9", NULL };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	assert_int_equal(launcher_parse_args(&c, 6, argv, &lvl), 0);
	assert_int_equal(c.cpus, 3);
	assert_int_equal(c.memory_mib, 128);
	assert_string_equal(c.kernel, "/file/kernel");
	assert_string_equal(c.name, "vm9");
	unlink(path);
}

static void test_bad_flags(void **state)
{
	char *missing[] = { "run", "--kernel", "/k", "--cpus", NULL };
	char *unknown[] = { "run", "--kernel", "/k", "--cpu", "2", NULL };
	char *positional[] = { "run", "/k", NULL };
	char *nokernel[] = { "run", "--cpus", "2", NULL };
	char *nofile[] = { "run", "--config", "/nonexistent/x.json", NULL };
	struct vm_config c;
	enum log_level lvl = LOG_WARN;

	(void)state;
	assert_int_not_equal(launcher_parse_args(&c, 4, missing, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 5, unknown, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 2, positional, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 3, nokernel, &lvl), 0);
	assert_int_not_equal(launcher_parse_args(&c, 3, nofile, &lvl), 0);
}

/* A flag given twice is refused; only --disk repeats. */
static void test_flag_twice(void **state)
{
	char *cpus[] = { "run", "--kernel", "/k", "--cpus", "2", "--cpus=3", NULL };
	char *kernel[] = { "run", "--kernel", "/k", "--kernel", "/etc/shadow", NULL };
	char *vtpm[] = { "run", "--kernel", "/k", "--vtpm", "--no-vtpm", NULL };
	char *config[] = { "run", "--config", "/a", "--config", "/b", NULL };
	char *level[] = { "run", "--kernel", "/k", "--log-level", "err",
			  "--log-level", "debug", NULL };
	char *disks[] = { "run", "--kernel", "/k", "--disk", "/a", "--disk", "/b", NULL };
	struct vm_config c;
	enum log_level lvl = LOG_WARN;

	(void)state;
	assert_int_equal(launcher_parse_args(&c, 6, cpus, &lvl), -EINVAL);
	assert_int_equal(launcher_parse_args(&c, 5, kernel, &lvl), -EINVAL);
	assert_int_equal(launcher_parse_args(&c, 5, vtpm, &lvl), -EINVAL);
	assert_int_equal(launcher_parse_args(&c, 5, config, &lvl), -EINVAL);
	assert_int_equal(launcher_parse_args(&c, 7, level, &lvl), -EINVAL);
	assert_int_equal(launcher_parse_args(&c, 7, disks, &lvl), 0);
	assert_int_equal(c.ndisks, 2);
}

/* --config goes through path_open_regular: a FIFO is refused at once (it
 * used to block in open), and so is a file reached through a symlinked
 * folder. */
static void test_config_not_a_file(void **state)
{
	char dir[] = "/tmp/bulwark-test-config-XXXXXX", fifo[96], link[64], file[64];
	char *argv[] = { "run", "--config", fifo, NULL };
	struct vm_config c;
	enum log_level lvl = LOG_WARN;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(file, sizeof(file), "%s/real.json", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(launcher_parse_args(&c, 3, argv, &lvl), -EINVAL);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("{\"kernel\": \"/k\"}", f);
	fclose(f);
	assert_int_equal(symlink(dir, link), 0);
	snprintf(fifo, sizeof(fifo), "%s/link/real.json", dir);
	assert_int_equal(launcher_parse_args(&c, 3, argv, &lvl), -ELOOP);
	snprintf(fifo, sizeof(fifo), "%s", file);
	assert_int_equal(launcher_parse_args(&c, 3, argv, &lvl), 0);
	unlink(link);
	unlink(file);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	unlink(fifo);
	assert_int_equal(rmdir(dir), 0);
}

/* getopt_long command lines (bulwark-verify, reference, attest...). */
static void test_args_once(void **state)
{
	static const struct option o[] = {
		{ "manifest", 1, NULL, 'm' }, { "nonce", 1, NULL, 'n' },
		{ "nonces", 1, NULL, 'N' }, { "quiet", 0, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	char *twice[] = { "v", "--manifest", "a", "--manifest=b", NULL };
	char *prefix[] = { "v", "--man", "a", "--manifest", "b", NULL };
	char *flag0[] = { "v", "--quiet", "x", "--quiet", NULL };
	char *list[] = { "v", "--nonce", "aa", "--nonce=bb", "--nonces", "f", NULL };
	char *value[] = { "v", "--manifest", "--manifest", "bundle", NULL };
	char *dashdash[] = { "v", "--manifest", "a", "--", "--manifest", NULL };

	(void)state;
	assert_int_equal(args_once(4, twice, o, "n"), -EINVAL);
	assert_int_equal(args_once(5, prefix, o, "n"), -EINVAL);
	assert_int_equal(args_once(4, flag0, o, "n"), -EINVAL);
	assert_int_equal(args_once(6, list, o, "n"), 0);
	assert_int_equal(args_once(6, list, o, ""), -EINVAL);
	/* A value is not a flag; nothing after "--" is. */
	assert_int_equal(args_once(4, value, o, ""), 0);
	assert_int_equal(args_once(5, dashdash, o, ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_canonical),
		cmocka_unit_test(test_roundtrip_and_strictness),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_bounds_accepted),
		cmocka_unit_test(test_device_flags),
		cmocka_unit_test(test_canonical_refuses_host_keys),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_flag_twice),
		cmocka_unit_test(test_args_once),
		cmocka_unit_test(test_config_not_a_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
