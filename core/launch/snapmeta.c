/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The META and DISKS parts of a sealed snapshot (core/launch/snapmeta.h):
 * encoders, the bounded decoders (authenticated bytes, parsed as hostile
 * all the same) and the disks' identity.
 */
#include "core/launch/snapmeta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/launch/file_digest.h"
#include "core/launch/wirebuf.h"
#include "core/log.h"
#include "core/path.h"
#include "core/util.h"

int snapmeta_encode(const struct snapmeta *m, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };
	size_t nl = strnlen(m->name, sizeof(m->name)), ll = strnlen(m->label, sizeof(m->label));

	if (!m->nvcpus || m->nvcpus > SNAPMETA_CPUS_MAX || !nl || nl > CONFIG_NAME_MAX ||
	    ll >= sizeof(m->label) || !m->config_len || m->config_len > SNAPMETA_CONFIG_MAX ||
	    m->log_len > SNAPMETA_LOG_MAX)
		return -EINVAL;
	wbuf_put(&w, SNAPMETA_MAGIC, 8);
	wbuf_u32(&w, m->nvcpus);
	wbuf_u32(&w, m->flags & SNAPMETA_F_VTPM);
	wbuf_u64(&w, m->memory_mib);
	wbuf_u64(&w, (uint64_t)m->time);
	wbuf_str(&w, m->name, nl);
	wbuf_str(&w, m->label, ll);
	wbuf_str(&w, m->config, m->config_len);
	wbuf_str(&w, m->log, m->log_len);
	return wbuf_done(&w, out, len);
}

int snapdisks_encode(const struct snapdisks *d, uint8_t **out, size_t *len)
{
	struct wbuf w = { 0 };

	if (d->n > CONFIG_MAX_DISKS)
		return -EINVAL;
	wbuf_put(&w, SNAPDISKS_MAGIC, 8);
	wbuf_u32(&w, d->n);
	wbuf_u32(&w, 0);
	for (uint32_t i = 0; i < d->n; i++) {
		size_t pl = strnlen(d->d[i].path, sizeof(d->d[i].path));

		if (!pl || pl >= sizeof(d->d[i].path)) {
			free(w.p);
			return -EINVAL;
		}
		wbuf_str(&w, d->d[i].path, pl);
		wbuf_u64(&w, d->d[i].size);
		wbuf_u32(&w, d->d[i].flags & (SNAPDISK_F_DIGEST | SNAPDISK_F_READONLY));
		wbuf_u32(&w, 0);
		wbuf_put(&w, d->d[i].digest, 32);
	}
	return wbuf_done(&w, out, len);
}

int snapmeta_decode(const uint8_t *buf, size_t len, struct snapmeta *m)
{
	struct rbuf r = { .p = buf, .len = len, .what = "snapshot META" };

	if (rbuf_start(&r, SNAPMETA_MAGIC, m, sizeof(*m)))
		return r.err;
	m->nvcpus = rbuf_u32(&r, "vCPU count");
	m->flags = rbuf_u32(&r, "flags");
	m->memory_mib = rbuf_u64(&r, "memory");
	m->time = (int64_t)rbuf_u64(&r, "time");
	if (!r.err && (!m->nvcpus || m->nvcpus > SNAPMETA_CPUS_MAX))
		return rbuf_fail(&r, "vCPU count out of bounds");
	if (!r.err && (m->flags & ~SNAPMETA_F_VTPM))
		return rbuf_fail(&r, "unknown flags");
	rbuf_str(&r, m->name, 1, sizeof(m->name), "guest name");
	rbuf_str(&r, m->label, 0, sizeof(m->label), "label");
	m->config = rbuf_bytes(&r, 1, SNAPMETA_CONFIG_MAX, &m->config_len, "configuration");
	m->log = rbuf_bytes(&r, 0, SNAPMETA_LOG_MAX, &m->log_len, "event log");
	return rbuf_end(&r);
}

int snapdisks_decode(const uint8_t *buf, size_t len, struct snapdisks *d)
{
	struct rbuf r = { .p = buf, .len = len, .what = "snapshot DISKS" };

	if (rbuf_start(&r, SNAPDISKS_MAGIC, d, sizeof(*d)))
		return r.err;
	d->n = rbuf_u32(&r, "disk count");
	if (!r.err && (d->n > CONFIG_MAX_DISKS || rbuf_u32(&r, "reserved")))
		return rbuf_fail(&r, "disk count out of bounds, or reserved bytes set");
	for (uint32_t i = 0; i < d->n && !r.err; i++) {
		struct snapdisk *k = &d->d[i];
		const uint8_t *sha;

		rbuf_str(&r, k->path, 1, sizeof(k->path), "disk path");
		k->size = rbuf_u64(&r, "disk size");
		k->flags = rbuf_u32(&r, "disk flags");
		if (!r.err && ((k->flags & ~(SNAPDISK_F_DIGEST | SNAPDISK_F_READONLY)) ||
			       rbuf_u32(&r, "reserved")))
			return rbuf_fail(&r, "unknown disk flags, or reserved bytes set");
		sha = rbuf_take(&r, 32, "disk digest");
		if (sha)
			memcpy(k->digest, sha, 32);
	}
	return rbuf_end(&r);
}

/* ---- the disks as they are now ------------------------------------------- */

int snapdisk_measure(int fd, bool digest, uint64_t *size, uint8_t sha[32])
{
	int rc = path_disk_size(fd, size);   /* a file's or a block device's */

	if (rc)
		return rc;
	memset(sha, 0, 32);
	return digest ? sha256_fd(fd, sha) : 0;
}

int snapdisk_check(const struct snapdisk *d, int fd, char *why, size_t why_len)
{
	uint8_t sha[32];
	uint64_t size;
	int rc = snapdisk_measure(fd, d->flags & SNAPDISK_F_DIGEST, &size, sha);

	why[0] = '\0';
	if (rc) {
		snprintf(why, why_len, "%s: cannot read it: %s", d->path, strerror(-rc));
		return rc;
	}
	if (size != d->size) {
		snprintf(why, why_len, "%s: size %llu, the snapshot's %llu", d->path,
			 (unsigned long long)size, (unsigned long long)d->size);
		return -ESTALE;
	}
	if ((d->flags & SNAPDISK_F_DIGEST) && memcmp(sha, d->digest, 32)) {
		snprintf(why, why_len, "%s: its SHA-256 is not the snapshot's", d->path);
		return -ESTALE;
	}
	return 0;
}
