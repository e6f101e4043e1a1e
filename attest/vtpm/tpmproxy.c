/* SPDX-License-Identifier: Apache-2.0 */
/* The launcher's TPM proxy between the VMM and swtpm (tpmproxy.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tss2/tss2_tpm2_types.h>

#include "core/layout.h"
#include "attest/format/tpm.h"
#include "attest/vtpm/tpmproxy.h"
#include "core/log.h"
#include "core/util.h"

#define HDR 10u

static_assert(TPMPROXY_MAX_MSG == GUEST_TPM_CRB_DATA_SIZE, "the guest's bound is the CRB buffer");
static_assert(sizeof(((struct tpmproxy *)0)->rsp) == TPM_MAX_MSG,
	      "swtpm's responses are read whole, up to its own limit");

/* Handle types a host transaction may leave loaded (tpmproxy_host_end). */
static const uint32_t host_handle_types[] = {
	(uint32_t)TPM2_HT_TRANSIENT << 24,       /* objects */
	(uint32_t)TPM2_HT_LOADED_SESSION << 24,  /* loaded HMAC/policy sessions */
	(uint32_t)TPM2_HT_SAVED_SESSION << 24,   /* context-saved sessions */
};
static_assert(ARRAY_SIZE(host_handle_types) * TPMPROXY_MAX_HANDLES ==
	      ARRAY_SIZE(((struct tpmproxy *)0)->snap), "snapshot room");

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static int tag_valid(const uint8_t *b)
{
	uint16_t tag = (uint16_t)(b[0] << 8 | b[1]);

	return tag == TPM2_ST_NO_SESSIONS || tag == TPM2_ST_SESSIONS;
}

int tpmproxy_init(struct tpmproxy *p, int guest_fd, int tpm_fd)
{
	pthread_mutexattr_t attr;
	int flags = fcntl(guest_fd, F_GETFL);

	if (guest_fd < 0 || tpm_fd < 0 || guest_fd == tpm_fd)
		return -EBADF;
	if (flags < 0 || fcntl(guest_fd, F_SETFL, flags | O_NONBLOCK))
		return -errno;
	memset(p, 0, sizeof(*p));
	/* ERRORCHECK: a second tpmproxy_host_begin by the owner is -EBUSY. */
	if (pthread_mutexattr_init(&attr) ||
	    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK) ||
	    pthread_mutex_init(&p->lock, &attr))
		return -ENOMEM;
	pthread_mutexattr_destroy(&attr);
	p->guest_fd = guest_fd;
	p->tpm_fd = tpm_fd;
	p->frame_timeout_ms = TPMPROXY_FRAME_TIMEOUT_MS;
	p->need = HDR;
	return 0;
}

void tpmproxy_free(struct tpmproxy *p)
{
	if (p->guest_fd >= 0)
		close(p->guest_fd);
	if (p->tpm_fd >= 0)
		close(p->tpm_fd);
	p->guest_fd = p->tpm_fd = -1;
	pthread_mutex_destroy(&p->lock);
}

int tpmproxy_fd(const struct tpmproxy *p)
{
	return p->guest_fd;
}

short tpmproxy_events(const struct tpmproxy *p)
{
	if (p->guest_fd < 0)
		return 0;
	return p->out_len ? POLLOUT : POLLIN;
}

int tpmproxy_timeout_ms(const struct tpmproxy *p)
{
	uint64_t now;

	if (p->guest_fd < 0 || !p->deadline_ms)
		return -1;
	now = now_ms();
	return now >= p->deadline_ms ? 0 : (int)(p->deadline_ms - now);
}

void tpmproxy_disconnect(struct tpmproxy *p, const char *why)
{
	if (p->guest_fd < 0)
		return;
	log_warn("vTPM proxy: VMM side disconnected: %s (%llu commands forwarded, "
		 "%llu refused)", why, (unsigned long long)p->guest_cmds,
		 (unsigned long long)p->guest_refused);
	close(p->guest_fd);
	p->guest_fd = -1;
	p->have = p->out_len = p->out_off = 0;
	p->need = HDR;
	p->deadline_ms = 0;
}

/* ---- the swtpm channel (p->lock held) ---------------------------------- */

