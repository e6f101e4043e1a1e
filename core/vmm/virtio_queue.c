/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues with strict validation: see virtio_queue.h for the rules. */
#include "core/vmm/virtio_queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/log.h"

void virtq_init(struct virtq *q, uint16_t max_size, const char *name)
{
	memset(q, 0, sizeof(*q));
	if (max_size > VIRTQ_MAX_SIZE || (max_size & (max_size - 1)))
		max_size = VIRTQ_MAX_SIZE;      /* a programming error: stay safe */
	q->max_size = max_size;
	q->size = max_size;     /* the spec's reset value of queue_size */
	q->name = name;
}

void virtq_reset(struct virtq *q)
{
	uint32_t violations = q->violations;
	uint16_t max_size = q->max_size;
	const char *name = q->name;
	const _Atomic uint32_t *halt = q->halt;
	struct gmem_dirty *dirty = q->dirty;

	virtq_init(q, max_size, name);
	q->violations = violations;
	q->halt = halt;
	q->dirty = dirty;
}

int virtq_fail(struct virtq *q, const char *reason, uint64_t value)
{
	if (!q->broken && q->violations++ == 0)
		log_warn("%s: guest broke the queue: %s (0x%llx); device needs reset",
			 q->name, reason, (unsigned long long)value);
	q->broken = true;
	return -EINVAL;
}

static int virtq_check_layout(struct virtq *q)
{
	uint16_t n = q->size;

	if (n == 0 || n > q->max_size || (n & (n - 1)))
		return virtq_fail(q, "queue size not a power of two up to the maximum", n);
	if (q->desc_gpa & 15)
		return virtq_fail(q, "descriptor table not 16-byte aligned", q->desc_gpa);
	if (q->avail_gpa & 1)
		return virtq_fail(q, "avail ring not 2-byte aligned", q->avail_gpa);
	if (q->used_gpa & 3)
		return virtq_fail(q, "used ring not 4-byte aligned", q->used_gpa);
	return 0;
}

int virtq_activate(struct virtq *q, const struct gmem *m)
{
	int rc;

	q->broken = false;
	rc = virtq_check_layout(q);
	if (rc)
		return rc;
	q->desc = gmem_ptr(m, q->desc_gpa, VIRTQ_DESC_BYTES(q->size));
	q->avail = gmem_ptr(m, q->avail_gpa, VIRTQ_AVAIL_BYTES(q->size));
	q->used = gmem_ptr(m, q->used_gpa, VIRTQ_USED_BYTES(q->size));
	if (!q->desc)
		return virtq_fail(q, "descriptor table outside guest RAM", q->desc_gpa);
	if (!q->avail)
		return virtq_fail(q, "avail ring outside guest RAM", q->avail_gpa);
	if (!q->used)
		return virtq_fail(q, "used ring outside guest RAM", q->used_gpa);
	q->dirty = m->dirty;
	q->num = q->size;
	q->last_avail = 0;
	q->used_idx = 0;
	q->active = true;
	return 0;
}

/* Copy descriptor I once; the copy is what gets checked and used. */
static struct virtq_desc virtq_read_desc(const struct virtq *q, uint16_t i)
{
	struct virtq_desc d;

	memcpy(&d, &q->desc[i], sizeof(d));
	d.addr = le64toh(d.addr);
	d.len = le32toh(d.len);
	d.flags = le16toh(d.flags);
	d.next = le16toh(d.next);
	return d;
}

/* Append descriptor D to the chain after checking it. */
static int virtq_add_buf(struct virtq *q, const struct gmem *m,
			 struct virtq_chain *c, const struct virtq_desc *d)
{
	void *p;

	if (d->flags & VIRTQ_DESC_F_INDIRECT)
		return virtq_fail(q, "indirect descriptor (not negotiated)", d->addr);
	if (!(d->flags & VIRTQ_DESC_F_WRITE) && c->n_in)
		return virtq_fail(q, "readable descriptor after a writable one", d->addr);
	if (d->len == 0)
		return 0;       /* carries nothing: never dereferenced */
	p = gmem_ptr(m, d->addr, d->len);
	if (!p)
		return virtq_fail(q, "buffer outside guest RAM", d->addr);
	c->iov[c->n_out + c->n_in] = (struct iovec){ p, d->len };
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		c->n_in++;
		c->in_len += d->len;
	} else {
		c->n_out++;
		c->out_len += d->len;
	}
	return 0;
}

