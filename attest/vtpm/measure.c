/* SPDX-License-Identifier: Apache-2.0 */
/* The measured direct boot and the VMM identity encoding (measure.h). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/vtpm/measure.h"
#include "attest/format/tpm.h"
#include "core/log.h"
#include "core/util.h"

#define ID_HEADER "bulwark-vmm-identity v1\n"
/* ---- hashing ------------------------------------------------------------ */

static const EVP_MD *md_of(uint16_t alg)
{
	const char *name = evlog_alg_name(alg);

	return name ? EVP_get_digestbyname(name) : NULL;
}

/* Hashes the whole file behind fd with every digest in ctx[0..n). */
static int hash_fd(int fd, EVP_MD_CTX **ctx, size_t n)
{
	static uint8_t buf[1 << 16];
	off_t off = 0;

	for (;;) {
		ssize_t r = pread(fd, buf, sizeof(buf), off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!EVP_DigestUpdate(ctx[i], buf, (size_t)r))
				return -EIO;
		off += r;
	}
}

int measure_hash_blob(const struct measure_blob *b, const struct evlog_banks *banks,
		      struct evlog_digest *out)
{
	EVP_MD_CTX *ctx[EVLOG_MAX_BANKS] = { NULL };
	uint32_t i;
	int rc = 0;

	if (banks->count > EVLOG_MAX_BANKS || (!b->data && b->fd < 0))
		return -EINVAL;
	for (i = 0; !rc && i < banks->count; i++) {
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i] || !md_of(banks->alg[i]) ||
		    !EVP_DigestInit_ex(ctx[i], md_of(banks->alg[i]), NULL))
			rc = -EIO;
	}
	if (!rc && b->data) {
		for (i = 0; !rc && i < banks->count; i++)
			if (!EVP_DigestUpdate(ctx[i], b->data, b->len))
				rc = -EIO;
	} else if (!rc) {
		rc = hash_fd(b->fd, ctx, banks->count);
	}
	for (i = 0; !rc && i < banks->count; i++) {
		unsigned int n = 0;

		memset(&out[i], 0, sizeof(out[i]));
		out[i].alg = banks->alg[i];
		out[i].size = banks->size[i];
		if (!EVP_DigestFinal_ex(ctx[i], out[i].bytes, &n) || n != out[i].size)
			rc = -EIO;
	}
	for (i = 0; i < EVLOG_MAX_BANKS; i++)
		EVP_MD_CTX_free(ctx[i]);
	return rc;
}

/* ---- VMM identity --------------------------------------------------------- */

int measure_identity_add(struct measure_identity *id, const char *name, int fd)
{
	struct evlog_banks sha256 = { .count = 1, .alg = { EVLOG_ALG_SHA256 },
				      .size = { 32 } };
	struct measure_blob b = { .fd = fd };
	struct evlog_digest d;
	int rc;

	if (id->count == MEASURE_MAX_IDENTITY || !name ||
	    strlen(name) >= sizeof(id->file[0].name) || !measure_value_ok(name, strlen(name)))
		return -EINVAL;
	rc = measure_hash_blob(&b, &sha256, &d);
	if (rc)
		return rc;
	snprintf(id->file[id->count].name, sizeof(id->file[0].name), "%s", name);
	memcpy(id->file[id->count].sha256, d.bytes, 32);
	id->count++;
	return 0;
}

int measure_identity_encode(const struct measure_identity *id, char *buf, size_t cap,
			    size_t *len)
{
	size_t used = (size_t)snprintf(buf, cap, "%s", ID_HEADER);

	if (id->count == 0 || id->count > MEASURE_MAX_IDENTITY)
		return -EINVAL;
	for (size_t i = 0; used < cap && i < id->count; i++) {
		char h[65];

		hex_encode(id->file[i].sha256, 32, h);
		used += (size_t)snprintf(buf + used, cap - used, "%s %s\n", h,
					 id->file[i].name);
	}
	if (used >= cap)
		return -ENOSPC;
	*len = used;
	return 0;
}

/* ---- the boot -------------------------------------------------------------- */

struct run {
	int fd;                       /* the TPM, or -1 for the log only */
	struct evlog_writer *log;
};

/* Extends the TPM (if any) and appends the same digests to the log. */
static int run_event(struct run *r, uint32_t pcr, uint32_t type,
		     const struct evlog_digest *d, const void *data, size_t len)
{
	int rc = 0;

	if (r->fd >= 0)
		rc = tpm_pcr_extend(r->fd, pcr, d, r->log->banks.count);
	rc = rc ? rc : evlog_append(r->log, pcr, type, d, r->log->banks.count, data, len);
	if (rc)
		log_err("measuring event type 0x%x into PCR %u failed: %s", type, pcr,
			strerror(-rc));
	return rc;
}

