/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM's CRB interface at GUEST_TPM_CRB_ADDR (4 KiB), with --vtpm only:
 * core/vmm/crb.c's register state machine on the MMIO bus, its commands sent
 * to the launcher's TPM proxy over VMM_FD_TPM, and the measured boot's event
 * log (VMM_FD_EVLOG) copied to its fixed place in guest memory (LASA of the
 * TPM2 table, core/acpi.c).
 *
 * A command runs synchronously on the vCPU thread that writes CTRL_START
 * (write to the proxy, poll and read its answer, bounded by TPM_TIMEOUT_MS);
 * the lock serialises vCPUs.  The VMM never holds swtpm's control channel:
 * the proxy in the launcher decides what reaches swtpm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/vmm/crb.h"
#include "attest/format/eventlog.h"
#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/snap.h"
#include "core/util.h"
#include "core/vmm_abi.h"

static_assert(GUEST_EVLOG_SIZE == EVLOG_MAX_SIZE, "LAML is the log's maximum");

struct tpm_crb {
	pthread_mutex_t lock;
	int fd;                 /* VMM_FD_TPM: the crb transport's argument */
	struct crb crb;
};

static void tpm_crb_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct tpm_crb *t = opaque;

	pthread_mutex_lock(&t->lock);
	(void)crb_mmio_read(&t->crb, off, data, len);   /* bad access: all ones */
	pthread_mutex_unlock(&t->lock);
}

static void tpm_crb_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct tpm_crb *t = opaque;

	pthread_mutex_lock(&t->lock);
	(void)crb_mmio_write(&t->crb, off, data, len);  /* bad access: dropped */
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_ops tpm_crb_ops = {
	.read = tpm_crb_read,
	.write = tpm_crb_write,
};

/* The launcher's log, validated (1..EVLOG_MAX_SIZE bytes), then copied to
 * LASA; the rest of the region stays zero.  The fd is closed either way. */
static int tpm_crb_load_log(struct vm *vm)
{
	uint8_t *dst = vm_gpa(vm, GUEST_EVLOG_ADDR, GUEST_EVLOG_SIZE);
	struct stat st;
	size_t len = 0;
	int rc = 0;

	if (fstat(VMM_FD_EVLOG, &st) < 0) {
		log_err("vTPM: event log fd %d: %s", VMM_FD_EVLOG, strerror(errno));
		return -EBADF;
	}
	if (!dst || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > GUEST_EVLOG_SIZE) {
		log_err("vTPM: event log of %lld bytes: must be 1 to %llu",
			(long long)st.st_size, GUEST_EVLOG_SIZE);
		rc = -EINVAL;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(VMM_FD_EVLOG, dst + len, (size_t)st.st_size - len,
				  (off_t)len);

		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			log_err("vTPM: event log unreadable: %s", strerror(-rc));
			goto out;
		}
		len += (size_t)n;
	}
	log_debug("vTPM: event log of %zu bytes at 0x%llx", len, GUEST_EVLOG_ADDR);
out:
	close(VMM_FD_EVLOG);
	return rc;
}

/* Without --vtpm: no device, no state, and the guest sees no TPM at all. */
static int tpm_crb_init(struct vm *vm, void **state)
{
	struct tpm_crb *t;
	int rc;

	*state = NULL;
	if (!vm->cfg->vtpm)
		return 0;
	/* VMM_FD_TPM and VMM_FD_EVLOG: checked by vmm_check_fds() at start.
	 * A restored guest has its log in its restored memory already. */
	if (vm->restoring)
		close(VMM_FD_EVLOG);
	rc = vm->restoring ? 0 : tpm_crb_load_log(vm);
	if (rc)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->fd = VMM_FD_TPM;
	crb_init(&t->crb, crb_transport_fd, &t->fd);
	rc = bus_register(&vm->mmio, GUEST_TPM_CRB_ADDR, GUEST_TPM_CRB_SIZE, "tpm-crb",
			  &tpm_crb_ops, t);
	if (rc) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return rc;
	}
	*state = t;
	return 0;
}

static void tpm_crb_fini(void *state)
{
	struct tpm_crb *t = state;

	if (!t)
		return;
	close(t->fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/*
 * Snapshot: the registers and the data buffer (a response the guest has not
 * read yet is in it).  A command is forwarded synchronously on the vCPU
 * that wrote START, under the lock: with every vCPU parked none is in
 * flight, but a save that finds the lock held or START set is refused
 * (-EBUSY), so the vTPM's state and the guest's never disagree.
 */
struct tpm_crb_snap {
	uint32_t loc_state, loc_sts, ctrl_sts, commands;
	uint8_t buf[CRB_DATA_SIZE];
};
static_assert(sizeof(struct tpm_crb_snap) == 16 + CRB_DATA_SIZE, "on-wire");

#define CRB_SNAP_LOC_STATE (CRB_LOC_STATE_ESTABLISHED | CRB_LOC_STATE_ASSIGNED | \
			    CRB_LOC_STATE_VALID)

static int tpm_crb_save(void *state, struct snap_buf *b)
{
	static struct tpm_crb_snap s;
	struct tpm_crb *t = state;

	b->len = 0;
	if (!t)
		return 0;                  /* no vTPM: an empty record */
	if (pthread_mutex_trylock(&t->lock))
		return -EBUSY;
	if (t->crb.start) {
		pthread_mutex_unlock(&t->lock);
		return -EBUSY;
	}
	s = (struct tpm_crb_snap){ .loc_state = t->crb.loc_state, .loc_sts = t->crb.loc_sts,
		.ctrl_sts = t->crb.ctrl_sts, .commands = t->crb.commands };
	memcpy(s.buf, t->crb.buf, sizeof(s.buf));
	pthread_mutex_unlock(&t->lock);
	return snap_buf_put(b, &s, sizeof(s));
}

static int tpm_crb_restore(void *state, const uint8_t *p, size_t len)
{
	static struct tpm_crb_snap s;
	struct tpm_crb *t = state;

	if (len == 0)
		return 0;    /* no vTPM then; whether one is now: snap_device_check */
	if (len != sizeof(s))
		return -EBADMSG;
	memcpy(&s, p, sizeof(s));
	if ((s.loc_state & ~CRB_SNAP_LOC_STATE) || (s.loc_sts & ~CRB_LOC_STS_GRANTED) ||
	    (s.ctrl_sts & ~(CRB_CTRL_STS_ERROR | CRB_CTRL_STS_IDLE)))
		return -EBADMSG;
	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	t->crb.loc_state = s.loc_state;
	t->crb.loc_sts = s.loc_sts;
	t->crb.ctrl_sts = s.ctrl_sts;
	t->crb.commands = s.commands;
	t->crb.start = 0;
	memcpy(t->crb.buf, s.buf, sizeof(t->crb.buf));
	pthread_mutex_unlock(&t->lock);
	return 0;
}

const struct vm_device dev_tpm_crb = {
	.name = "tpm-crb",
	.init = tpm_crb_init,
	.fini = tpm_crb_fini,
	.save = tpm_crb_save,
	.restore = tpm_crb_restore,
};
