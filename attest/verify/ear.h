/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation results: EAR (IETF RATS "EAT Attestation Results", the
 * Veraison profile) as unsigned JSON, one object per bundle with one submod
 * named after the guest, and a readable report for people.
 */
#ifndef BULWARK_ATTEST_EAR_H
#define BULWARK_ATTEST_EAR_H

#include <stdio.h>
#include <time.h>

#include "attest/verify/verify.h"

#define EAR_PROFILE  "tag:github.com,2023:veraison/ear"
#define EAR_VERIFIER "bulwark-verify 0.1"

/*
 * The EAR of one result as JSON text (malloc'd, NUL-terminated); source is
 * the bundle's file name, policy the manifest id, iat the verification time.
 */
int ear_json(const struct verify_result *res, const char *source, const char *policy,
	     time_t iat, char **out);

/* Writes n EARs: one object if n == 1, else a JSON array; 0 or -errno. */
int ear_write(FILE *f, const struct verify_result *res, const char *const *sources,
	      size_t n, const char *policy, time_t iat);

/* The readable report of one result. */
void ear_report(FILE *f, const struct verify_result *res, const char *source);

#endif
