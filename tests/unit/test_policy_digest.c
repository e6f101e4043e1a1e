/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest/policy_digest: the SELinux policy digest the launcher measures
 * (from the kernel's /sys/fs/selinux/policy) equals the one `bulwark
 * reference --policy` computes from the .pol file that was loaded.
 *
 * golden/policy-loaded.pol is build/policy/standalone.pol as the lab loaded
 * it; golden/policy-kernel-6.1.pol is what that lab kernel (Debian
 * 6.1.0-56) gave back in /sys/fs/selinux/policy: same size, other bytes.
 */
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

#include <openssl/evp.h>
#include <sepol/policydb.h>

#include "attest/format/bundle.h"
#include "attest/vtpm/policy_digest.h"
#include "core/util.h"

#define LOADED "tests/unit/golden/policy-loaded.pol"
#define KERNEL "tests/unit/golden/policy-kernel-6.1.pol"
#define BUILT "build/policy/standalone.pol"

/* The digest of both goldens (libsepol 3.4). */
static const char golden_hex[] =
	"190f6fc7f9dd73d90d5136f5eb333d1f2590237759995073d5a4c78e85dc9861";

static void load(const char *path, uint8_t **buf, size_t *len)
{
	assert_int_equal(bundle_read_file(path, POLICY_DIGEST_MAX_SIZE, buf, len), 0);
	assert_true(*len > 1024);
}

static void to_hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_kernel_bytes_equal_file(void **state)
{
	uint8_t *a, *b, da[32], db[32], ra[32], rb[32];
	size_t la, lb;
	char hex[65];

	(void)state;
	load(LOADED, &a, &la);
	load(KERNEL, &b, &lb);
	/* The kernel re-serialized it: same length, other bytes. */
	assert_int_equal(la, lb);
	assert_memory_not_equal(a, b, la);
	EVP_Digest(a, la, ra, NULL, EVP_sha256(), NULL);
	EVP_Digest(b, lb, rb, NULL, EVP_sha256(), NULL);
	assert_memory_not_equal(ra, rb, 32);
	assert_int_equal(policy_digest_image(a, la, da), 0);
	assert_int_equal(policy_digest_image(b, lb, db), 0);
	assert_memory_equal(da, db, 32);
	to_hex(da, hex);
	assert_string_equal(hex, golden_hex);
	assert_int_equal(policy_digest_file(KERNEL, db), 0);
	assert_memory_equal(da, db, 32);
	free(a);
	free(b);
}

/* libsepol's image of a policy is a fixed point: the digest of the image
 * is the SHA-256 of the image itself. */
static void test_image_is_canonical(void **state)
{
	sepol_policy_file_t *pf;
	sepol_policydb_t *p;
	uint8_t *a, d[32], raw[32];
	void *img = NULL;
	size_t la, li = 0;

	(void)state;
	load(KERNEL, &a, &la);
	assert_int_equal(sepol_policy_file_create(&pf), 0);
	assert_int_equal(sepol_policydb_create(&p), 0);
	sepol_policy_file_set_mem(pf, (char *)a, la);
	assert_int_equal(sepol_policydb_read(p, pf), 0);
	assert_int_equal(sepol_policydb_to_image(NULL, p, &img, &li), 0);
	assert_int_equal(policy_digest_image(img, li, d), 0);
	EVP_Digest(img, li, raw, NULL, EVP_sha256(), NULL);
	assert_memory_equal(d, raw, 32);
	free(img);
	sepol_policydb_free(p);
	sepol_policy_file_free(pf);
	free(a);
}

/* Today's build of the policy has a digest, stable across calls. */
static void test_built_policy(void **state)
{
	uint8_t d1[32], d2[32];

	(void)state;
	assert_int_equal(policy_digest_file(BUILT, d1), 0);
	assert_int_equal(policy_digest_file(BUILT, d2), 0);
	assert_memory_equal(d1, d2, 32);
}

/* Anything but a whole binary policy is refused, never hashed as is. */
static void test_rejects(void **state)
{
	uint8_t *a, d[32];
	size_t la;

	(void)state;
	load(LOADED, &a, &la);
	assert_int_equal(policy_digest_image((const uint8_t *)"abc", 3, d), -EINVAL);
	assert_int_equal(policy_digest_image(a, 0, d), -EINVAL);
	assert_int_equal(policy_digest_image(NULL, 10, d), -EINVAL);
	for (size_t n = 1; n < la; n += n < 64 ? 1 : 997)
		assert_int_equal(policy_digest_image(a, n, d), -EINVAL);
	assert_int_equal(policy_digest_image(a, la - 1, d), -EINVAL);
	a[0] ^= 1;                             /* magic */
	assert_int_equal(policy_digest_image(a, la, d), -EINVAL);
	a[0] ^= 1;
	assert_int_equal(policy_digest_image(a, POLICY_DIGEST_MAX_SIZE + 1, d), -EINVAL);
	assert_int_equal(policy_digest_file("/nonexistent/policy", d), -ENOENT);
	assert_int_equal(policy_digest_file("/dev/null", d), -EINVAL);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_bytes_equal_file),
		cmocka_unit_test(test_image_is_canonical),
		cmocka_unit_test(test_built_policy),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
