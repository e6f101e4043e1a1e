/* SPDX-License-Identifier: Apache-2.0 */
/* The measured vTPM start, reboot and stop for the launcher (vtpm.h). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tss2/tss2_tpm2_types.h>

#include "attest/format/tpm.h"
#include "attest/vtpm/vtpm.h"
#include "core/log.h"
#include "core/util.h"

#define SWTPM_CMD_SET_BUFFERSIZE 17u

/*
 * TPM2_HierarchyControl(authHandle = TPM_RH_PLATFORM, password session with
 * the empty platform auth, enable = TPM_RH_PLATFORM, state = NO).
 */
static const uint8_t platform_off_cmd[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0x21,  /* header */
	0x40, 0x00, 0x00, 0x0C,                                      /* PLATFORM */
	0x00, 0x00, 0x00, 0x09,                                      /* auth size */
	0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,        /* TPM_RS_PW */
	0x40, 0x00, 0x00, 0x0C,                                      /* enable */
	0x00,                                                        /* NO */
};
static_assert(sizeof(platform_off_cmd) == 0x20, "size field matches");

static void vtpm_reset(struct vtpm *v)
{
	memset(v, 0, sizeof(*v));
	v->swtpm.pidfd = v->swtpm.ctrl_fd = -1;
	v->proxy.guest_fd = v->proxy.tpm_fd = -1;
	v->vmm_fd = -1;
}

static int cfg_valid(const struct vtpm_config *cfg)
{
	if (!cfg->boot || !cfg->log_path || cfg->log_path[0] != '/' ||
	    strlen(cfg->log_path) >= PATH_MAX - 16) {
		log_err("vTPM: a boot description and an absolute log path are required");
		return -EINVAL;
	}
	return 0;
}

/* Stops the TPM, sets its I/O buffer to the CRB's size, powers it on. */
static int vtpm_buffer_size(struct swtpm *tpm)
{
	uint32_t size = htobe32(TPMPROXY_MAX_MSG), init_flags = 0;
	uint32_t out[3];           /* buffersize, minsize, maxsize */
	int rc;

	rc = swtpm_ctrl(tpm, SWTPM_CMD_STOP, NULL, 0, NULL, 0);
	rc = rc ? rc : swtpm_ctrl(tpm, SWTPM_CMD_SET_BUFFERSIZE, &size, sizeof(size),
				  out, sizeof(out));
	if (!rc && be32toh(out[0]) != TPMPROXY_MAX_MSG) {
		log_err("vTPM %s: swtpm set its buffer to %u, not %u", tpm->name,
			be32toh(out[0]), TPMPROXY_MAX_MSG);
		rc = -EPROTO;
	}
	return rc ? rc : swtpm_ctrl(tpm, SWTPM_CMD_INIT, &init_flags, 4, NULL, 0);
}

/* Steps 4 and 5: the measured boot, then the platform hierarchy closed. */
static int vtpm_measure(int fd, const struct measure_boot *boot, struct evlog_writer *log)
{
	uint8_t rsp[TPM_MAX_MSG];
	size_t rlen;
	uint32_t code = 0;
	int rc = measure_boot_run(fd, NULL, boot, log);

	if (rc)
		return rc;
	rc = tpm_transact(fd, platform_off_cmd, sizeof(platform_off_cmd), rsp, sizeof(rsp),
			  &rlen, &code);
	if (!rc && code != TPM2_RC_SUCCESS) {
		log_err("vTPM: disabling the platform hierarchy: TPM code 0x%x", code);
		rc = -EIO;
	}
	if (rc)
		evlog_writer_free(log);
	return rc;
}

/* The proxy's locality control: CMD_SET_LOCALITY on the control channel. */
static int vtpm_set_locality(void *arg, uint8_t locality)
{
	return swtpm_ctrl(arg, SWTPM_CMD_SET_LOCALITY, &locality, 1, NULL, 0);
}

