/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci transport: PCI configuration space, interrupts, the device's
 * I/O thread.  The BAR's registers are in virtio_pci_bar.c.
 */
#include "core/vmm/virtio_pci_priv.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define PCI_VENDOR_VIRTIO   0x1af4
#define PCI_DEVICE_MODERN   0x1040
#define PCI_SUBSYS_MODERN   0x1100
#define PCI_CMD_WRITABLE    0x0406u   /* memory space, bus master, INTx disable */
#define PCI_STATUS_CAPLIST  0x0010u
#define PCI_CAP_ID_MSIX     0x11
#define PCI_CAP_ID_VNDR     0x09

void vp_warn_once(struct virtio_pci *vp, uint32_t bit, const char *msg)
{
	if (atomic_fetch_or(&vp->warned, bit) & bit)
		return;
	log_warn("%s: %s", vp->ops->name, msg);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

/* A virtio vendor capability (virtio 1.x 4.1.4) at AT, chained to NEXT. */
static void vp_cap(uint8_t *c, uint8_t at, uint8_t next, uint8_t len, uint8_t type,
		   uint32_t off, uint32_t size)
{
	c[at] = PCI_CAP_ID_VNDR;
	c[at + 1] = next;
	c[at + 2] = len;
	c[at + 3] = type;
	c[at + 4] = 0;                  /* BAR 0 */
	put32(c + at + 8, off);
	put32(c + at + 12, size);
}

static void vp_build_cfg(struct virtio_pci *vp)
{
	const struct virtio_device_ops *o = vp->ops;
	uint8_t *c = vp->cfg;
	uint8_t last = o->config_size ? VP_CAP_DEVCFG : 0;

	put16(c + 0x00, PCI_VENDOR_VIRTIO);
	put16(c + 0x02, (uint16_t)(PCI_DEVICE_MODERN + o->device_id));
	put16(c + 0x06, PCI_STATUS_CAPLIST);
	c[0x08] = 1;                                    /* revision: modern */
	c[0x0a] = (uint8_t)o->pci_class;                /* subclass */
	c[0x0b] = (uint8_t)(o->pci_class >> 8);         /* class */
	put32(c + 0x10, (uint32_t)vp->bar_addr);        /* 32-bit memory BAR */
	put16(c + 0x2c, PCI_VENDOR_VIRTIO);
	put16(c + 0x2e, PCI_SUBSYS_MODERN);
	c[0x34] = VP_CAP_MSIX;
	c[VP_CAP_MSIX] = PCI_CAP_ID_MSIX;
	c[VP_CAP_MSIX + 1] = VP_CAP_COMMON;
	put16(c + VP_CAP_MSIX + 2, (uint16_t)(vp->nvec - 1));
	put32(c + VP_CAP_MSIX + 4, VP_MSIX_OFF);        /* BIR 0 */
	put32(c + VP_CAP_MSIX + 8, VP_PBA_OFF);
	vp_cap(c, VP_CAP_COMMON, VP_CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG,
	       VP_COMMON_OFF, sizeof(struct vp_common_cfg));
	vp_cap(c, VP_CAP_NOTIFY, VP_CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
	       VP_NOTIFY_OFF, VP_NOTIFY_MULT * o->num_queues);
	put32(c + VP_CAP_NOTIFY + 16, VP_NOTIFY_MULT);
	vp_cap(c, VP_CAP_ISR, last, 16, VIRTIO_PCI_CAP_ISR_CFG, VP_ISR_OFF, 4);
	if (o->config_size)
		vp_cap(c, VP_CAP_DEVCFG, 0, 16, VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVCFG_OFF,
		       o->config_size);
}

static void vp_cfg_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;

	memset(data, 0, len);
	if (!range_fits(off, len, sizeof(vp->cfg)))
		return;                 /* extended space: no capabilities */
	pthread_mutex_lock(&vp->lock);
	memcpy(data, vp->cfg + off, len);
	pthread_mutex_unlock(&vp->lock);
}

/* MSI-X enable / function mask changed: every vector may fire or route now. */
static void vp_msix_ctrl(struct virtio_pci *vp, uint16_t ctrl)
{
	pthread_mutex_lock(&vp->msix_lock);
	vp->msix_ctrl = ctrl & (VP_MSIX_ENABLE | VP_MSIX_MASKALL);
	for (uint16_t v = 0; v < vp->nvec; v++)
		vp_msix_update(vp, v);
	pthread_mutex_unlock(&vp->msix_lock);
}

