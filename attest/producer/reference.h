/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values from the artifacts alone: the launcher's own measurement
 * code (attest/vtpm/measure.c) runs without a TPM on the same inputs and the
 * digests of its log become the manifest's allowed values, so the manifest
 * holds exactly what a measured boot of these artifacts extends.
 */
#ifndef BULWARK_ATTEST_REFERENCE_H
#define BULWARK_ATTEST_REFERENCE_H

#include "attest/format/manifest.h"
#include "attest/vtpm/measure.h"

/*
 * Fills m: banks, one allowed value per measured item (initrd: none if
 * absent), ACPI pinned only if pin_acpi, SELinux enforcing with the policy
 * digest of b->security, the label rules of b->security->label (user, role,
 * type, sensitivity; the category pair varies per launch), seccomp as in
 * b->security, no protection allowed off.  Returns 0 or -errno.
 */
int reference_build(const struct measure_boot *b, const struct evlog_banks *banks,
		    const char *id, int pin_acpi, struct manifest *m);

/* Appends the values of other (same banks) to m: several allowed builds. */
int reference_merge(struct manifest *m, const struct manifest *other);

#endif