int vtpm_start(const struct vtpm_config *cfg, struct vtpm *v)
{
	int sp[2] = { -1, -1 }, data_fd = -1, rc;

	vtpm_reset(v);
	rc = cfg_valid(cfg);
	if (rc)
		return rc;
	rc = swtpm_start(&cfg->tpm, &v->swtpm);
	if (rc)
		goto err_reset;
	rc = vtpm_buffer_size(&v->swtpm);
	rc = rc ? rc : swtpm_open_data(&v->swtpm, &data_fd);
	if (rc)
		goto err_swtpm;
	rc = vtpm_measure(data_fd, cfg->boot, &v->log);
	if (rc)
		goto err_data;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp)) {
		rc = -errno;
		goto err_log;
	}
	rc = tpmproxy_init(&v->proxy, sp[0], data_fd);
	if (rc)
		goto err_pair;
	v->proxy.set_locality = vtpm_set_locality;
	v->proxy.locality_arg = &v->swtpm;
	snprintf(v->log_path, sizeof(v->log_path), "%s", cfg->log_path);
	rc = measure_log_save(&v->log, v->log_path);
	if (rc)
		goto err_proxy;
	v->vmm_fd = sp[1];
	v->running = 1;
	log_info("vTPM %s: measured boot done (%zu-byte log in %s)", v->swtpm.name,
		 v->log.len, v->log_path);
	return 0;
err_proxy:
	tpmproxy_free(&v->proxy);        /* closes sp[0] and the data channel */
	sp[0] = data_fd = -1;
err_pair:
	if (sp[0] >= 0)
		close(sp[0]);
	close(sp[1]);
err_log:
	evlog_writer_free(&v->log);
err_data:
	if (data_fd >= 0)
		close(data_fd);
err_swtpm:
	swtpm_stop(&v->swtpm);
err_reset:
	log_err("vTPM %s: not started (%s): the guest must not run", cfg->tpm.name
		? cfg->tpm.name : "", strerror(-rc));
	vtpm_reset(v);
	return rc;
}

void vtpm_vmm_fd_close(struct vtpm *v)
{
	if (v->vmm_fd >= 0)
		close(v->vmm_fd);
	v->vmm_fd = -1;
}

struct reboot_ctx {
	struct vtpm *v;
	const struct measure_boot *boot;
	struct evlog_writer log;
};

/* Runs with the swtpm channel held (tpmproxy_host_run). */
static int vtpm_power_cycle(void *arg, int tpm_fd)
{
	struct reboot_ctx *c = arg;
	uint32_t init_flags = 0;
	int rc = swtpm_ctrl(&c->v->swtpm, SWTPM_CMD_INIT, &init_flags, 4, NULL, 0);

	rc = rc ? rc : vtpm_measure(tpm_fd, c->boot, &c->log);
	if (rc)
		return rc;
	/* Without its host record the guest must not run: a failure here fails. */
	rc = measure_log_save(&c->log, c->v->log_path);
	if (rc)
		evlog_writer_free(&c->log);
	return rc;
}

int vtpm_reboot(struct vtpm *v, const struct measure_boot *boot)
{
	struct reboot_ctx c = { .v = v, .boot = boot };
	int rc;

	if (!v->running || !boot)
		return -EINVAL;
	rc = tpmproxy_host_run(&v->proxy, vtpm_power_cycle, &c);
	if (rc)
		return rc;
	evlog_writer_free(&v->log);
	v->log = c.log;
	log_info("vTPM %s: power cycle, measured again (%zu-byte log)", v->swtpm.name,
		 v->log.len);
	return 0;
}

/* Runs with the swtpm channel held, once the guest is gone. */
static int vtpm_orderly_shutdown(void *arg, int tpm_fd)
{
	(void)arg;
	return tpm_shutdown_clear(tpm_fd);
}

int vtpm_stop(struct vtpm *v)
{
	int rc;

	if (!v->running)
		return 0;
	/*
	 * The guest is gone (or is being torn down): shut the TPM down orderly,
	 * as a guest kernel does at power-off, so that a guest killed or stopped
	 * hard does not make its next start's clock "unsafe" (clockInfo.safe =
	 * NO, which verifiers report as clock-not-safe until swtpm next saves
	 * its clock).  Repeating a guest's own TPM2_Shutdown is harmless.  A
	 * failure only costs that flag: the stop goes on.
	 */
	if (tpmproxy_host_run(&v->proxy, vtpm_orderly_shutdown, NULL))
		log_warn("vTPM %s: no orderly TPM2_Shutdown; its next start reports an "
			 "unorderly reset", v->swtpm.name);
	tpmproxy_free(&v->proxy);
	vtpm_vmm_fd_close(v);
	rc = swtpm_stop(&v->swtpm);
	evlog_writer_free(&v->log);
	vtpm_reset(v);
	return rc;
}
