/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ima-fill SOCK N LIST ALLOWLIST: plays the host kernel's IMA for the
 * benchmark (and the lab's stand-in host TPM): appends N ima-ng entries to
 * LIST (binary_runtime_measurements form; boot_aggregate first when LIST is
 * new), extends each into PCR 10 of the swtpm at SOCK (data socket) in
 * every bank the TPM has, with that bank's hash of the template data, as
 * the kernel does, and appends the matching 'sha256:HEX PATH' lines to
 * ALLOWLIST.  A real TPM, a real list; only the files are made up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attest/format/imalog.h"
#include "attest/format/tpm.h"
#include "core/util.h"

static int connect_tpm(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One entry: logged, extended, allowed. */
static int fill_one(int fd, const struct evlog_banks *banks, const char *path,
		    const char *content, FILE *list, FILE *allow)
{
	uint8_t buf[8192];
	size_t len = 0;
	struct evlog_digest fd_digest, d[EVLOG_MAX_BANKS];
	struct imalog_parser p;
	struct imalog_entry e;
	char hex[65];
	int rc = evlog_hash(EVLOG_ALG_SHA256, content, strlen(content), &fd_digest);

	rc = rc ? rc : imalog_append(buf, &len, sizeof(buf), path, &fd_digest, 0);
	rc = rc ? rc : imalog_parse_begin(&p, buf, len);
	rc = rc ? rc : imalog_parse_next(&p, &e) == 1 ? 0 : -EIO;
	for (uint32_t i = 0; !rc && i < banks->count; i++)
		rc = evlog_hash(banks->alg[i], e.template_data, e.template_data_len, &d[i]);
	rc = rc ? rc : tpm_pcr_extend(fd, IMALOG_PCR, d, banks->count);
	if (rc)
		return rc;
	hex_encode(fd_digest.bytes, 32, hex);
	if (fwrite(buf, 1, len, list) != len || fprintf(allow, "sha256:%s %s\n", hex, path) < 0)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	struct evlog_banks banks;
	char path[128], content[64];
	long n = argc == 5 ? strtol(argv[2], NULL, 10) : -1;
	FILE *list, *allow;
	long start;
	int fd, rc;

	if (n <= 0) {
		fprintf(stderr, "usage: ima-fill SOCK N LIST ALLOWLIST\n");
		return 2;
	}
	fd = connect_tpm(argv[1]);
	list = fopen(argv[3], "ae");
	allow = fopen(argv[4], "ae");
	if (fd < 0 || !list || !allow || tpm_pcr_banks(fd, &banks)) {
		fprintf(stderr, "ima-fill: cannot open the TPM or the files\n");
		return 1;
	}
	start = fseek(list, 0, SEEK_END) ? -1 : ftell(list);
	if (start < 0) {
		fprintf(stderr, "ima-fill: %s: cannot seek\n", argv[3]);
		return 1;
	}
	rc = start == 0 ? fill_one(fd, &banks, "boot_aggregate", "bench boot", list, allow) : 0;
	for (long i = 0; !rc && i < n; i++) {
		snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/bench/lib%ld-%ld.so.1",
			 start, i);
		snprintf(content, sizeof(content), "ELF %ld %ld", start, i);
		rc = fill_one(fd, &banks, path, content, list, allow);
	}
	if (fclose(list) || fclose(allow))
		rc = rc ? rc : -EIO;
	close(fd);
	if (rc)
		fprintf(stderr, "ima-fill: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
