/* SPDX-License-Identifier: Apache-2.0 */
/* The digest of a compiled seccomp filter (sandbox.h), the value the
 * launcher measures into the vTPM.  Not linked into the VMM. */
#include <errno.h>

#include <openssl/evp.h>

#include "core/sandbox.h"

int sandbox_filter_digest(struct sandbox_filter *f)
{
	unsigned int dlen = 0;

	if (!EVP_Digest(f->insns, f->len * sizeof(struct sock_filter), f->digest,
			&dlen, EVP_sha256(), NULL) || dlen != sizeof(f->digest))
		return -EIO;
	return 0;
}