/*
 * One exchange with swtpm; the response (any size swtpm may send, so the
 * channel stays in step) lands in p->rsp.  Anything else is -EIO for good:
 * the channel may be out of step, so no further command may use it.
 */
static int tpm_exchange(struct tpmproxy *p, const uint8_t *cmd, size_t len,
			size_t *rsp_len)
{
	uint32_t code;
	int rc;

	if (p->tpm_failed)
		return -EIO;
	rc = tpm_transact(p->tpm_fd, cmd, len, p->rsp, sizeof(p->rsp), rsp_len, &code);
	if (rc) {
		log_err("vTPM proxy: swtpm exchange failed (%s): vTPM unusable",
			strerror(-rc));
		p->tpm_failed = 1;
		return -EIO;
	}
	return 0;
}

/* ---- guest side --------------------------------------------------------- */

/* A 10-byte response made here, queued for the VMM. */
static void guest_local_rsp(struct tpmproxy *p, uint16_t tag, uint32_t code)
{
	p->rsp[0] = (uint8_t)(tag >> 8);
	p->rsp[1] = (uint8_t)tag;
	put_be32(p->rsp + 2, HDR);
	put_be32(p->rsp + 6, code);
	p->out_len = HDR;
	p->out_off = 0;
	p->guest_refused++;
}

/*
 * Commands that would let the guest lock the host out of its endorsement
 * key or change what later boots measure (tpmproxy.h).  NULL: allowed.
 */
static const char *guest_refusal(const uint8_t *cmd, size_t len)
{
	uint32_t cc = get_be32(cmd + 6);
	uint32_t auth = len >= HDR + 4 ? get_be32(cmd + HDR) : 0;

	switch (cc) {
	case TPM2_CC_ChangeEPS:
	case TPM2_CC_ChangePPS:
	case TPM2_CC_PCR_Allocate:
		return "platform hierarchy command";
	case TPM2_CC_HierarchyControl:
		return auth == TPM2_RH_OWNER ? NULL : "hierarchy control";
	case TPM2_CC_HierarchyChangeAuth:
		return auth == TPM2_RH_ENDORSEMENT || auth == TPM2_RH_PLATFORM ?
		       "endorsement/platform auth change" : NULL;
	default:
		return NULL;
	}
}

/* A whole command is in p->cmd: answer it here or through swtpm. */
static int guest_forward(struct tpmproxy *p)
{
	const char *why = guest_refusal(p->cmd, p->have);
	size_t rlen = 0;
	int rc;

	if (!tag_valid(p->cmd)) {
		guest_local_rsp(p, TPM2_ST_RSP_COMMAND, TPM2_RC_BAD_TAG);
		return 0;
	}
	if (why) {
		log_warn("vTPM proxy: guest command 0x%x refused: %s", get_be32(p->cmd + 6),
			 why);
		guest_local_rsp(p, TPM2_ST_NO_SESSIONS, TPM2_RC_DISABLED);
		return 0;
	}
	if (pthread_mutex_lock(&p->lock))
		return -EIO;
	rc = tpm_exchange(p, p->cmd, p->have, &rlen);
	pthread_mutex_unlock(&p->lock);
	if (rc)
		return rc;
	p->guest_cmds++;
	if (rlen > TPMPROXY_MAX_MSG) {
		/* swtpm ignored the buffer size: the CRB could not hold this. */
		log_err("vTPM proxy: %zu-byte response exceeds the CRB buffer", rlen);
		guest_local_rsp(p, TPM2_ST_NO_SESSIONS, TPM2_RC_FAILURE);
		return 0;
	}
	p->out_len = rlen;
	p->out_off = 0;
	return 0;
}

/* Checks a complete header; sets p->need to the frame's size. */
static int guest_header(struct tpmproxy *p)
{
	uint32_t size = get_be32(p->cmd + 2);

	if (size < HDR || size > TPMPROXY_MAX_MSG) {
		log_err("vTPM proxy: VMM sent a frame of size %u (allowed %u..%u)", size,
			HDR, TPMPROXY_MAX_MSG);
		return -EPROTO;
	}
	p->need = size;
	return 0;
}

