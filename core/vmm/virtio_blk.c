/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.x, 5.2) on a raw image: read, write, flush
 * (fdatasync), get-id, discard (PUNCH_HOLE) and write-zeroes (ZERO_RANGE),
 * the last two offered only where the file system does them.  Every request
 * is checked against the disk's end before any byte moves; data goes between
 * the image and guest RAM with preadv/pwritev, no host buffer in between.
 */
#include "core/vmm/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define SECTOR_SHIFT 9
#define BLK_QUEUE_SIZE 256
#define BLK_SIZE_MAX (128u << 10)               /* one segment */
#define BLK_SEG_MAX (BLK_QUEUE_SIZE - 2)        /* header and status take two */
#define BLK_DISCARD_MAX_SECTORS (1u << 22)      /* 2 GiB per request */
#define BLK_DISCARD_ALIGN 8                     /* sectors: 4 KiB */
/*
 * Data moves in chunks of at most this, and the queue's halt word is looked
 * at before each: a reset or bus-master-off waits for one chunk, never for a
 * whole request (up to VIRTIO_BLK_MAX_REQ_BYTES) or a whole batch.
 */
#define BLK_CHUNK_BYTES (1u << 20)
/* Not a virtio status: the request was stopped by a halt, nothing reported. */
#define BLK_S_HALTED 0xff

/* The request header (virtio 1.x 5.2.6) and a discard/write-zeroes segment. */
struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
static_assert(sizeof(struct blk_req_hdr) == 16, "virtio 1.x 5.2.6");

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
static_assert(sizeof(struct blk_dwz_seg) == 16, "virtio 1.x 5.2.6");

/* Device configuration (virtio 1.x 5.2.4), the fields up to write_zeroes. */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint8_t geometry[4];
	uint32_t blk_size;
	uint8_t topology[8];
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));
static_assert(sizeof(struct blk_config) == 60, "virtio 1.x 5.2.4");

struct virtio_blk {
	int fd;
	bool readonly;
	bool can_discard;
	bool can_zero;
	_Atomic uint64_t features;     /* negotiated, set at DRIVER_OK */
	uint64_t sectors;
	uint32_t io_errors;            /* logged once */
	char serial[VIRTIO_BLK_SERIAL_MAX];
	struct blk_config cfg;         /* little-endian, what the guest reads */
	struct iovec iov[VIRTQ_MAX_SIZE];
	struct virtq_chain chain;
	struct virtio_counters count;  /* reads in, writes out (metrics) */
};

/* Whether MODE works on this file: tried on a page past its end, then undone. */
static bool blk_probe_fallocate(int fd, int mode, off_t size)
{
	off_t at = (size + 4095) & ~(off_t)4095;

	if (fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, at, 4096))
		return false;
	if (mode != FALLOC_FL_PUNCH_HOLE)
		(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, 4096);
	return true;
}

static void blk_fill_config(struct virtio_blk *b)
{
	struct blk_config *c = &b->cfg;

	c->capacity = htole64(b->sectors);
	c->size_max = htole32(BLK_SIZE_MAX);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(1u << SECTOR_SHIFT);
	c->num_queues = htole16(1);
	c->max_discard_sectors = htole32(BLK_DISCARD_MAX_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(BLK_DISCARD_ALIGN);
	c->max_write_zeroes_sectors = htole32(BLK_DISCARD_MAX_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
}

static int blk_check_fd(int fd, bool readonly, struct stat *st)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fstat(fd, st))
		return -errno;
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		log_err("disk fd %d: not a regular file or block device (raw images only)", fd);
		return -EINVAL;
	}
	if (!readonly && (fl & O_ACCMODE) != O_RDWR) {
		log_err("disk fd %d: opened read-only for a writable disk", fd);
		return -EBADF;
	}
	return 0;
}

int virtio_blk_create(int fd, bool readonly, const char *serial, void **dev)
{
	struct virtio_blk *b;
	struct stat st;
	int rc = blk_check_fd(fd, readonly, &st);
	uint64_t size;

	if (rc)
		return rc;
	size = (uint64_t)st.st_size;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* A block device (a LUN hosts share): its size from the kernel, asked
	 * here, before the filters. */
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size)) {
		rc = -errno;
		log_err("disk fd %d: cannot read the block device's size: %s", fd, strerror(-rc));
		free(b);
		return rc;
	}
	b->fd = fd;
	b->readonly = readonly;
	b->sectors = size >> SECTOR_SHIFT;
	if (serial)     /* zero-padded, no NUL when all 20 bytes are used */
		memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial)));
	/* A block device gets neither: a probe past its end proves nothing,
	 * and one inside it would change data. */
	if (!readonly && S_ISREG(st.st_mode)) {
		b->can_discard = blk_probe_fallocate(fd, FALLOC_FL_PUNCH_HOLE, st.st_size);
		b->can_zero = blk_probe_fallocate(fd, FALLOC_FL_ZERO_RANGE, st.st_size);
	}
	blk_fill_config(b);
	*dev = b;
	return 0;
}