bool vp_decoding(const struct virtio_pci *vp)
{
	uint32_t bar;
	uint16_t cmd;

	memcpy(&cmd, vp->cfg + 0x04, 2);
	memcpy(&bar, vp->cfg + 0x10, 4);
	return (le16toh(cmd) & VP_CMD_MEMORY) && le32toh(bar) == (uint32_t)vp->bar_addr;
}

void vp_wake(struct virtio_pci *vp)
{
	uint64_t one = 1;

	if (write(vp->wake_fd, &one, sizeof(one)) < 0)
		log_warn("%s: cannot wake the I/O thread", vp->ops->name);
}

/*
 * The BAR starts decoding: notifications KVM counted on the queues' ioeventfds
 * while it did not (memory space off: the write went nowhere) are dropped
 * here, and the I/O thread drops any it reads while decoding is off (it
 * looks under vp->lock, as this does).  vp->lock held.
 */
static void vp_kicks_drain(struct virtio_pci *vp)
{
	uint64_t cnt;

	for (uint16_t i = 0; i < vp->ops->num_queues; i++)
		if (read(vp->vq[i].kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			log_warn("%s: queue %u kick: %s", vp->ops->name, i, strerror(errno));
}

/*
 * Bus mastering turned off: once this returns the I/O thread reads and writes
 * no guest memory and sends no MSI (they pend) until it is on again.  It
 * waits for the chunk in flight (qlock), not for the batch.  vp->lock held.
 */
static void vp_master_off(struct virtio_pci *vp)
{
	atomic_fetch_or(&vp->halt, VP_HALT_NO_BME);
	pthread_mutex_lock(&vp->qlock);
	pthread_mutex_unlock(&vp->qlock);
}

/* Bus mastering back on: pending vectors go out, queued work resumes. */
static void vp_master_on(struct virtio_pci *vp)
{
	atomic_fetch_and(&vp->halt, ~VP_HALT_NO_BME);
	pthread_mutex_lock(&vp->msix_lock);
	for (uint16_t v = 0; v < vp->nvec; v++)
		vp_msix_update(vp, v);
	pthread_mutex_unlock(&vp->msix_lock);
	vp_wake(vp);
}

/* The command register: memory space and bus master take effect. */
static void vp_cmd_write(struct virtio_pci *vp, uint32_t val)
{
	uint16_t cur, cmd;

	memcpy(&cur, vp->cfg + 4, 2);
	cur = le16toh(cur);
	cmd = (uint16_t)((cur & ~PCI_CMD_WRITABLE) | (val & PCI_CMD_WRITABLE));
	put16(vp->cfg + 4, cmd);
	if ((cur & VP_CMD_MASTER) && !(cmd & VP_CMD_MASTER))
		vp_master_off(vp);
	else if (!(cur & VP_CMD_MASTER) && (cmd & VP_CMD_MASTER))
		vp_master_on(vp);
}

/* Apply the dword at DW (already merged with the write); vp->lock held. */
static void vp_cfg_apply(struct virtio_pci *vp, uint32_t dw, uint32_t val)
{
	uint8_t *c = vp->cfg;
	bool decoded = vp_decoding(vp);

	switch (dw) {
	case 0x04:
		vp_cmd_write(vp, val);
		break;
	case 0x10:
		put32(c + 0x10, val & ~(VIRTIO_PCI_BAR_SIZE - 1));
		break;
	case 0x3c:
		c[0x3c] = (uint8_t)val;         /* interrupt line: scratch for the OS */
		break;
	case VP_CAP_MSIX: {
		uint16_t ctrl = (uint16_t)(val >> 16);
		uint16_t keep = (uint16_t)(vp->nvec - 1);

		put16(c + VP_CAP_MSIX + 2,
		      (uint16_t)(keep | (ctrl & (VP_MSIX_ENABLE | VP_MSIX_MASKALL))));
		vp_msix_ctrl(vp, ctrl);
		break;
	}
	default:
		break;                  /* read-only */
	}
	if (!decoded && vp_decoding(vp))
		vp_kicks_drain(vp);
}

static void vp_cfg_write(void *opaque, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	uint32_t dw = off & ~3u, val;
	uint8_t word[4];

	if ((off & 3) + len > 4 || !range_fits(dw, 4, sizeof(vp->cfg)))
		return;
	pthread_mutex_lock(&vp->lock);
	memcpy(word, vp->cfg + dw, 4);
	memcpy(word + (off & 3), data, len);
	memcpy(&val, word, 4);
	vp_cfg_apply(vp, dw, le32toh(val));
	pthread_mutex_unlock(&vp->lock);
}

const struct pci_function_ops virtio_pci_cfg_ops = {
	.cfg_read = vp_cfg_read,
	.cfg_write = vp_cfg_write,
};

void vp_fire(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	uint64_t one = 1;

	atomic_fetch_or(&vp->isr, isr_bit);
	pthread_mutex_lock(&vp->msix_lock);
	if ((vp->msix_ctrl & VP_MSIX_ENABLE) && vector < vp->nvec) {
		/* An MSI is a memory write: it pends while bus mastering is off. */
		if ((vp->msix_ctrl & VP_MSIX_MASKALL) || (vp->table[vector].ctrl & 1) ||
		    !vp->route_ok[vector] || (atomic_load(&vp->halt) & VP_HALT_NO_BME))
			vp->pba |= 1ULL << vector;
		else if (write(vp->irqfd[vector], &one, sizeof(one)) < 0)
			vp->pba |= 1ULL << vector;      /* counter full: cannot be */
	}
	pthread_mutex_unlock(&vp->msix_lock);
}

void vp_msix_update(struct virtio_pci *vp, uint16_t v)
{
	const struct vp_msix_entry *e = &vp->table[v];
	uint64_t one = 1;
	int rc;

	if (!(vp->msix_ctrl & VP_MSIX_ENABLE) || (vp->msix_ctrl & VP_MSIX_MASKALL) ||
	    (e->ctrl & 1))
		return;
	if (!vp->routed[v]) {
		rc = virtio_irq_route_msi(vp->irq, vp->gsi[v],
					  ((uint64_t)e->addr_hi << 32) | e->addr_lo, e->data);
		vp->routed[v] = true;
		vp->route_ok[v] = rc == 0;
		if (rc)
			vp_warn_once(vp, VP_WARN_MSI, "MSI-X entry with an address outside "
				     "the LAPIC window: that vector stays silent");
	}
	if (vp->route_ok[v] && (vp->pba & (1ULL << v)) &&
	    !(atomic_load(&vp->halt) & VP_HALT_NO_BME)) {
		vp->pba &= ~(1ULL << v);
		if (write(vp->irqfd[v], &one, sizeof(one)) < 0)
			vp->pba |= 1ULL << v;
	}
}

void vp_needs_reset(struct virtio_pci *vp)
{
	uint8_t old = atomic_fetch_or(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET);

	if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET) && (old & VIRTIO_CONFIG_S_DRIVER_OK))
		vp_fire(vp, atomic_load(&vp->config_vector), VP_ISR_CONFIG);
}

