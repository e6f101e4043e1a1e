/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal AML (ACPI Machine Language) emitter: just what Bulwark's DSDT
 * needs (scopes, devices, named integers, strings, EISA ids, buffers and
 * packages of integers; one operation region with its field, and methods
 * made of Store, And, If and Notify).  Writes into a caller's buffer; any
 * overflow or misuse sets err, checked once at the end.
 *
 * Operators are written as AML is, in prefix order: aml_store() emits the
 * opcode, then the caller emits its operands, e.g. Store(GSTS, Local0) is
 * aml_store(a); aml_namestring(a, "GSTS"); aml_local(a, 0);
 */
#ifndef BULWARK_AML_H
#define BULWARK_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;                 /* 0 or -errno, sticky */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_integer(struct aml *a, uint64_t v);
/* A name path: "\\_SB_", "PCI0", "_SB_.PCI0"; segments of 1..4 chars. */
void aml_namestring(struct aml *a, const char *path);

/* Open a PkgLength-prefixed body; aml_pkg_end() inserts its length. */
size_t aml_pkg_begin(struct aml *a);
void aml_pkg_end(struct aml *a, size_t start);

size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *name);
#define aml_scope_end aml_pkg_end
#define aml_device_end aml_pkg_end

void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_string(struct aml *a, const char *name, const char *s);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
void aml_name_buffer(struct aml *a, const char *name, const uint8_t *p, size_t n);
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, size_t n);

/* Method(NAME, NARGS (0..7), Serialized or not) { body }. */
size_t aml_method_begin(struct aml *a, const char *name, unsigned int nargs,
			int serialized);
#define aml_method_end aml_pkg_end
/* If (predicate) { body }: emit the predicate, then the body. */
size_t aml_if_begin(struct aml *a);
#define aml_if_end aml_pkg_end

void aml_local(struct aml *a, unsigned int n);   /* Local0..Local7 */
void aml_no_target(struct aml *a);               /* NullName: result dropped */
void aml_store(struct aml *a);    /* Store(source, target) */
void aml_and(struct aml *a);      /* And(x, y, target) */
void aml_notify(struct aml *a);   /* Notify(object, value) */

/* OperationRegion(NAME, SPACE, OFFSET, LEN). */
#define AML_SPACE_SYSTEM_IO 0x01
void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t off,
		  uint64_t len);
/* Field(REGION, FLAGS) { NAME, BITS ... }. */
#define AML_FIELD_BYTE_ACC  0x01   /* ByteAcc, NoLock, Preserve */
size_t aml_field_begin(struct aml *a, const char *region, uint8_t flags);
void aml_field_unit(struct aml *a, const char *name, uint32_t bits);
#define aml_field_end aml_pkg_end

/* Encode a PkgLength for a body of BODY bytes; returns bytes used (1..4) or 0. */
size_t aml_pkglen_encode(size_t body, uint8_t out[4]);

#endif