/* An event whose digest is the hash of its own data. */
static int run_data(struct run *r, uint32_t pcr, uint32_t type, const void *data,
		    size_t len)
{
	struct evlog_digest d[EVLOG_MAX_BANKS];
	int rc = evlog_digest_data(r->log, data, len, d);

	return rc ? rc : run_event(r, pcr, type, d, data, len);
}

/* UEFI_IMAGE_LOAD_EVENT (PFP 10.2.3) with no device path, little-endian. */
struct image_load_event {
	uint64_t location;            /* 0: the VMM places the image */
	uint64_t length;              /* bytes measured */
	uint64_t link_time_address;   /* 0 */
	uint64_t device_path_length;  /* 0 */
};
static_assert(sizeof(struct image_load_event) == 32, "on-wire UEFI_IMAGE_LOAD_EVENT");

static int blob_size(const struct measure_blob *b, uint64_t *size)
{
	off_t end;

	if (b->data) {
		*size = b->len;
		return 0;
	}
	end = lseek(b->fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

/* The kernel: PCR 4 as the boot application, digest of the whole image. */
static int run_kernel(struct run *r, const struct measure_blob *b)
{
	struct image_load_event ev = { 0 };
	struct evlog_digest d[EVLOG_MAX_BANKS];
	uint64_t size = 0;
	int rc = blob_size(b, &size);

	ev.length = htole64(size);
	rc = rc ? rc : measure_hash_blob(b, &r->log->banks, d);
	return rc ? rc : run_event(r, MEASURE_PCR_KERNEL, EV_EFI_BOOT_SERVICES_APPLICATION,
				   d, &ev, sizeof(ev));
}

/*
 * The command line the GRUB way, which tpm2_eventlog checks: data is
 * "kernel_cmdline: " CMDLINE "\0", digest is of CMDLINE alone.
 */
static int run_cmdline(struct run *r, const char *cmdline)
{
	struct evlog_digest d[EVLOG_MAX_BANKS];
	size_t n = strlen(MEASURE_CMDLINE_PREFIX) + strlen(cmdline);
	char *text = malloc(n + 1);
	int rc;

	if (!text)
		return -ENOMEM;
	snprintf(text, n + 1, "%s%s", MEASURE_CMDLINE_PREFIX, cmdline);
	rc = evlog_digest_data(r->log, cmdline, strlen(cmdline), d);
	rc = rc ? rc : run_event(r, MEASURE_PCR_CMDLINE, EV_IPL, d, text, n + 1);
	free(text);
	return rc;
}

/* An event whose digest is of content and whose data is a label. */
static int run_blob(struct run *r, uint32_t pcr, const struct measure_blob *b,
		    uint32_t type, const char *label)
{
	struct evlog_digest d[EVLOG_MAX_BANKS];
	int rc = measure_hash_blob(b, &r->log->banks, d);

	return rc ? rc : run_event(r, pcr, type, d, label, strlen(label));
}

static int blob_valid(const struct measure_blob *b, int optional)
{
	if (!b->data && b->fd < 0)
		return optional;
	return !b->data || b->len > 0;
}

static int boot_validate(const struct measure_boot *b, char *sec, size_t *sec_len)
{
	size_t cl = b->cmdline ? strnlen(b->cmdline, MEASURE_MAX_CMDLINE + 1) : 0;

	if (!b->vmm_identity || !b->vmm_identity_len ||
	    b->vmm_identity_len > MEASURE_MAX_TEXT || !b->config || !b->config_len ||
	    b->config_len > MEASURE_MAX_TEXT || !b->acpi || !b->acpi_len ||
	    !b->security || !blob_valid(&b->kernel, 0) || !blob_valid(&b->initrd, 1) ||
	    !b->cmdline || cl > MEASURE_MAX_CMDLINE) {
		log_err("measured boot: missing or oversized input");
		return -EINVAL;
	}
	if (measure_secstate_encode(b->security, sec, MEASURE_MAX_TEXT, sec_len)) {
		log_err("measured boot: security state cannot be encoded");
		return -EINVAL;
	}
	return 0;
}

/* The table of measure.h, in order. */
static int boot_events(struct run *r, const struct measure_boot *b, const char *sec,
		       size_t sec_len)
{
	static const uint8_t separator[4];
	int rc;

	rc = run_data(r, MEASURE_PCR_VMM, EV_POST_CODE, b->vmm_identity, b->vmm_identity_len);
	rc = rc ? rc : run_data(r, MEASURE_PCR_CONFIG, EV_PLATFORM_CONFIG_FLAGS, b->config,
				b->config_len);
	if (!rc) {
		struct measure_blob acpi = { .data = b->acpi, .len = b->acpi_len, .fd = -1 };

		rc = run_blob(r, MEASURE_PCR_ACPI, &acpi, EV_TABLE_OF_DEVICES,
			      MEASURE_ACPI_LABEL);
	}
	rc = rc ? rc : run_data(r, MEASURE_PCR_SECURITY, EV_PLATFORM_CONFIG_FLAGS, sec,
				sec_len);
	for (uint32_t pcr = 0; !rc && pcr <= 7; pcr++)
		rc = run_data(r, pcr, EV_SEPARATOR, separator, sizeof(separator));
	rc = rc ? rc : run_kernel(r, &b->kernel);
	rc = rc ? rc : run_cmdline(r, b->cmdline);
	if (!rc && (b->initrd.data || b->initrd.fd >= 0))
		rc = run_blob(r, MEASURE_PCR_INITRD, &b->initrd, EV_IPL, MEASURE_INITRD_LABEL);
	return rc;
}

int measure_boot_run(int tpm_fd, const struct evlog_banks *banks,
		     const struct measure_boot *b, struct evlog_writer *log)
{
	struct evlog_banks tpm_banks;
	struct run r = { .fd = tpm_fd, .log = log };
	size_t sec_len = 0;
	char *sec = malloc(MEASURE_MAX_TEXT);
	int rc;

	memset(log, 0, sizeof(*log));
	if (!sec)
		return -ENOMEM;
	rc = boot_validate(b, sec, &sec_len);
	if (rc)
		goto out;
	if (tpm_fd >= 0) {
		/* Startup succeeds once per power-on: nobody measured before us. */
		rc = tpm_startup_clear(tpm_fd);
		rc = rc ? rc : tpm_pcr_banks(tpm_fd, &tpm_banks);
		banks = &tpm_banks;
	} else if (!banks) {
		rc = -EINVAL;
	}
	rc = rc ? rc : evlog_writer_init(log, banks->alg, banks->count, EVLOG_MAX_SIZE);
	if (rc)
		goto out;
	rc = boot_events(&r, b, sec, sec_len);
	if (rc)
		evlog_writer_free(log);
out:
	if (rc)
		log_err("measured boot failed: %s; the vTPM must not be used", strerror(-rc));
	free(sec);
	return rc;
}

/* ---- the restore (measure.h) -------------------------------------------- */

/* TAG, the text HEAD (its lines) and the security state now, as a
 * TCG_PCClientTaggedEvent into buf: the restore's and the migration's. */
static int tagged_encode(uint32_t tag, const char *head_text, const struct measure_secstate *now,
			 uint8_t *buf, size_t cap, size_t *len)
{
	size_t head, sec = 0;
	int n;

	if (!now || cap < 8)
		return -EINVAL;
	n = snprintf((char *)buf + 8, cap - 8, "%s", head_text);
	if (n < 0 || (size_t)n >= cap - 8)
		return -ENOSPC;
	head = 8 + (size_t)n;
	n = measure_secstate_encode(now, (char *)buf + head, cap - head, &sec);
	if (n)
		return n;
	if (head + sec > 8 + MEASURE_MAX_TEXT)
		return -ENOSPC;
	put_le(buf, tag, 4);
	put_le(buf + 4, head - 8 + sec, 4);
	*len = head + sec;
	return 0;
}

static int utc_time(int64_t unix_time, char when[MEASURE_RESTORE_TIME_LEN + 1])
{
	time_t t = (time_t)unix_time;
	struct tm tm;

	if (unix_time < 0 || !gmtime_r(&t, &tm) ||
	    strftime(when, MEASURE_RESTORE_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) !=
		    MEASURE_RESTORE_TIME_LEN)
		return -EINVAL;
	return 0;
}

int measure_restore_encode(const uint8_t snap_digest[32], int64_t unix_time,
			   const struct measure_secstate *now, uint8_t *buf, size_t cap,
			   size_t *len)
{
	char hex[65], when[MEASURE_RESTORE_TIME_LEN + 1], head[256];

	if (!snap_digest || utc_time(unix_time, when))
		return -EINVAL;
	hex_encode(snap_digest, 32, hex);
	snprintf(head, sizeof(head), "%ssnapshot.sha256=%s\ntime=%s\n", MEASURE_RESTORE_HEADER,
		 hex, when);
	return tagged_encode(MEASURE_RESTORE_TAG, head, now, buf, cap, len);
}

int measure_migrate_encode(const struct measure_migration *mg, int64_t unix_time,
			   const struct measure_secstate *now, uint8_t *buf, size_t cap,
			   size_t *len)
{
	char cert[65], stream[65], when[MEASURE_RESTORE_TIME_LEN + 1];
	char head[MEASURE_MIGRATE_HOST_MAX + 320];

	if (!mg || !mg->source_host || !mg->source_cert_sha256 || !mg->stream_sha256 ||
	    strlen(mg->source_host) > MEASURE_MIGRATE_HOST_MAX ||
	    !measure_value_ok(mg->source_host, strlen(mg->source_host)) ||
	    utc_time(unix_time, when))
		return -EINVAL;
	hex_encode(mg->source_cert_sha256, 32, cert);
	hex_encode(mg->stream_sha256, 32, stream);
	snprintf(head, sizeof(head), "%ssource.host=%s\nsource.cert.sha256=%s\n"
		 "stream.sha256=%s\ntime=%s\n", MEASURE_MIGRATE_HEADER, mg->source_host, cert,
		 stream, when);
	return tagged_encode(MEASURE_MIGRATE_TAG, head, now, buf, cap, len);
}

#define TAGGED_MAX (8 + MEASURE_MAX_TEXT + 256)

/* A restore's or a migration's event (SNAP_DIGEST or MG), into the TPM
 * behind tpm_fd (if >= 0) and the log. */
static int tagged_run(int tpm_fd, struct evlog_writer *log, const uint8_t *snap_digest,
		      const struct measure_migration *mg, int64_t unix_time,
		      const struct measure_secstate *now)
{
	struct run r = { .fd = tpm_fd, .log = log };
	uint8_t *data = malloc(TAGGED_MAX);
	size_t len = 0;
	int rc;

	if (!data)
		return -ENOMEM;
	rc = mg ? measure_migrate_encode(mg, unix_time, now, data, TAGGED_MAX, &len) :
		  measure_restore_encode(snap_digest, unix_time, now, data, TAGGED_MAX, &len);
	if (rc)
		log_err("%s event: inputs cannot be encoded: %s", mg ? "migration" : "restore",
			strerror(-rc));
	rc = rc ? rc : run_data(&r, MEASURE_PCR_SECURITY, EV_EVENT_TAG, data, len);
	free(data);
	return rc;
}

int measure_restore_run(int tpm_fd, struct evlog_writer *log, const uint8_t snap_digest[32],
			int64_t unix_time, const struct measure_secstate *now)
{
	return tagged_run(tpm_fd, log, snap_digest, NULL, unix_time, now);
}

int measure_migrate_run(int tpm_fd, struct evlog_writer *log,
			const struct measure_migration *mg, int64_t unix_time,
			const struct measure_secstate *now)
{
	return mg ? tagged_run(tpm_fd, log, NULL, mg, unix_time, now) : -EINVAL;
}

int measure_log_load(struct evlog_writer *w, const uint8_t *buf, size_t len)
{
	struct evlog_parser p;
	struct evlog_event ev;
	struct evlog_writer ref;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = evlog_parse_begin(&p, buf, len);
	while (!rc && (rc = evlog_parse_next(&p, &ev)) == 1)
		rc = 0;
	if (rc < 0)
		return -EBADMSG;
	rc = evlog_writer_init(&ref, p.banks.alg, p.banks.count, EVLOG_MAX_SIZE);
	if (rc)
		return rc;
	/* the launcher's own header for these banks, and room for the rest */
	if (len > ref.capacity || len < ref.len || memcmp(ref.buf, buf, ref.len)) {
		evlog_writer_free(&ref);
		return -EBADMSG;
	}
	memcpy(ref.buf, buf, len);
	ref.len = len;
	*w = ref;
	return 0;
}

int attest_file_put(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd))
		rc = -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		(void)unlink(tmp);
		log_err("cannot write %s: %s", path, strerror(-rc));
	}
	return rc;
}

int attest_file_put_at(const char *dir, const char *name, const void *buf,
		       size_t len, mode_t mode)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return attest_file_put(path, buf, len, mode);
}

int measure_log_save(const struct evlog_writer *log, const char *path)
{
	return attest_file_put(path, log->buf, log->len, 0644);
}