/* Run queue QI once; called on the I/O thread only. */
static void vp_process(struct virtio_pci *vp, uint16_t qi)
{
	struct vp_queue *vq = &vp->vq[qi];
	uint8_t st = atomic_load(&vp->status);
	bool want = false, again = false;
	int rc = 0;

	if (!(st & VIRTIO_CONFIG_S_DRIVER_OK) || (st & VIRTIO_CONFIG_S_NEEDS_RESET) ||
	    atomic_load(&vp->halt))
		return;         /* halted: resumed by vp_wake(), or reset */
	pthread_mutex_lock(&vp->qlock);
	if (vq->enabled) {
		rc = vp->ops->queue_process(vp->dev, qi, &vq->q, &vp->mem);
		want = rc > 0 && virtq_want_interrupt(&vq->q);
		again = rc > 0 && virtq_pending(&vq->q);
	}
	pthread_mutex_unlock(&vp->qlock);
	if (rc < 0)
		vp_needs_reset(vp);
	if (want)
		vp_fire(vp, atomic_load(&vq->vector), VP_ISR_QUEUE);
	if (again)
		vp_wake(vp);
}

/*
 * The stop fd woke the thread: 1 to end it, or 0 after a pause (parked
 * until resumed; the request before it was done, the next waits).
 */
