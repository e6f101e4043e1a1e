/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark policy check`: proves Bulwark's isolation properties of a binary
 * policy offline, with libsepol's own access computation (type enforcement,
 * RBAC and the MLS constraints), and names the rule behind every violation.
 */
#ifndef BULWARK_POLICY_CHECK_H
#define BULWARK_POLICY_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include <sepol/policydb/avtab.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/sidtab.h>

#define GUEST_ATTR "bulwark_guest_domain"
#define LAUNCHER_ATTR "bulwark_launcher_domain"
#define GUESTS_MAX 16

/* A policy under check (policy/check.c). */
struct pc {
	sepol_policydb_t *pdb;
	policydb_t *p;
	sidtab_t sidtab;
	FILE *out;
	unsigned checks, violations;
};

/* Runs every property on the binary policy at PATH, writing the report to
 * OUT.  Returns the number of violations, or -errno if it cannot check. */
int policy_check_file(const char *path, FILE *out);

/* Helpers for the properties (policy/check.c). */
uint32_t pc_type(const struct pc *pc, const char *name);
const char *pc_type_name(const struct pc *pc, uint32_t value);
bool pc_type_has(const struct pc *pc, uint32_t type, uint32_t attr_or_type);
bool pc_is_attr(const struct pc *pc, uint32_t value);
/* Is CLASS:PERM allowed from SCTX to TCTX?  -errno when it cannot tell. */
int pc_allowed(struct pc *pc, const char *sctx, const char *tctx,
	       const char *cls, const char *perm, bool *allowed);
/* The permissions of AV (class CLS) from guest type S to type T that no
 * constraint takes away, at any target level or role (policy/check.c). */
uint32_t pc_effective(struct pc *pc, uint32_t s, uint32_t t, uint16_t cls,
		      uint32_t av);
/* The first allow rule granting PERM on CLASS from type S to type T. */
void pc_rule(const struct pc *pc, uint32_t s, uint32_t t, const char *cls,
	     const char *perm, char *buf, size_t len);
/* Calls FN on every rule of an avtab (libsepol does not export avtab_map). */
void pc_avtab_walk(avtab_t *h, int (*fn)(avtab_key_t *, avtab_datum_t *, void *),
		   void *arg);
/* The names of the permissions in AV, space-separated (static buffer). */
const char *pc_perms_str(uint16_t cls, uint32_t av);
void pc_fail(struct pc *pc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Permissions of one class, space-separated. */
struct perms {
	const char *cls, *perms;
};

/* The types that have bulwark_guest_domain (at most GUESTS_MAX) in OUT;
 * returns how many (policy/check_props.c). */
size_t pc_guests(const struct pc *pc, uint32_t *out);
/*
 * Every CLASS:PERM of P from S (type s at level sl, a process) to T (type t
 * at level tl) must be allowed (want) or denied (!want); each wrong answer
 * is a violation, reported under WHAT with the rule that allows it.
 * Returns the number of wrong answers, or -errno.
 */
int pc_expect(struct pc *pc, uint32_t s, const char *sl, uint32_t t,
	      const char *tl, bool t_proc, const struct perms *p, bool want,
	      const char *what);
/* Prints "ok" or "->" before WHAT; returns BAD if negative, else 0. */
int pc_report(struct pc *pc, int bad, const char *what);

/* The properties (policy/check_props.c, policy/check_allow.c,
 * policy/check_guest.c). */
int prop_positive(struct pc *pc);
int prop_cross_pair(struct pc *pc);
int prop_content_readonly(struct pc *pc);
int prop_vtpm_state(struct pc *pc);
int prop_allowlist(struct pc *pc);
/* The access vector of class CLS named by PERMS ("read open ..."); names
 * the class lacks count for nothing. */
uint32_t pc_perm_mask(uint16_t cls, const char *perms);
/* A list entry's target names type T for domain D: "self" (T is D), or a
 * type or attribute of the policy that T is or has. */
bool pc_target_matches(const struct pc *pc, const char *target, uint32_t d, uint32_t t);
/* The reviewed list of inherited rules (policy/check_inherited.c): why
 * PERMS of class CLS on type T, granted to every domain by the host policy,
 * may stay with guest domain D; NULL when they may not. */
const char *pc_inherited_reason(const struct pc *pc, uint32_t d, uint32_t t,
				uint16_t cls, uint32_t perms);
int prop_vtpm_channel(struct pc *pc);
int prop_unix_sockets(struct pc *pc);
int prop_fd_signal(struct pc *pc);
int prop_secrets(struct pc *pc);
int prop_entrypoints(struct pc *pc);

#endif
