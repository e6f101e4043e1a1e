/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Set-up shared by the attestation tests (test_verify, test_quote_vtpm,
 * test_attestd) and attest8-fixture: the stand-in boot inputs, test CAs and
 * certificates, and tpm2-tools' PCR file.  Real swtpm, real OpenSSL: only
 * the artifacts measured are stand-ins.
 */
#ifndef BULWARK_TESTS_ATTEST_FIXTURE_H
#define BULWARK_TESTS_ATTEST_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/format/bundle.h"
#include "attest/vtpm/measure.h"

/* Enforcing with a stand-in policy digest, svirt dynamic at label, seccomp
 * on with a stand-in "vmm" filter, nothing off. */
struct measure_secstate attest_fixture_secstate(const char *label);

/* A one-vCPU guest without initrd: fake identity, config, ACPI and kernel
 * (the verifier only sees their digests), "console=ttyS0 quiet", sec. */
struct measure_boot attest_fixture_boot(const struct measure_secstate *sec);

/* child_setup for swtpm: it dies with the test (PR_SET_PDEATHSIG). */
int attest_fixture_die_with_test(void *arg);

/* A certificate file, PEM (pem != 0) or DER; NULL if unreadable. */
X509 *attest_fixture_load_cert(const char *path, int pem);

/* DER of x into b (OPENSSL_free b->data); 0 or -1. */
int attest_fixture_der(X509 *x, struct bundle_blob *b);

/* A self-signed P-256 CA named cn, written to path (PEM); 0 or -1. */
int attest_fixture_make_ca(const char *cn, const char *path, EVP_PKEY **key, X509 **cert);

/* tpm2-tools' PCR file ("values": TPML_PCR_SELECTION, count, TPML_DIGESTs)
 * of the bundle's PCRs in the quote's selection; 0 or -EIO. */
int attest_fixture_pcrs_file(const char *path, const struct bundle *b,
			     const TPML_PCR_SELECTION *sel);

struct verify_result;

/*
 * bulwark-verify's checks of one bundle against the manifest of boot's
 * artifacts (sha256 + sha384, ACPI pinned, id), anchors ak_ca/ek_ca, nonce
 * (32 bytes) issued.  Returns the status, or -1 if the verifier could not be
 * set up.  (attest_fixture_verify.c: links the reference builder.)
 */
int attest_fixture_verify(const struct measure_boot *boot, const char *id,
			  const char *ak_ca, const char *ek_ca, const char *json, size_t len,
			  const uint8_t *nonce, struct verify_result *res);

#endif