/* Walk the chain at HEAD: at most SIZE descriptors, so loops end here. */
static int virtq_walk(struct virtq *q, const struct gmem *m, uint16_t head,
		      struct virtq_chain *c)
{
	uint16_t i = head;
	struct virtq_desc d;
	int rc;

	memset(c, 0, offsetof(struct virtq_chain, iov));
	c->head = head;
	for (uint32_t n = 0;; n++) {
		if (n == q->num)
			return virtq_fail(q, "descriptor chain longer than the queue (loop?)",
					  head);
		d = virtq_read_desc(q, i);
		rc = virtq_add_buf(q, m, c, &d);
		if (rc)
			return rc;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->num)
			return virtq_fail(q, "next index out of range", d.next);
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct gmem *m, struct virtq_chain *c)
{
	uint16_t avail_idx, pending, head;
	int rc;

	if (q->broken)
		return -EIO;
	if (!q->active || virtq_halted(q))
		return 0;
	avail_idx = le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE));
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->num)
		return virtq_fail(q, "avail index ran ahead by more than the queue size",
				  avail_idx);
	head = le16toh(__atomic_load_n(&q->avail->ring[q->last_avail & (q->num - 1)],
				       __ATOMIC_RELAXED));
	if (head >= q->num)
		return virtq_fail(q, "avail ring head out of range", head);
	rc = virtq_walk(q, m, head, c);
	if (rc)
		return rc;
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	if (q->active && !q->broken)
		q->last_avail--;
}

int virtq_iov_slice(const struct iovec *src, uint16_t n, uint64_t skip, uint64_t len,
		    struct iovec *dst)
{
	int k = 0;

	for (uint16_t i = 0; i < n && len; i++) {
		uint64_t seg = src[i].iov_len, take;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		take = seg - skip < len ? seg - skip : len;
		dst[k++] = (struct iovec){ (uint8_t *)src[i].iov_base + skip, take };
		len -= take;
		skip = 0;
	}
	return k;
}

void virtq_push(struct virtq *q, const struct virtq_chain *c, uint32_t written)
{
	struct virtq_used_elem *e;

	if (!q->active)
		return;
	/* The data first: marked after the device wrote it (gmem_dirty). */
	for (uint16_t i = c->n_out; i < c->n_out + c->n_in; i++)
		gmem_dirty_mark(q->dirty, c->iov[i].iov_base, c->iov[i].iov_len);
	e = &q->used->ring[q->used_idx & (q->num - 1)];
	__atomic_store_n(&e->id, htole32(c->head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
	q->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_store_n(&q->used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
	gmem_dirty_mark(q->dirty, e, sizeof(*e));
	gmem_dirty_mark(q->dirty, &q->used->idx, sizeof(q->used->idx));
}

bool virtq_pending(const struct virtq *q)
{
	if (!q->active || q->broken || virtq_halted(q))
		return false;
	return le16toh(__atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE)) != q->last_avail;
}

bool virtq_want_interrupt(const struct virtq *q)
{
	if (!q->active)
		return false;
	/* Order the used index store before reading the driver's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(le16toh(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED)) &
		 VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copy between a flat buffer and iovecs [first, first + n) at offset OFF. */
static int virtq_iov_copy(const struct iovec *iov, uint16_t n, uint64_t off,
			  void *buf, uint64_t len, bool to_iov)
{
	uint8_t *b = buf;

	for (uint16_t i = 0; i < n && len; i++) {
		uint64_t seg = iov[i].iov_len, k;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < len ? seg - off : len;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, b, k);
		else
			memcpy(b, (uint8_t *)iov[i].iov_base + off, k);
		b += k;
		len -= k;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

int virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	return virtq_iov_copy(c->iov, c->n_out, off, dst, len, false);
}

int virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src,
		      uint64_t len)
{
	return virtq_iov_copy(c->iov + c->n_out, c->n_in, off, (void *)src, len, true);
}
