/* SPDX-License-Identifier: Apache-2.0 */
/* The restore and migration events on a running vTPM, through the proxy's
 * host channel (measure.h, vtpm.h). */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "attest/format/tpm.h"
#include "attest/vtpm/measure.h"
#include "attest/vtpm/vtpm.h"
#include "core/log.h"

struct restore_arg {
	struct vtpm *v;
	const uint8_t *digest;               /* a restore's, or NULL */
	const struct measure_migration *mg;  /* a migration's, or NULL */
	const struct measure_secstate *now;
	int64_t when;
};

/* The PCRs the launcher's log covers (measure.h's MEASURE_PCR_*): the
 * boot's and the restores'.  The guest's own (IMA's PCR 10, anything it
 * extends with tpm2_pcrextend) are in no host log, and are its business. */
static const uint32_t launcher_pcrs[] = {
	MEASURE_PCR_VMM, MEASURE_PCR_CONFIG, MEASURE_PCR_KERNEL, MEASURE_PCR_SECURITY,
	MEASURE_PCR_CMDLINE, MEASURE_PCR_INITRD,
};
static_assert(MEASURE_PCR_ACPI == MEASURE_PCR_CONFIG, "ACPI shares the config's PCR");

/* Every launcher PCR of every bank is the log's replay: the blobs and the
 * log came from the same guest at the same moment, or the restore goes no
 * further. */
static int pcrs_are_log(int tpm_fd, const struct evlog_writer *log)
{
	static struct evlog_pcrs want;
	struct evlog_error err;
	struct evlog_digest d;
	int rc = evlog_replay(log->buf, log->len, &want, &err);

	for (uint32_t b = 0; !rc && b < want.banks.count; b++)
		for (size_t i = 0; !rc && i < sizeof(launcher_pcrs) / sizeof(launcher_pcrs[0]);
		     i++) {
			uint32_t pcr = launcher_pcrs[i];

			rc = tpm_pcr_read(tpm_fd, want.banks.alg[b], pcr, &d);
			if (!rc && memcmp(d.bytes, want.value[b][pcr], want.banks.size[b])) {
				log_err("restore: the vTPM's PCR %u (bank 0x%x) is not the "
					"snapshot log's replay", pcr, want.banks.alg[b]);
				rc = -EPROTO;
			}
		}
	return rc;
}

/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM2_PT_STARTUP_CLEAR, 1):
 * phEnable (bit 0) must be off, as the boot left it (vtpm.h step 5); a
 * restored TPM with the platform hierarchy open would hand it to the guest. */
static int platform_closed(int tpm_fd)
{
	static const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 22, 0, 0, 0x01, 0x7a,
				       0, 0, 0, 6, 0, 0, 0x02, 0x01, 0, 0, 0, 1 };
	uint8_t rsp[64];
	size_t n = 0;
	uint32_t trc = 0;
	int rc = tpm_transact(tpm_fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &n, &trc);

	/* moreData, capability 6, count 1, property 0x201, value */
	if (!rc && (trc || n != 27 || rsp[14] != 6 || rsp[18] != 1 || rsp[21] != 0x02 ||
		    rsp[22] != 0x01))
		rc = -EPROTO;
	if (!rc && (rsp[26] & 1)) {
		log_err("restore: the vTPM's platform hierarchy is enabled");
		rc = -EPERM;
	}
	return rc;
}

/* On the swtpm channel, nothing else running: the TPM's banks must be the
 * log's and its PCRs the log's replay (the restored state is the
 * snapshot's), the platform hierarchy closed, then the event. */
static int restore_on_tpm(void *arg, int tpm_fd)
{
	struct restore_arg *a = arg;
	struct evlog_banks banks;
	int rc = tpm_pcr_banks(tpm_fd, &banks);

	if (!rc && (banks.count != a->v->log.banks.count ||
		    memcmp(banks.alg, a->v->log.banks.alg, banks.count * sizeof(banks.alg[0])))) {
		log_err("restore: the vTPM's PCR banks are not the event log's");
		rc = -EPROTO;
	}
	rc = rc ? rc : pcrs_are_log(tpm_fd, &a->v->log);
	rc = rc ? rc : platform_closed(tpm_fd);
	if (rc)
		return rc;
	return a->mg ? measure_migrate_run(tpm_fd, &a->v->log, a->mg, a->when, a->now) :
		       measure_restore_run(tpm_fd, &a->v->log, a->digest, a->when, a->now);
}

static int event_measure(struct restore_arg *a, const char *what)
{
	int rc = tpmproxy_host_run(&a->v->proxy, restore_on_tpm, a);

	rc = rc ? rc : measure_log_save(&a->v->log, a->v->log_path);
	if (rc)
		log_err("%s event not measured: %s; the guest must not run", what, strerror(-rc));
	return rc;
}

int measure_restore(struct vtpm *v, const uint8_t snap_digest[32],
		    const struct measure_secstate *now)
{
	struct restore_arg a = { .v = v, .digest = snap_digest, .now = now,
				 .when = (int64_t)time(NULL) };

	if (!v || !v->running || !v->log.buf || !snap_digest || !now)
		return -EINVAL;
	return event_measure(&a, "restore");
}

int measure_migrate(struct vtpm *v, const struct measure_migration *mg,
		    const struct measure_secstate *now)
{
	struct restore_arg a = { .v = v, .mg = mg, .now = now, .when = (int64_t)time(NULL) };

	if (!v || !v->running || !v->log.buf || !mg || !now)
		return -EINVAL;
	return event_measure(&a, "migration");
}