/* Move all of IOV[0, n) at byte OFF of the image, across short transfers. */
static int blk_rw(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) :
				    preadv(fd, iov, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;    /* the image shrank under us */
		off += (uint64_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static uint8_t blk_io_status(struct virtio_blk *b, int rc, const char *op)
{
	if (!rc)
		return VIRTIO_BLK_S_OK;
	if (b->io_errors++ == 0)
		log_warn("disk fd %d: %s: %s (reported to the guest as IOERR)", b->fd, op,
			 strerror(-rc));
	return VIRTIO_BLK_S_IOERR;
}

/* IN and OUT: DATA_LEN bytes at SECTOR, between the chain and the image, in
 * chunks; BLK_S_HALTED if Q was halted before the last chunk moved. */
static uint8_t blk_do_rw(struct virtio_blk *b, const struct virtq *q,
			 const struct virtq_chain *c, uint64_t sector, uint64_t data_len,
			 bool write)
{
	const struct iovec *src = write ? c->iov : c->iov + c->n_out;
	uint16_t nsrc = write ? c->n_out : c->n_in;
	uint64_t skip = write ? sizeof(struct blk_req_hdr) : 0;
	int rc = 0;

	if (write && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (data_len & ((1u << SECTOR_SHIFT) - 1) || data_len > VIRTIO_BLK_MAX_REQ_BYTES ||
	    !range_fits(sector, data_len >> SECTOR_SHIFT, b->sectors))
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t done = 0; !rc && done < data_len; done += BLK_CHUNK_BYTES) {
		uint64_t len = data_len - done < BLK_CHUNK_BYTES ? data_len - done :
								    BLK_CHUNK_BYTES;
		int n = virtq_iov_slice(src, nsrc, skip + done, len, b->iov);

		if (virtq_halted(q))
			return BLK_S_HALTED;
		rc = blk_rw(b->fd, b->iov, n, (sector << SECTOR_SHIFT) + done, write);
	}
	if (!rc && write) {
		VIRTIO_COUNT(b->count.out_bytes, data_len);
		VIRTIO_COUNT(b->count.out_reqs, 1);
	} else if (!rc) {
		VIRTIO_COUNT(b->count.in_bytes, data_len);
		VIRTIO_COUNT(b->count.in_reqs, 1);
	}
	return blk_io_status(b, rc, write ? "pwritev" : "preadv");
}

/* DISCARD and WRITE_ZEROES: one segment, checked in full before acting. */
static uint8_t blk_do_dwz(struct virtio_blk *b, const struct virtq_chain *c,
			  uint64_t data_len, bool zero)
{
	uint64_t feat = zero ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;
	uint32_t allowed = zero ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	struct blk_dwz_seg s;
	int mode;

	if (!(atomic_load(&b->features) & (1ULL << feat)))
		return VIRTIO_BLK_S_UNSUPP;
	if (data_len != sizeof(s) ||
	    virtq_chain_read(c, sizeof(struct blk_req_hdr), &s, sizeof(s)))
		return VIRTIO_BLK_S_IOERR;     /* max_discard_seg is 1 */
	s.sector = le64toh(s.sector);
	s.num_sectors = le32toh(s.num_sectors);
	if (le32toh(s.flags) & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (s.num_sectors > BLK_DISCARD_MAX_SECTORS ||
	    !range_fits(s.sector, s.num_sectors, b->sectors))
		return VIRTIO_BLK_S_IOERR;
	if (s.num_sectors == 0)
		return VIRTIO_BLK_S_OK;
	mode = (zero ? FALLOC_FL_ZERO_RANGE : FALLOC_FL_PUNCH_HOLE) | FALLOC_FL_KEEP_SIZE;
	return blk_io_status(b, fallocate(b->fd, mode, (off_t)(s.sector << SECTOR_SHIFT),
					  (off_t)s.num_sectors << SECTOR_SHIFT) ? -errno : 0,
			     "fallocate");
}

static uint8_t blk_do_get_id(struct virtio_blk *b, const struct virtq_chain *c,
			     uint64_t room)
{
	uint64_t n = room < sizeof(b->serial) ? room : sizeof(b->serial);

	if (virtq_chain_write(c, 0, b->serial, n))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_dispatch(struct virtio_blk *b, const struct virtq *q,
			    const struct virtq_chain *c, const struct blk_req_hdr *h,
			    uint32_t *data_written)
{
	uint64_t out_data = c->out_len - sizeof(*h);
	uint64_t in_data = c->in_len - 1;      /* the status byte is the last */

	*data_written = 0;
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
		if (out_data)
			return VIRTIO_BLK_S_IOERR;
		*data_written = (uint32_t)in_data;  /* <= VIRTIO_BLK_MAX_REQ_BYTES if OK */
		return blk_do_rw(b, q, c, h->sector, in_data, false);
	case VIRTIO_BLK_T_OUT:
		if (in_data)
			return VIRTIO_BLK_S_IOERR;
		return blk_do_rw(b, q, c, h->sector, out_data, true);
	case VIRTIO_BLK_T_FLUSH:
		return blk_io_status(b, fdatasync(b->fd) ? -errno : 0, "fdatasync");
	case VIRTIO_BLK_T_GET_ID:
		*data_written = (uint32_t)(in_data < sizeof(b->serial) ? in_data :
					   sizeof(b->serial));
		return blk_do_get_id(b, c, in_data);
	case VIRTIO_BLK_T_DISCARD:
		return b->readonly ? VIRTIO_BLK_S_IOERR : blk_do_dwz(b, c, out_data, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return b->readonly ? VIRTIO_BLK_S_IOERR : blk_do_dwz(b, c, out_data, true);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

int virtio_blk_request(void *dev, struct virtq *q, const struct virtq_chain *c,
		       uint32_t *written)
{
	struct virtio_blk *b = dev;
	struct blk_req_hdr h;
	uint32_t data = 0;
	uint8_t status;

	if (virtq_chain_read(c, 0, &h, sizeof(h)))
		return virtq_fail(q, "blk request without a 16-byte header", c->out_len);
	if (c->in_len == 0)
		return virtq_fail(q, "blk request without a status byte", c->head);
	h.type = le32toh(h.type);
	h.sector = le64toh(h.sector);
	status = blk_dispatch(b, q, c, &h, &data);
	if (status == BLK_S_HALTED)
		return -EINTR;
	if (status != VIRTIO_BLK_S_OK)
		data = 0;
	if (virtq_chain_write(c, c->in_len - 1, &status, 1))
		return virtq_fail(q, "blk status byte not writable", c->head);
	*written = data + 1;
	return 0;
}

static int blk_queue_process(void *dev, uint16_t qi, struct virtq *q,
			     const struct gmem *m)
{
	struct virtio_blk *b = dev;
	int pushed = 0;

	(void)qi;
	for (uint32_t n = 0; n < q->num; n++) {
		uint32_t written;
		int rc = virtq_pop(q, m, &b->chain);

		if (rc <= 0)
			return rc ? rc : pushed;
		rc = virtio_blk_request(b, q, &b->chain, &written);
		if (rc == -EINTR) {
			virtq_unpop(q);         /* redone on resume; dropped by a reset */
			return pushed;
		}
		if (rc)
			return rc;
		virtq_push(q, &b->chain, written);
		pushed = 1;
	}
	return pushed;
}

static uint64_t blk_features(void *dev)
{
	struct virtio_blk *b = dev;
	uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		     (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH);

	if (b->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	if (b->can_discard)
		f |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (b->can_zero)
		f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk *b = dev;

	memcpy(data, (const uint8_t *)&b->cfg + off, len);
}

static void blk_activate(void *dev, uint64_t features)
{
	struct virtio_blk *b = dev;

	atomic_store(&b->features, features);
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	atomic_store(&b->features, 0);
}

/* The device owns the image fd from virtio_blk_create() on. */
static const struct virtio_counters *blk_counters(void *dev)
{
	return &((struct virtio_blk *)dev)->count;
}

static void blk_destroy(void *dev)
{
	struct virtio_blk *b = dev;

	if (!b)
		return;
	close(b->fd);
	free(b);
}

const struct virtio_device_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x0180,            /* mass storage, other */
	.num_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.config_size = sizeof(struct blk_config),
	.features = blk_features,
	.config_read = blk_config_read,
	.activate = blk_activate,
	.queue_process = blk_queue_process,
	.reset = blk_reset,
	.counters = blk_counters,
	.destroy = blk_destroy,
};