/* Reads what is there, never past the current frame: 1 when it is whole. */
static int guest_read(struct tpmproxy *p)
{
	while (p->have < p->need) {
		ssize_t n = read(p->guest_fd, p->cmd + p->have, p->need - p->have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -ECONNRESET;
		if (n == 0) {
			if (p->have)
				log_err("vTPM proxy: VMM closed mid-frame (%zu of %zu bytes)",
					p->have, p->need);
			return -ECONNRESET;
		}
		if (!p->have)
			p->deadline_ms = now_ms() + (uint64_t)p->frame_timeout_ms;
		p->have += (size_t)n;
		if (p->have == HDR && p->need == HDR) {
			int rc = guest_header(p);

			if (rc)
				return rc;
		}
	}
	return 1;
}

/* Writes the queued response; 0 also when the VMM is not reading yet. */
static int guest_write(struct tpmproxy *p)
{
	while (p->out_off < p->out_len) {
		ssize_t n = send(p->guest_fd, p->rsp + p->out_off, p->out_len - p->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -ECONNRESET;
		p->out_off += (size_t)n;
	}
	p->out_len = p->out_off = 0;
	return 0;
}

static const char *service_why(int rc)
{
	switch (rc) {
	case -EPROTO:
		return "malformed frame";
	case -ETIMEDOUT:
		return "incomplete frame timed out";
	case -EIO:
		return "swtpm failed";
	default:
		return "VMM closed its end";
	}
}

int tpmproxy_service(struct tpmproxy *p, short revents)
{
	int rc = 0;

	if (p->guest_fd < 0)
		return p->tpm_failed ? -EIO : -ENOTCONN;
	if (p->out_len) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			rc = guest_write(p);
	} else if (revents & (POLLIN | POLLERR | POLLHUP)) {
		rc = guest_read(p);
		if (rc == 1) {
			p->deadline_ms = 0;
			rc = guest_forward(p);
			p->have = 0;
			p->need = HDR;
			rc = rc ? rc : guest_write(p);
		}
	}
	if (!rc && p->deadline_ms && now_ms() >= p->deadline_ms) {
		log_err("vTPM proxy: VMM left a frame incomplete for %d ms (%zu of %zu "
			"bytes)", p->frame_timeout_ms, p->have, p->need);
		rc = -ETIMEDOUT;
	}
	if (rc)
		tpmproxy_disconnect(p, service_why(rc));
	return rc;
}

/* ---- host transactions -------------------------------------------------- */

static int host_owned(struct tpmproxy *p)
{
	return __atomic_load_n(&p->host_active, __ATOMIC_ACQUIRE) &&
	       pthread_equal(p->host_owner, pthread_self());
}

/* The loaded transient objects and sessions, appended to out[*n..max). */
static int host_handles(struct tpmproxy *p, uint32_t *out, size_t max, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(host_handle_types); i++) {
		size_t got = 0;
		int rc;

		if (max - *n < TPMPROXY_MAX_HANDLES)
			return -ENOSPC;
		rc = tpm_handles(p->tpm_fd, host_handle_types[i], out + *n,
				 TPMPROXY_MAX_HANDLES, &got);
		if (rc) {
			log_err("vTPM proxy: cannot list TPM handles: %s", strerror(-rc));
			p->tpm_failed = 1;
			return -EIO;
		}
		*n += got;
	}
	return 0;
}

int tpmproxy_host_begin(struct tpmproxy *p)
{
	int rc = pthread_mutex_lock(&p->lock);

	if (rc == EDEADLK)
		return -EBUSY;
	if (rc)
		return -rc;
	rc = p->tpm_failed ? -EIO : host_handles(p, p->snap, ARRAY_SIZE(p->snap), &p->nsnap);
	if (rc) {
		pthread_mutex_unlock(&p->lock);
		return rc;
	}
	p->host_owner = pthread_self();
	__atomic_store_n(&p->host_active, 1, __ATOMIC_RELEASE);
	return 0;
}

int tpmproxy_host_exec(struct tpmproxy *p, const uint8_t *cmd, size_t len,
		       uint8_t *rsp, size_t rsp_cap, size_t *rsp_len)
{
	size_t rlen = 0;
	int rc;

	if (!host_owned(p))
		return -EPERM;
	if (len < HDR || len > TPMPROXY_MAX_MSG || get_be32(cmd + 2) != len ||
	    !tag_valid(cmd) || !rsp || rsp_cap < HDR)
		return -EINVAL;
	rc = tpm_exchange(p, cmd, len, &rlen);
	if (rc)
		return rc;
	p->host_cmds++;
	if (rlen > rsp_cap)
		return -ENOSPC;
	memcpy(rsp, p->rsp, rlen);
	*rsp_len = rlen;
	return 0;
}

