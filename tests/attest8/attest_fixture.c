/* SPDX-License-Identifier: Apache-2.0 */
/* Set-up shared by the attestation tests (attest_fixture.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

struct measure_secstate attest_fixture_secstate(const char *label)
{
	static const uint8_t policy[32] = { 0x42 };
	static const struct measure_filter filters[] = { { "vmm", { 0x11 } } };

	return (struct measure_secstate){
		.selinux = MEASURE_SELINUX_ENFORCING, .policy_sha256 = policy,
		.svirt = "dynamic", .label = label, .seccomp = 1, .filters = filters,
		.nfilters = ARRAY_SIZE(filters),
	};
}

struct measure_boot attest_fixture_boot(const struct measure_secstate *sec)
{
	static const char idn[] = "bulwark-vmm-identity v1\n00 bulwark-vmm\n";
	static const char config[] = "{\"cpus\":1,\"memory\":256}";
	static const char acpi[] = "RSDP XSDT FACP APIC DSDT TPM2";
	static const char kernel[] = "MZ a kernel image";

	return (struct measure_boot){
		.vmm_identity = (const uint8_t *)idn, .vmm_identity_len = strlen(idn),
		.config = (const uint8_t *)config, .config_len = strlen(config),
		.acpi = (const uint8_t *)acpi, .acpi_len = strlen(acpi), .security = sec,
		.kernel = { kernel, strlen(kernel), -1 }, .initrd = { NULL, 0, -1 },
		.cmdline = "console=ttyS0 quiet",
	};
}

int attest_fixture_die_with_test(void *arg)
{
	(void)arg;
	return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

X509 *attest_fixture_load_cert(const char *path, int pem)
{
	FILE *f = fopen(path, "r");
	X509 *x = NULL;

	if (f) {
		x = pem ? PEM_read_X509(f, NULL, NULL, NULL) : d2i_X509_fp(f, NULL);
		fclose(f);
	}
	return x;
}

int attest_fixture_der(X509 *x, struct bundle_blob *b)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);

	b->data = n > 0 ? p : NULL;
	b->len = n > 0 ? (size_t)n : 0;
	return n > 0 ? 0 : -1;
}

static int ca_extensions(X509 *x, EVP_PKEY *key)
{
	static const struct { int nid; const char *value; } ext[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign" },
		{ NID_subject_key_identifier, "hash" },
	};
	X509V3_CTX v3;
	int ok = 1;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	for (size_t i = 0; ok && i < ARRAY_SIZE(ext); i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, ext[i].nid, ext[i].value);

		ok = e && X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	return ok && X509_sign(x, key, EVP_sha256()) ? 0 : -1;
}

int attest_fixture_make_ca(const char *cn, const char *path, EVP_PKEY **key, X509 **cert)
{
	X509 *x = X509_new();
	FILE *f;
	int ok;

	*key = EVP_EC_gen("P-256");
	ok = x && *key && X509_set_version(x, 2) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, *key) &&
	     !ca_extensions(x, *key);
	f = ok ? fopen(path, "w") : NULL;
	ok = f && PEM_write_X509(f, x);
	if (f && fclose(f))
		ok = 0;
	*cert = x;
	return ok ? 0 : -1;
}

int attest_fixture_pcrs_file(const char *path, const struct bundle *b,
			     const TPML_PCR_SELECTION *sel)
{
	TPML_DIGEST d[8];
	uint32_t count = 0;
	FILE *f;
	int ok;

	memset(d, 0, sizeof(d));
	for (uint32_t i = 0; i < sel->count && i < b->pcrs.banks.count; i++)
		for (uint32_t pcr = 0; pcr < 24 && count < ARRAY_SIZE(d); pcr++) {
			TPML_DIGEST *cur = &d[count];

			if (!(sel->pcrSelections[i].pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			cur->digests[cur->count].size = b->pcrs.banks.size[i];
			memcpy(cur->digests[cur->count].buffer, b->pcrs.value[i][pcr],
			       b->pcrs.banks.size[i]);
			if (++cur->count == 8)
				count++;
		}
	count += count < ARRAY_SIZE(d) && d[count].count ? 1 : 0;
	f = fopen(path, "w");
	ok = f && fwrite(sel, sizeof(*sel), 1, f) == 1 &&
	     fwrite(&count, sizeof(count), 1, f) == 1 &&
	     fwrite(d, sizeof(d[0]), count, f) == count;
	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}
