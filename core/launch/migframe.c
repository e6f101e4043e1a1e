/* SPDX-License-Identifier: Apache-2.0 */
/* A migration stream framed in pieces (core/launch/migframe.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/launch/migframe.h"

void migframe_init(struct migframe *f, const struct snap_limits *lim)
{
	memset(f, 0, sizeof(*f));
	f->lim = *lim;
}

/* The record header just completed. */
static int migframe_record(struct migframe *f, char *why, size_t whylen)
{
	struct snap_rec r;
	int rc;

	snap_rec_decode(f->hdr, &r);
	f->hdr_len = 0;
	rc = snap_frame_check(&r, &f->lim, &f->st);
	if (rc < 0) {
		snprintf(why, whylen, "the stream's %s record (index %u, %llu bytes) at byte %llu",
			 snap_rec_name(r.type), r.index, (unsigned long long)r.len,
			 (unsigned long long)f->st.offset);
		return rc;
	}
	f->ended = rc == SNAP_FRAME_END;
	f->left = r.len;
	f->st.offset += sizeof(f->hdr) + r.len;
	return 0;
}

int migframe_feed(struct migframe *f, const uint8_t *p, size_t n, char *why, size_t whylen)
{
	for (size_t off = 0; off < n;) {
		size_t k;

		if (f->magic_len < SNAP_MAGIC_LEN) {
			f->magic[f->magic_len++] = p[off++];
			if (f->magic_len < SNAP_MAGIC_LEN)
				continue;
			if (snap_mig_header_check(f->magic, SNAP_MAGIC_LEN)) {
				snprintf(why, whylen, "the stream's header is not a migration's");
				return -EBADMSG;
			}
			snap_frame_init(&f->st, 1);
			f->st.offset = SNAP_MAGIC_LEN;
			continue;
		}
		if (f->ended) {
			snprintf(why, whylen, "bytes after the stream's END");
			return -EBADMSG;
		}
		if (f->left) {
			k = n - off < f->left ? n - off : (size_t)f->left;
			f->left -= k;
			off += k;
			continue;
		}
		f->hdr[f->hdr_len++] = p[off++];
		if (f->hdr_len == sizeof(f->hdr)) {
			int rc = migframe_record(f, why, whylen);

			if (rc)
				return rc;
		}
	}
	return 0;
}

bool migframe_whole(const struct migframe *f)
{
	return f->ended && !f->left && !f->hdr_len;
}