/* TPM2_FlushContext(handle); 0 or -EIO (also for a TPM error code). */
static int host_flush_one(struct tpmproxy *p, uint32_t handle)
{
	uint8_t cmd[HDR + 4] = { 0x80, 0x01 };
	size_t rlen = 0;
	int rc;

	put_be32(cmd + 2, sizeof(cmd));
	put_be32(cmd + 6, TPM2_CC_FlushContext);
	put_be32(cmd + HDR, handle);
	rc = tpm_exchange(p, cmd, sizeof(cmd), &rlen);
	if (!rc && get_be32(p->rsp + 6) != TPM2_RC_SUCCESS) {
		log_err("vTPM proxy: flushing host handle 0x%08x: TPM code 0x%x", handle,
			get_be32(p->rsp + 6));
		rc = -EIO;
	}
	return rc;
}

int tpmproxy_host_flush(struct tpmproxy *p, const uint32_t *handles, size_t n)
{
	int rc = 0;

	if (!host_owned(p))
		return -EPERM;
	for (size_t i = 0; i < n; i++) {
		int r = host_flush_one(p, handles[i]);

		rc = rc ? rc : r;
	}
	return rc;
}

static int in_list(const uint32_t *list, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == h)
			return 1;
	return 0;
}

/* Flushes every handle loaded since begin, then checks none is left. */
static int host_sweep(struct tpmproxy *p)
{
	uint32_t now[ARRAY_SIZE(p->snap)];
	size_t n = 0, left = 0;
	int rc = host_handles(p, now, ARRAY_SIZE(now), &n);

	for (size_t i = 0; !rc && i < n; i++)
		if (!in_list(p->snap, p->nsnap, now[i])) {
			log_debug("vTPM proxy: flushing host leftover 0x%08x", now[i]);
			(void)host_flush_one(p, now[i]);
		}
	rc = rc ? rc : host_handles(p, now, ARRAY_SIZE(now), &n);
	for (size_t i = 0; !rc && i < n; i++)
		left += !in_list(p->snap, p->nsnap, now[i]);
	return rc ? rc : left ? -EIO : 0;
}

int tpmproxy_host_set_locality(struct tpmproxy *p, uint8_t locality)
{
	int rc;

	if (!host_owned(p))
		return -EPERM;
	if (locality > 3)
		return -EINVAL;
	if (!p->set_locality)
		return -EOPNOTSUPP;
	rc = p->set_locality(p->locality_arg, locality);
	/* On failure the locality is unknown: host_end must reset it. */
	p->host_locality = rc ? 0xFF : locality;
	return rc;
}

int tpmproxy_host_end(struct tpmproxy *p)
{
	int rc;

	if (!host_owned(p))
		return -EPERM;
	rc = host_sweep(p);
	if (p->host_locality && p->set_locality(p->locality_arg, 0)) {
		log_err("vTPM proxy: cannot return to locality 0");
		rc = -EIO;
	}
	p->host_locality = 0;
	if (rc) {
		/*
		 * A host object may still be loaded: no guest command may run
		 * again (the next one makes tpmproxy_service return -EIO).
		 */
		log_err("vTPM proxy: host objects could not be flushed: vTPM closed");
		p->tpm_failed = 1;
	}
	__atomic_store_n(&p->host_active, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int tpmproxy_host_run(struct tpmproxy *p, int (*fn)(void *arg, int tpm_fd), void *arg)
{
	int rc = pthread_mutex_lock(&p->lock);

	if (rc)
		return rc == EDEADLK ? -EBUSY : -rc;
	p->have = p->out_len = p->out_off = 0;
	p->need = HDR;
	p->deadline_ms = 0;
	rc = p->tpm_failed ? -EIO : fn(arg, p->tpm_fd);
	if (rc) {
		log_err("vTPM proxy: host transaction failed (%s): vTPM closed", strerror(-rc));
		p->tpm_failed = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}