static int vp_park(struct virtio_pci *vp)
{
	uint64_t cnt;

	if (read(vp->stop_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_warn("%s: stop fd: %s", vp->ops->name, strerror(errno));
	pthread_mutex_lock(&vp->park_lock);
	vp->parked = atomic_load(&vp->pause_req) && !atomic_load(&vp->stop_req);
	pthread_cond_broadcast(&vp->park_cond);
	while (atomic_load(&vp->pause_req) && !atomic_load(&vp->stop_req))
		pthread_cond_wait(&vp->park_cond, &vp->park_lock);
	vp->parked = false;
	pthread_mutex_unlock(&vp->park_lock);
	return atomic_load(&vp->stop_req);
}

/* Build the poll set: stop, one kick per queue, the device's own fd. */
static nfds_t vp_pollset(struct virtio_pci *vp, struct pollfd *p)
{
	const struct virtio_device_ops *o = vp->ops;
	nfds_t n = 0;
	short ev = 0;

	p[n++] = (struct pollfd){ .fd = vp->stop_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = vp->wake_fd, .events = POLLIN };
	for (uint16_t i = 0; i < o->num_queues; i++)
		p[n++] = (struct pollfd){ .fd = vp->vq[i].kick_fd, .events = POLLIN };
	if (o->poll_fd) {
		uint8_t st = atomic_load(&vp->status);
		/* Only a live device polls its fd: a readable tap must not spin us. */
		int fd = (st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_NEEDS_RESET) &&
			 !atomic_load(&vp->halt) ? o->poll_fd(vp->dev, &ev) : -1;

		p[n++] = (struct pollfd){ .fd = ev ? fd : -1, .events = ev };
	}
	return n;
}

/*
 * A guest kick on queue QI (KVM's ioeventfd, or the MMIO exit): taken only
 * while the BAR decodes, checked under vp->lock as vp_kicks_drain() is.
 */
static bool vp_take_kick(struct virtio_pci *vp, uint16_t qi)
{
	uint64_t cnt;
	bool got, on;

	pthread_mutex_lock(&vp->lock);
	got = read(vp->vq[qi].kick_fd, &cnt, sizeof(cnt)) == sizeof(cnt);
	on = vp_decoding(vp);
	pthread_mutex_unlock(&vp->lock);
	return got && on;
}

/* One round of poll results: the VMM's wake runs every queue. */
static void vp_dispatch(struct virtio_pci *vp, const struct pollfd *p, nfds_t n)
{
	const struct virtio_device_ops *o = vp->ops;
	bool all = false;
	uint64_t cnt;

	if (p[1].revents)
		all = read(vp->wake_fd, &cnt, sizeof(cnt)) == sizeof(cnt);
	for (uint16_t i = 0; i < o->num_queues; i++)
		if (all || (p[2 + i].revents && vp_take_kick(vp, i)))
			vp_process(vp, i);
	if (o->poll_fd && p[n - 1].revents)
		vp_process(vp, o->poll_queue);
}

static void *vp_thread(void *arg)
{
	struct virtio_pci *vp = arg;
	const struct virtio_device_ops *o = vp->ops;
	struct pollfd p[3 + VIRTIO_MAX_QUEUES];

	/* Always: no I/O thread runs unconfined, whoever created it. */
	if (vmm_thread_confine(vp->vm, VMM_ROLE_IO)) {
		log_err("%s: cannot confine the I/O thread; stopping", o->name);
		vm_request_stop(vp->vm, VM_FAILED);
		return NULL;
	}
	for (;;) {
		nfds_t n = vp_pollset(vp, p);

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("%s: poll: %s", o->name, strerror(errno));
			return NULL;
		}
		if (p[0].revents && vp_park(vp))
			return NULL;
		vp_dispatch(vp, p, n);
	}
}

static int vp_validate_ops(const struct virtio_device_ops *o)
{
	if (!o->queue_process || !o->features || o->num_queues == 0 ||
	    o->num_queues > VIRTIO_MAX_QUEUES || o->queue_max == 0 ||
	    o->queue_max > VIRTQ_MAX_SIZE || (o->queue_max & (o->queue_max - 1)) ||
	    o->config_size > VP_DEVCFG_MAX || (o->config_size && !o->config_read) ||
	    (o->poll_fd && o->poll_queue >= o->num_queues))
		return -EINVAL;
	return 0;
}

/* Eventfds: a kick per queue (ioeventfd on its notify address), an irqfd
 * per vector, the stop fd. */
static int vp_fds(struct virtio_pci *vp)
{
	int rc = 0;

	vp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vp->stop_fd < 0)
		return -errno;
	vp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vp->wake_fd < 0)
		return -errno;
	for (uint16_t i = 0; !rc && i < vp->ops->num_queues; i++)
		rc = virtio_irq_ioeventfd(vp->irq, vp->bar_addr + VP_NOTIFY_OFF +
					  VP_NOTIFY_MULT * i, &vp->vq[i].kick_fd);
	for (uint16_t v = 0; !rc && v < vp->nvec; v++)
		rc = virtio_irq_alloc_msi(vp->irq, &vp->irqfd[v], &vp->gsi[v]);
	return rc;
}

int virtio_pci_create(struct vm *vm, struct virtio_irq *irq, const struct gmem *mem,
		      const struct virtio_device_ops *ops, void *dev, uint64_t bar_addr,
		      struct virtio_pci **out)
{
	struct virtio_pci *vp;
	int rc;

