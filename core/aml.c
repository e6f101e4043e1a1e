/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal AML emitter (ACPI 6.4, chapter 20). */
#include "core/aml.h"

#include <errno.h>
#include <string.h>

#define AML_ZERO        0x00
#define AML_ONE         0x01
#define AML_NAME        0x08
#define AML_BYTE        0x0a
#define AML_WORD        0x0b
#define AML_DWORD       0x0c
#define AML_STRING      0x0d
#define AML_QWORD       0x0e
#define AML_SCOPE       0x10
#define AML_BUFFER      0x11
#define AML_PACKAGE     0x12
#define AML_DUAL_NAME   0x2e
#define AML_MULTI_NAME  0x2f
#define AML_EXT         0x5b
#define AML_DEVICE      0x82
#define AML_METHOD      0x14
#define AML_LOCAL0      0x60
#define AML_STORE       0x70
#define AML_AND         0x7b
#define AML_NOTIFY      0x86
#define AML_IF          0xa0
#define AML_OPREGION    0x80    /* after AML_EXT */
#define AML_FIELD       0x81    /* after AML_EXT */
#define AML_ROOT        0x5c
#define AML_ONES        0xff

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->len = 0;
	a->cap = cap;
	a->err = 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO);
	else if (v == 1)
		aml_byte(a, AML_ONE);
	else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD);
		aml_le(a, v, 8);
	}
}

static int aml_seg_valid(const char *s, size_t n)
{
	if (n < 1 || n > 4 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return 0;
	return 1;
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *seg[8];
	size_t len[8], nseg = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT);
		p++;
	}
	while (*p && nseg < 8) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!aml_seg_valid(p, n))
			break;
		seg[nseg] = p;
		len[nseg++] = n;
		p += n + (dot ? 1 : 0);
	}
	if (*p || (nseg == 0 && path[0] != '\\')) {
		a->err = -EINVAL;
		return;
	}
	if (nseg == 2)
		aml_byte(a, AML_DUAL_NAME);
	else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	} else if (nseg == 0)
		aml_byte(a, AML_ZERO);    /* NullName: the root itself */
	for (size_t i = 0; i < nseg; i++) {
		aml_bytes(a, seg[i], len[i]);
		aml_bytes(a, "____", 4 - len[i]);     /* pad with '_' */
	}
}

size_t aml_pkglen_encode(size_t body, uint8_t out[4])
{
	static const size_t max[] = { 0x3f, 0xfff, 0xfffff, 0xfffffff };

	for (size_t n = 1; n <= 4; n++) {
		size_t total = body + n;

		if (total > max[n - 1])
			continue;
		if (n == 1) {
			out[0] = (uint8_t)total;
			return 1;
		}
		out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (size_t i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

size_t aml_pkg_begin(struct aml *a)
{
	return a->len;
}

void aml_pkg_end(struct aml *a, size_t start)
{
	uint8_t enc[4];
	size_t n;

	if (a->err)
		return;
	if (start > a->len) {
		a->err = -EINVAL;
		return;
	}
	n = aml_pkglen_encode(a->len - start, enc);
	if (n == 0 || n > a->cap - a->len) {
		a->err = n ? -ENOSPC : -E2BIG;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, a->len - start);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	size_t start;

	aml_byte(a, AML_SCOPE);
	start = aml_pkg_begin(a);
	aml_namestring(a, path);
	return start;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t start;

	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	start = aml_pkg_begin(a);
	aml_namestring(a, name);
	return start;
}

static void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_namestring(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v = 0;

	if (strlen(id) != 7) {
		a->err = -EINVAL;
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			a->err = -EINVAL;
		v = v << 5 | (uint32_t)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		const char *h = memchr(hex, id[i], 16);

		if (!h || !id[i])
			a->err = -EINVAL;
		v = v << 4 | (uint32_t)(h ? h - hex : 0);
	}
	/* Stored big-endian: the compressed letters first. */
	aml_name(a, name);
	aml_byte(a, AML_DWORD);
	aml_byte(a, (uint8_t)(v >> 24));
	aml_byte(a, (uint8_t)(v >> 16));
	aml_byte(a, (uint8_t)(v >> 8));
	aml_byte(a, (uint8_t)v);
}

void aml_name_buffer(struct aml *a, const char *name, const uint8_t *p, size_t n)
{
	size_t start;

	aml_name(a, name);
	aml_byte(a, AML_BUFFER);
	start = aml_pkg_begin(a);
	aml_integer(a, n);
	aml_bytes(a, p, n);
	aml_pkg_end(a, start);
}

void aml_name_package(struct aml *a, const char *name, const uint64_t *v, size_t n)
{
	size_t start;

	if (n > 255) {
		a->err = -E2BIG;
		return;
	}
	aml_name(a, name);
	aml_byte(a, AML_PACKAGE);
	start = aml_pkg_begin(a);
	aml_byte(a, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		aml_integer(a, v[i]);
	aml_pkg_end(a, start);
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned int nargs,
			int serialized)
{
	size_t start;

	if (nargs > 7)
		a->err = -EINVAL;
	aml_byte(a, AML_METHOD);
	start = aml_pkg_begin(a);
	aml_namestring(a, name);
	/* MethodFlags: ArgCount in bits 0-2, SerializeFlag bit 3, SyncLevel 0. */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
	return start;
}

size_t aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF);
	return aml_pkg_begin(a);
}

void aml_local(struct aml *a, unsigned int n)
{
	if (n > 7)
		a->err = -EINVAL;
	aml_byte(a, (uint8_t)(AML_LOCAL0 + (n & 7)));
}

void aml_no_target(struct aml *a)
{
	aml_byte(a, AML_ZERO);     /* NullName */
}

void aml_store(struct aml *a)
{
	aml_byte(a, AML_STORE);
}

void aml_and(struct aml *a)
{
	aml_byte(a, AML_AND);
}

void aml_notify(struct aml *a)
{
	aml_byte(a, AML_NOTIFY);
}

void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t off,
		  uint64_t len)
{
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_OPREGION);
	aml_namestring(a, name);
	aml_byte(a, space);
	aml_integer(a, off);
	aml_integer(a, len);
}

size_t aml_field_begin(struct aml *a, const char *region, uint8_t flags)
{
	size_t start;

	aml_byte(a, AML_EXT);
	aml_byte(a, AML_FIELD);
	start = aml_pkg_begin(a);
	aml_namestring(a, region);
	aml_byte(a, flags);
	return start;
}

/*
 * NamedField := NameSeg PkgLength, where the "PkgLength" is the field's
 * width in bits, not counting its own bytes (ACPI 6.4, 20.2.5.2).
 */
void aml_field_unit(struct aml *a, const char *name, uint32_t bits)
{
	uint8_t enc[4];
	size_t n;

	if (strlen(name) != 4 || !aml_seg_valid(name, 4) || bits == 0) {
		a->err = -EINVAL;
		return;
	}
	aml_bytes(a, name, 4);
	if (bits <= 0x3f) {
		aml_byte(a, (uint8_t)bits);
		return;
	}
	for (n = 2; n <= 4; n++) {
		if (bits >= 1u << (4 + 8 * (n - 1)))
			continue;
		enc[0] = (uint8_t)(((n - 1) << 6) | (bits & 0xf));
		for (size_t i = 1; i < n; i++)
			enc[i] = (uint8_t)(bits >> (4 + 8 * (i - 1)));
		aml_bytes(a, enc, n);
		return;
	}
	a->err = -E2BIG;
}
