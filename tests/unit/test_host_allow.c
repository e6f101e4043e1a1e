/* SPDX-License-Identifier: Apache-2.0 */
/* attest/format/host_allow: the host allowlist's lines, lookups, bad files. */
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

#include <openssl/evp.h>

#include "attest/format/host_allow.h"
#include "attest/producer/host_allow_build.h"

#define D32 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define E32 "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char good[] =
	"# Bulwark host allowlist\n"
	"\n"
	"sha256:" E32 " /usr/bin/swtpm\n"
	"sha256:" D32 " /usr/bin/bulwark\n"
	"sha256:" E32 " /usr/bin/bulwark\n"
	"sha1:00112233445566778899aabbccddeeff00112233 /path with spaces\n";

static void test_parse_and_find(void **state)
{
	struct host_allowlist l;
	uint8_t d[32], e[32];
	char why[96];

	(void)state;
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 16; i++)
		d[i] = d[16 + i] = (uint8_t)(i * 0x11);
	memcpy(e, d, sizeof(e));
	e[0] = 0xff;
	assert_int_equal(host_allow_parse((const uint8_t *)good, strlen(good), &l, why,
					  sizeof(why)), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.e[0].path, "/path with spaces");
	assert_true(host_allow_find(l.e, l.n, "/usr/bin/bulwark", EVLOG_ALG_SHA256, d, 32));
	assert_true(host_allow_find(l.e, l.n, "/usr/bin/bulwark", EVLOG_ALG_SHA256, e, 32));
	assert_true(host_allow_find(l.e, l.n, "/usr/bin/swtpm", EVLOG_ALG_SHA256, e, 32));
	assert_false(host_allow_find(l.e, l.n, "/usr/bin/swtpm", EVLOG_ALG_SHA256, d, 32));
	assert_false(host_allow_find(l.e, l.n, "/usr/bin/bulwark", EVLOG_ALG_SHA384, d, 32));
	assert_false(host_allow_find(l.e, l.n, "/usr/bin/bulwar", EVLOG_ALG_SHA256, d, 32));
	host_allow_free(&l);
	assert_int_equal(host_allow_parse((const uint8_t *)"", 0, &l, why, sizeof(why)), 0);
	assert_int_equal(l.n, 0);
	assert_false(host_allow_find(l.e, l.n, "/x", EVLOG_ALG_SHA256, d, 32));
	host_allow_free(&l);
}

static void expect_bad(const char *text, size_t len, const char *what)
{
	struct host_allowlist l;
	char why[96] = "";

	assert_int_equal(host_allow_parse((const uint8_t *)text, len, &l, why, sizeof(why)),
			 -EBADMSG);
	if (!strstr(why, what))
		print_error("'%s' does not say '%s'\n", why, what);
	assert_non_null(strstr(why, what));
	assert_null(l.e);
}

static void test_bad_files(void **state)
{
	static const char nul[] = "sha256:" D32 " /a\0b\n";

	(void)state;
	expect_bad("sha256:" D32 " /usr/bin/x", 7 + 64 + 11, "newline");
	expect_bad("md5:00112233445566778899aabbccddeeff /x\n", 40, "line 1: unknown");
	expect_bad("\nsha256:" D32 " \n", 1 + 7 + 64 + 2, "line 2: path");
	expect_bad("sha256:" D32 "\n", 7 + 64 + 1, "line 1: digest");
	expect_bad("sha256:" E32 "00 /x\n", 7 + 66 + 4, "digest");
	expect_bad("sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff /x\n",
		   7 + 64 + 4, "digest");
	expect_bad("/usr/bin/x\n", 11, "not ALG");
	expect_bad(nul, sizeof(nul) - 1, "NUL");
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* An "installed host" under a temporary root: files listed by their host
 * path and SHA-256; symlinks not followed; the list parses and finds them. */
static void test_build_from_tree(void **state)
{
	char root[] = "/tmp/bulwark-test-allow.XXXXXX", p[256], *text = NULL;
	const char *paths[] = { "/usr" };
	/* SHA-256("ELF bulwark\n") */
	uint8_t d[32];
	struct host_allowlist l;
	size_t count = 0, len = 0;
	char why[96];
	FILE *out;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/usr", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/usr/bin", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/usr/bin/bulwark", root);
	put_file(p, "ELF bulwark\n");
	snprintf(p, sizeof(p), "%s/usr/bin/with space", root);
	put_file(p, "x");
	snprintf(p, sizeof(p), "%s/usr/bin/link", root);
	assert_int_equal(symlink("bulwark", p), 0);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(host_allow_build(root, paths, 1, out, &count), 0);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(count, 2);
	assert_int_equal(host_allow_parse((const uint8_t *)text, len, &l, why, sizeof(why)), 0);
	assert_int_equal(l.n, 2);
	assert_true(EVP_Digest("ELF bulwark\n", 12, d, NULL, EVP_sha256(), NULL));
	assert_true(host_allow_find(l.e, l.n, "/usr/bin/bulwark", EVLOG_ALG_SHA256, d, 32));
	assert_true(EVP_Digest("x", 1, d, NULL, EVP_sha256(), NULL));
	assert_true(host_allow_find(l.e, l.n, "/usr/bin/with space", EVLOG_ALG_SHA256, d, 32));
	host_allow_free(&l);
	free(text);
	/* a path that does not exist is an error, not an empty list */
	paths[0] = "/nonexistent";
	out = open_memstream(&text, &len);
	assert_true(host_allow_build(root, paths, 1, out, &count) < 0);
	fclose(out);
	free(text);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_find),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_build_from_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
