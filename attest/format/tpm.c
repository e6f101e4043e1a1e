/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal TPM 2.0 command client over a stream fd (tpm.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/format/tpm.h"
#include "core/log.h"
#include "core/util.h"

#define HDR_SIZE 10u   /* tag u16, size u32, code u32 */

/* Reads exactly len bytes, each wait bounded by TPM_TIMEOUT_MS. */
static int read_exact(int fd, uint8_t *b, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (len) {
		int r = poll(&pfd, 1, TPM_TIMEOUT_MS);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, b, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int tpm_transact(int fd, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		 size_t *rsp_len, uint32_t *rc)
{
	size_t off = 0;
	uint16_t tag;
	uint32_t size;
	int err;

	if (len < HDR_SIZE || len > TPM_MAX_MSG || cap < HDR_SIZE)
		return -EINVAL;
	err = write_all(fd, cmd, len);
	err = err ? err : read_exact(fd, rsp, HDR_SIZE);
	if (err) {
		log_err("TPM exchange failed: %s", strerror(-err));
		return err;
	}
	if (Tss2_MU_UINT16_Unmarshal(rsp, HDR_SIZE, &off, &tag) ||
	    Tss2_MU_UINT32_Unmarshal(rsp, HDR_SIZE, &off, &size) ||
	    Tss2_MU_UINT32_Unmarshal(rsp, HDR_SIZE, &off, rc))
		return -EPROTO;
	if ((tag != TPM2_ST_NO_SESSIONS && tag != TPM2_ST_SESSIONS) ||
	    size < HDR_SIZE || size > cap) {
		log_err("TPM response rejected: tag 0x%04x size %u (max %zu)", tag, size, cap);
		return -EPROTO;
	}
	err = read_exact(fd, rsp + HDR_SIZE, size - HDR_SIZE);
	if (err)
		return err;
	*rsp_len = size;
	return 0;
}

/* Writes the header with a placeholder size; tpm_cmd_end fixes the size. */
static int tpm_cmd_begin(uint8_t *b, size_t *off, uint16_t tag, uint32_t cc)
{
	*off = 0;
	if (Tss2_MU_UINT16_Marshal(tag, b, TPM_MAX_MSG, off) ||
	    Tss2_MU_UINT32_Marshal(0, b, TPM_MAX_MSG, off) ||
	    Tss2_MU_UINT32_Marshal(cc, b, TPM_MAX_MSG, off))
		return -EOVERFLOW;
	return 0;
}

static void tpm_cmd_end(uint8_t *b, size_t len)
{
	size_t off = 2;

	(void)Tss2_MU_UINT32_Marshal((uint32_t)len, b, TPM_MAX_MSG, &off);
}

/* Runs a marshalled command; any response code but success is -EIO. */
static int tpm_run(int fd, const char *what, uint8_t *cmd, size_t len, uint8_t *rsp,
		   size_t *rsp_len)
{
	uint32_t code = 0;
	int err;

	tpm_cmd_end(cmd, len);
	err = tpm_transact(fd, cmd, len, rsp, TPM_MAX_MSG, rsp_len, &code);
	if (err)
		return err;
	if (code != TPM2_RC_SUCCESS) {
		log_err("%s: TPM response code 0x%03x", what, code);
		return -EIO;
	}
	return 0;
}

/* TPM2_Startup or TPM2_Shutdown: the command code and TPM_SU_CLEAR. */
static int tpm_su_clear(int fd, uint32_t cc, const char *what)
{
	uint8_t cmd[64], rsp[TPM_MAX_MSG];
	size_t off, rlen;

	if (tpm_cmd_begin(cmd, &off, TPM2_ST_NO_SESSIONS, cc) ||
	    Tss2_MU_UINT16_Marshal(TPM2_SU_CLEAR, cmd, sizeof(cmd), &off))
		return -EOVERFLOW;
	return tpm_run(fd, what, cmd, off, rsp, &rlen);
}

int tpm_startup_clear(int fd)
{
	return tpm_su_clear(fd, TPM2_CC_Startup, "TPM2_Startup");
}

int tpm_shutdown_clear(int fd)
{
	return tpm_su_clear(fd, TPM2_CC_Shutdown, "TPM2_Shutdown");
}

/* GetCapability into *data; parameters must fill the response exactly. */
static int tpm_get_cap(int fd, uint32_t cap, uint32_t prop, uint32_t count,
		       TPMS_CAPABILITY_DATA *data)
{
	uint8_t cmd[64], rsp[TPM_MAX_MSG];
	size_t off, rlen;
	uint8_t more;
	int err;

	if (tpm_cmd_begin(cmd, &off, TPM2_ST_NO_SESSIONS, TPM2_CC_GetCapability) ||
	    Tss2_MU_UINT32_Marshal(cap, cmd, sizeof(cmd), &off) ||
	    Tss2_MU_UINT32_Marshal(prop, cmd, sizeof(cmd), &off) ||
	    Tss2_MU_UINT32_Marshal(count, cmd, sizeof(cmd), &off))
		return -EOVERFLOW;
	err = tpm_run(fd, "TPM2_GetCapability", cmd, off, rsp, &rlen);
	if (err)
		return err;
	off = HDR_SIZE;
	memset(data, 0, sizeof(*data));
	if (Tss2_MU_UINT8_Unmarshal(rsp, rlen, &off, &more) ||
	    Tss2_MU_TPMS_CAPABILITY_DATA_Unmarshal(rsp, rlen, &off, data) ||
	    off != rlen || data->capability != cap) {
		log_err("TPM2_GetCapability: malformed response");
		return -EPROTO;
	}
	return 0;
}

int tpm_pcr_banks(int fd, struct evlog_banks *banks)
{
	TPMS_CAPABILITY_DATA data;
	TPML_PCR_SELECTION *sel = &data.data.assignedPCR;
	int err = tpm_get_cap(fd, TPM2_CAP_PCRS, 0, 1, &data);

	if (err)
		return err;
	memset(banks, 0, sizeof(*banks));
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		int any = 0;

		for (uint8_t j = 0; j < s->sizeofSelect && j < 3; j++)
			any |= s->pcrSelect[j];
		if (!any)
			continue;
		if (!evlog_alg_size(s->hash) || banks->count == EVLOG_MAX_BANKS) {
			log_err("TPM has PCR bank 0x%04x allocated that cannot be measured",
				s->hash);
			return -EOPNOTSUPP;
		}
		banks->alg[banks->count] = s->hash;
		banks->size[banks->count] = evlog_alg_size(s->hash);
		banks->count++;
	}
	return banks->count ? 0 : -EOPNOTSUPP;
}

int tpm_handles(int fd, uint32_t first, uint32_t *handles, size_t max, size_t *n)
{
	TPMS_CAPABILITY_DATA data;
	int err = tpm_get_cap(fd, TPM2_CAP_HANDLES, first, (uint32_t)max, &data);

	if (err)
		return err;
	*n = 0;
	for (uint32_t i = 0; i < data.data.handles.count && *n < max; i++)
		handles[(*n)++] = data.data.handles.handle[i];
	return 0;
}

/* Empty password authorization: TPM_RS_PW, no nonce, no attributes, no hmac. */
static int tpm_put_pw_auth(uint8_t *cmd, size_t *off)
{
	TPMS_AUTH_COMMAND auth = { .sessionHandle = TPM2_RS_PW };
	size_t size_at = *off, start;

	if (Tss2_MU_UINT32_Marshal(0, cmd, TPM_MAX_MSG, off))
		return -EOVERFLOW;
	start = *off;
	if (Tss2_MU_TPMS_AUTH_COMMAND_Marshal(&auth, cmd, TPM_MAX_MSG, off))
		return -EOVERFLOW;
	return Tss2_MU_UINT32_Marshal((uint32_t)(*off - start), cmd, TPM_MAX_MSG,
				      &size_at) ? -EOVERFLOW : 0;
}

int tpm_pcr_extend(int fd, uint32_t pcr, const struct evlog_digest *digests, size_t n)
{
	uint8_t cmd[TPM_MAX_MSG], rsp[TPM_MAX_MSG];
	TPML_DIGEST_VALUES vals = { .count = (uint32_t)n };
	size_t off, rlen;

	if (pcr >= EVLOG_NUM_PCRS || n == 0 || n > ARRAY_SIZE(vals.digests) ||
	    n > EVLOG_MAX_BANKS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (digests[i].size != evlog_alg_size(digests[i].alg) ||
		    digests[i].size > sizeof(vals.digests[i].digest))
			return -EINVAL;
		vals.digests[i].hashAlg = digests[i].alg;
		memcpy(&vals.digests[i].digest, digests[i].bytes, digests[i].size);
	}
	if (tpm_cmd_begin(cmd, &off, TPM2_ST_SESSIONS, TPM2_CC_PCR_Extend) ||
	    Tss2_MU_UINT32_Marshal(pcr, cmd, sizeof(cmd), &off) ||
	    tpm_put_pw_auth(cmd, &off) ||
	    Tss2_MU_TPML_DIGEST_VALUES_Marshal(&vals, cmd, sizeof(cmd), &off))
		return -EOVERFLOW;
	return tpm_run(fd, "TPM2_PCR_Extend", cmd, off, rsp, &rlen);
}

static void pcr_select_one(TPML_PCR_SELECTION *sel, uint16_t alg, uint32_t pcr)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = alg;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[pcr / 8] = (uint8_t)(1u << (pcr % 8));
}

int tpm_pcr_read(int fd, uint16_t alg, uint32_t pcr, struct evlog_digest *out)
{
	uint8_t cmd[64], rsp[TPM_MAX_MSG];
	TPML_PCR_SELECTION sel, got;
	TPML_DIGEST dig;
	uint32_t counter;
	size_t off, rlen;
	int err;

	if (pcr >= EVLOG_NUM_PCRS || !evlog_alg_size(alg))
		return -EINVAL;
	pcr_select_one(&sel, alg, pcr);
	if (tpm_cmd_begin(cmd, &off, TPM2_ST_NO_SESSIONS, TPM2_CC_PCR_Read) ||
	    Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, cmd, sizeof(cmd), &off))
		return -EOVERFLOW;
	err = tpm_run(fd, "TPM2_PCR_Read", cmd, off, rsp, &rlen);
	if (err)
		return err;
	off = HDR_SIZE;
	memset(&got, 0, sizeof(got));
	if (Tss2_MU_UINT32_Unmarshal(rsp, rlen, &off, &counter) ||
	    Tss2_MU_TPML_PCR_SELECTION_Unmarshal(rsp, rlen, &off, &got) ||
	    Tss2_MU_TPML_DIGEST_Unmarshal(rsp, rlen, &off, &dig) || off != rlen ||
	    memcmp(&got, &sel, sizeof(sel)) || dig.count != 1 ||
	    dig.digests[0].size != evlog_alg_size(alg)) {
		log_err("TPM2_PCR_Read: response does not match PCR %u bank 0x%04x", pcr, alg);
		return -EPROTO;
	}
	memset(out, 0, sizeof(*out));
	out->alg = alg;
	out->size = dig.digests[0].size;
	memcpy(out->bytes, dig.digests[0].buffer, out->size);
	return 0;
}
