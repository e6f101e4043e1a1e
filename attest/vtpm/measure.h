/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measured direct boot: what the launcher measures, into which PCR, with
 * which event, in which order.  Every event goes into the vTPM (all allocated
 * banks) and, with the same digests, into the TCG event log.
 *
 *   #  PCR  event type                data (in the log)       digest of
 *   1   0   EV_POST_CODE              VMM identity text       the data
 *   2   1   EV_PLATFORM_CONFIG_FLAGS  canonical VM config     the data
 *   3   1   EV_TABLE_OF_DEVICES       "acpi-tables"           the ACPI tables
 *   4   7   EV_PLATFORM_CONFIG_FLAGS  security state text     the data
 *   5   0..7 EV_SEPARATOR (x8)        00 00 00 00             the data
 *   6   4   EV_EFI_BOOT_SERVICES_     UEFI_IMAGE_LOAD_EVENT   the kernel image
 *           APPLICATION               {0, size, 0, 0} (32 B)
 *   7   8   EV_IPL                    "kernel_cmdline: " CMD  CMD alone
 *                                     + NUL (GRUB's form)
 *   8   9   EV_IPL                    "linux-initrd"          the initrd file
 *                                     (absent: no event, PCR 9 stays 0)
 *
 * Why these PCRs.  PCR 0 is the platform's code: for a firmware-less boot the
 * VMM is the firmware, so its identity (digests of the binaries that run the
 * guest) goes there.  PCR 1 is the platform's configuration: the canonical
 * VM configuration, and the ACPI tables, which the VMM generates from that
 * configuration (they are data derived from PCR 1's input, not code chosen
 * independently; TCG PFP and OVMF put ACPI data in PCR 1 too).  PCR 7 is the
 * platform's security policy (where UEFI records Secure Boot state): the host
 * security state goes there, alone, so an auditor's policy can pin it as one
 * value, and it lies below the separators, so by convention no software after
 * the boot extends it.  Separators close PCRs 0-7 before the OS loader, as
 * UEFI does; the kernel (PCR 4, the boot application), command line (PCR 8)
 * and initrd (PCR 9) follow the GRUB/UEFI conventions.
 *
 * Data a verifier can re-hash: identity, configuration, security state,
 * separators (digest = H(data) in every bank), command line (digest =
 * H(CMD): the data less its "kernel_cmdline: " prefix and final NUL, as
 * GRUB does; tpm2_eventlog checks it).
 * Kernel, initrd and ACPI tables: the digest is of the content, the data a
 * label (kernel: the UEFI image-load record, as UEFI logs a boot application,
 * so tools that know PCR 4 read it).
 */
#ifndef BULWARK_ATTEST_MEASURE_H
#define BULWARK_ATTEST_MEASURE_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include "attest/format/eventlog.h"

#define MEASURE_PCR_VMM      0
#define MEASURE_PCR_CONFIG   1
#define MEASURE_PCR_ACPI     1
#define MEASURE_PCR_KERNEL   4
#define MEASURE_PCR_SECURITY 7
#define MEASURE_PCR_CMDLINE  8
#define MEASURE_PCR_INITRD   9

#define MEASURE_CMDLINE_PREFIX "kernel_cmdline: "
#define MEASURE_INITRD_LABEL "linux-initrd"
#define MEASURE_ACPI_LABEL   "acpi-tables"

/* Bounds on what is measured as event data (it is also guest-visible). */
#define MEASURE_MAX_CMDLINE  4096u

#include "attest/format/secstate.h"

/* ---- VMM identity ------------------------------------------------------ *
 *
 *   bulwark-vmm-identity v1\n
 *   SHA256HEX NAME\n ...               in the order added
 */
#define MEASURE_MAX_IDENTITY 16

struct measure_identity {
	size_t count;
	struct {
		char name[64];
		uint8_t sha256[32];
	} file[MEASURE_MAX_IDENTITY];
};

/* Hashes the whole file behind fd (from offset 0) under name. */
int measure_identity_add(struct measure_identity *id, const char *name, int fd);
int measure_identity_encode(const struct measure_identity *id, char *buf, size_t cap,
			    size_t *len);

/* ---- the boot ---------------------------------------------------------- */

/* Content to measure: bytes if data != NULL, else the file behind fd. */
struct measure_blob {
	const void *data;
	size_t len;
	int fd;                        /* -1 with data == NULL: absent */
};

struct measure_boot {
	const uint8_t *vmm_identity;   /* measure_identity_encode() output */
	size_t vmm_identity_len;
	const uint8_t *config;         /* config_canonical() bytes */
	size_t config_len;
	const uint8_t *acpi;           /* the ACPI tables as the guest gets them */
	size_t acpi_len;
	const struct measure_secstate *security;
	struct measure_blob kernel;
	struct measure_blob initrd;    /* optional */
	const char *cmdline;
};

/* Digests of a blob in every bank of banks (reads fds with pread). */
int measure_hash_blob(const struct measure_blob *b, const struct evlog_banks *banks,
		      struct evlog_digest *out);

/*
 * Runs the whole sequence of the table above.  With tpm_fd >= 0: TPM2_Startup
 * (CLEAR) first (fails if the TPM was already started: someone else got there
 * first), banks from the TPM, each event extended into the TPM and appended to
 * the log.  With tpm_fd < 0: the log only, for the given banks (reference
 * values without a TPM).  Inputs are all validated before the first extend.
 * On success *log holds the log (caller frees with evlog_writer_free); on
 * failure nothing is returned and the vTPM must not be used (fail closed).
 */
int measure_boot_run(int tpm_fd, const struct evlog_banks *banks,
		     const struct measure_boot *b, struct evlog_writer *log);

/* ---- the restore (issue 17) -------------------------------------------- *
 *
 * A guest restored from a snapshot keeps its vTPM (the PCRs of its boot,
 * swtpm_state_restore) and its event log; the launcher then measures one
 * restore event, after the boot's events, into the PCR of the boot's
 * security state (MEASURE_PCR_SECURITY) and the log:
 *   PCR 7, EV_EVENT_TAG, data = TCG_PCClientTaggedEvent {
 *     u32 taggedEventID = MEASURE_RESTORE_TAG, u32 size, then the text }
 *   text:  bulwark-restore v1\n
 *          snapshot.sha256=HEX\n         the sealed file's digest
 *          time=YYYY-MM-DDTHH:MM:SSZ\n   UTC, the launcher's clock
 *          the security state now (secstate.h, its own header line first)
 *   digest = H(data) in every bank.
 * A guest restored again gets one more such event.  attest/format/secstate.h
 * parses it (measure_restore_parse), attest/verify appraises it.
 *
 * Changed from snap-iface.md's interface E: measure_restore's security
 * state is a struct measure_secstate (secstate.h; there is no struct
 * secstate).  Added: measure_restore_encode, measure_restore_run (no vTPM
 * object, for tests and reference values), measure_log_load (the log out
 * of the snapshot's META, back into v->log before measure_restore).
 */
struct vtpm;

/* The event's data (above) into buf; 0, -EINVAL or -ENOSPC. */
int measure_restore_encode(const uint8_t snap_digest[32], int64_t unix_time,
			   const struct measure_secstate *now, uint8_t *buf, size_t cap,
			   size_t *len);
/* Extends the TPM behind tpm_fd (if >= 0) and appends to log: the pure half. */
int measure_restore_run(int tpm_fd, struct evlog_writer *log, const uint8_t snap_digest[32],
			int64_t unix_time, const struct measure_secstate *now);
/* A log of the launcher's (e.g. from a snapshot) as a writer to append to:
 * every event parses, the header is evlog_writer_init's for its banks.
 * 0, -EBADMSG or -ENOMEM; w freed with evlog_writer_free. */
int measure_log_load(struct evlog_writer *w, const uint8_t *buf, size_t len);
/*
 * The launcher's call (attest/vtpm/measure_restore.c): v->log holds the
 * snapshot's log (the boot's events and earlier restores), v->proxy the
 * swtpm channel, the guest paused.  Checks the TPM's banks are the log's
 * and every launcher PCR (MEASURE_PCR_*: 0, 1, 4, 7, 8, 9; the guest's own,
 * such as IMA's 10, are not in this log) is the log's replay (the blobs and the log belong
 * together) and the platform hierarchy is closed (phEnable off), extends PCR 7 through the proxy's host channel, appends to
 * v->log and saves it to v->log_path.  0 or -errno; on
 * failure the guest must not be resumed (the log and the PCR may differ).
 */
int measure_restore(struct vtpm *v, const uint8_t snap_digest[32],
		    const struct measure_secstate *now);

/* ---- the migration (issue 18) ------------------------------------------ *
 *
 * A guest that arrives by live migration keeps its vTPM (the source's
 * blobs) and its event log, as a restore does; the target's launcher then
 * measures one migration event the same way (PCR 7, EV_EVENT_TAG):
 *   taggedEventID = MEASURE_MIGRATE_TAG ("BWMG"), text:
 *     bulwark-migrate v1\n
 *     source.host=CN\n               the source's certificate CN, as the
 *                                     channel authenticated it
 *     source.cert.sha256=HEX\n       that certificate's SHA-256 (DER)
 *     stream.sha256=HEX\n            the VMM's migration stream, whole
 *     time=YYYY-MM-DDTHH:MM:SSZ\n
 *     the security state on the target (secstate.h)
 * Parsed by measure_migrate_parse (secstate.h); appraised by attest/verify
 * as a link of the chain (allow_migrate).
 */
struct measure_migration {
	const char *source_host;            /* printable, no space; at most
					     * MEASURE_MIGRATE_HOST_MAX */
	const uint8_t *source_cert_sha256;  /* 32 bytes */
	const uint8_t *stream_sha256;       /* 32 bytes */
};

int measure_migrate_encode(const struct measure_migration *mg, int64_t unix_time,
			   const struct measure_secstate *now, uint8_t *buf, size_t cap,
			   size_t *len);
int measure_migrate_run(int tpm_fd, struct evlog_writer *log,
			const struct measure_migration *mg, int64_t unix_time,
			const struct measure_secstate *now);
/* measure_restore's checks (banks, launcher PCRs are the log's replay,
 * platform hierarchy closed), then the migration event; the log saved. */
int measure_migrate(struct vtpm *v, const struct measure_migration *mg,
		    const struct measure_secstate *now);

/* Writes the log to path atomically (temporary file, fsync, rename), 0644. */
int measure_log_save(const struct evlog_writer *log, const char *path);
/*
 * Writes LEN bytes to PATH atomically: PATH.new (created O_EXCL|O_NOFOLLOW
 * with MODE, after removing a stale one), fsync, rename.  On failure PATH
 * is untouched and PATH.new removed.  The one file writer of attest/.
 */
int attest_file_put(const char *path, const void *buf, size_t len, mode_t mode);
/* The same for DIR/NAME (-ENAMETOOLONG if the path does not fit). */
int attest_file_put_at(const char *dir, const char *name, const void *buf,
		       size_t len, mode_t mode);

#endif