	if (vp_validate_ops(ops) || !irq || (bar_addr & (VIRTIO_PCI_BAR_SIZE - 1)) ||
	    bar_addr >> 32)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	*vp = (struct virtio_pci){ .ops = ops, .dev = dev, .vm = vm, .irq = irq,
		.mem = *mem, .bar_addr = bar_addr, .stop_fd = -1, .wake_fd = -1,
		.nvec = (uint16_t)(ops->num_queues + 1), .halt = VP_HALT_NO_BME };
	pthread_mutex_init(&vp->lock, NULL);
	pthread_mutex_init(&vp->qlock, NULL);
	pthread_mutex_init(&vp->msix_lock, NULL);
	pthread_mutex_init(&vp->park_lock, NULL);
	pthread_cond_init(&vp->park_cond, NULL);
	vp->offered = ops->features(dev) | (1ULL << VIRTIO_F_VERSION_1);
	for (uint16_t i = 0; i < ops->num_queues; i++) {
		snprintf(vp->vq[i].name, sizeof(vp->vq[i].name), "%s.q%u", ops->name, i);
		virtq_init(&vp->vq[i].q, ops->queue_max, vp->vq[i].name);
		vp->vq[i].q.halt = &vp->halt;  /* bus master is off at reset */
		vp->vq[i].vector = VP_NO_VECTOR;
	}
	for (uint16_t v = 0; v < vp->nvec; v++)
		vp->table[v].ctrl = 1;          /* masked at reset (PCI) */
	vp->config_vector = VP_NO_VECTOR;
	vp_build_cfg(vp);
	rc = vp_fds(vp);
	if (rc) {
		vp->dev = NULL;                 /* the caller keeps DEV on failure */
		virtio_pci_destroy(vp);
		return rc;
	}
	*out = vp;
	return 0;
}

int virtio_pci_start(struct virtio_pci *vp)
{
	int rc = pthread_create(&vp->thread, NULL, vp_thread, vp);

	if (rc) {
		log_err("%s: cannot start the I/O thread: %s", vp->ops->name, strerror(rc));
		return -rc;
	}
	vp->thread_started = true;
	return 0;
}

int virtio_pci_pause(struct virtio_pci *vp)
{
	uint64_t one = 1;

	if (!vp->thread_started)
		return 0;
	atomic_store(&vp->pause_req, true);
	return write(vp->stop_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

bool virtio_pci_parked(struct virtio_pci *vp)
{
	bool parked;

	if (!vp->thread_started)
		return true;
	pthread_mutex_lock(&vp->park_lock);
	parked = vp->parked;
	pthread_mutex_unlock(&vp->park_lock);
	return parked;
}

void virtio_pci_resume(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->park_lock);
	atomic_store(&vp->pause_req, false);
	pthread_cond_broadcast(&vp->park_cond);
	pthread_mutex_unlock(&vp->park_lock);
}

void virtio_pci_counters(const struct virtio_pci *vp, uint16_t *device_id,
			 struct virtio_counters *out)
{
	const struct virtio_counters *c = vp->ops->counters && vp->dev ?
					  vp->ops->counters(vp->dev) : NULL;

	*device_id = vp->ops->device_id;
	*out = (struct virtio_counters){ 0 };
	if (!c)
		return;
	out->in_bytes = __atomic_load_n(&c->in_bytes, __ATOMIC_RELAXED);
	out->in_reqs = __atomic_load_n(&c->in_reqs, __ATOMIC_RELAXED);
	out->out_bytes = __atomic_load_n(&c->out_bytes, __ATOMIC_RELAXED);
	out->out_reqs = __atomic_load_n(&c->out_reqs, __ATOMIC_RELAXED);
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	uint64_t one = 1;

	if (!vp)
		return;
	if (vp->thread_started) {
		pthread_mutex_lock(&vp->park_lock);
		atomic_store(&vp->stop_req, true);
		pthread_cond_broadcast(&vp->park_cond);
		pthread_mutex_unlock(&vp->park_lock);
		if (write(vp->stop_fd, &one, sizeof(one)) < 0)
			log_err("%s: cannot stop the I/O thread", vp->ops->name);
		else
			pthread_join(vp->thread, NULL);
	}
	if (vp->stop_fd >= 0)
		close(vp->stop_fd);
	if (vp->wake_fd >= 0)
		close(vp->wake_fd);
	if (vp->dev && vp->ops->destroy)
		vp->ops->destroy(vp->dev);
	pthread_cond_destroy(&vp->park_cond);
	pthread_mutex_destroy(&vp->park_lock);
	pthread_mutex_destroy(&vp->msix_lock);
	pthread_mutex_destroy(&vp->qlock);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
