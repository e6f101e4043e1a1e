/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt internals shared by its files, its unit tests and its fuzz target:
 * category sets, the registry entry and its on-disk form.
 */
#ifndef BULWARK_SVIRT_INT_H
#define BULWARK_SVIRT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svirt/svirt.h"

#define SVIRT_BOOT_ID_MAX 40
#define SVIRT_ENTRY_MAX_BYTES (256 * 1024) /* larger registry files are refused */
#define SVIRT_ENTRIES_MAX 4096             /* guests on one host */

struct svirt_file_rec {
	uint64_t dev, ino;
	enum svirt_obj kind;
	char orig[SVIRT_LABEL_MAX];    /* the label before Bulwark touched it */
	char applied[SVIRT_LABEL_MAX]; /* the label Bulwark set */
	char path[SVIRT_PATH_MAX];     /* for gc only; checked against dev/ino */
};

struct svirt_group {
	char name[SVIRT_NAME_MAX];
	uint16_t cat;
};

struct svirt_proc {
	int32_t pid;
	uint64_t start; /* /proc/PID/stat field 22, clock ticks since boot */
};

/* One guest's record in the registry, one file per guest: vm.NAME. */
struct svirt_entry {
	char name[SVIRT_NAME_MAX];
	char boot_id[SVIRT_BOOT_ID_MAX];
	enum svirt_mode mode;
	struct svirt_cats priv; /* the private set: the pair, or the static set */
	uint16_t ngroups;
	struct svirt_group groups[SVIRT_GROUPS_MAX];
	uint16_t nprocs;
	struct svirt_proc procs[SVIRT_PROCS_MAX];
	uint16_t nfiles;
	struct svirt_file_rec files[SVIRT_FILES_MAX];
};

/* Category sets (svirt/mcs.c). */
bool svirt_cats_has(const struct svirt_cats *s, uint16_t c);
int svirt_cats_add(struct svirt_cats *s, uint16_t c);
bool svirt_cats_subset(const struct svirt_cats *a, const struct svirt_cats *b);
/* "s0", "s0:c1,c2", "s0:c1.c3,c9" (one level, sensitivity s0 only). */
int svirt_cats_parse_level(const char *level, struct svirt_cats *out);
int svirt_cats_format(const struct svirt_cats *s, char *buf, size_t len);
/* user:role:type:LEVEL */
int svirt_label_compose(const char *user, const char *role, const char *type,
			const struct svirt_cats *s, char *buf, size_t len);
/* The type and the level of a context (copies into type/level). */
int svirt_label_split(const char *ctx, char *type, size_t tlen,
		      const char **level);
bool svirt_name_valid(const char *name);
bool svirt_label_valid(const char *label);
/* Draws a uniform integer in [lo, hi] from getrandom(). */
int svirt_random_range(uint16_t lo, uint16_t hi, uint16_t *out);

/* The registry entry's text form (svirt/entry.c). */
int svirt_entry_parse(const char *buf, size_t len, struct svirt_entry *e);
/* Returns a malloc'd NUL-terminated buffer in *out. */
int svirt_entry_format(const struct svirt_entry *e, char **out, size_t *len);
const char *svirt_obj_name(enum svirt_obj kind);

/* The registry directory (svirt/registry.c). */
struct svirt_reg {
	int dirfd;
	int lockfd;
};
int svirt_reg_open(const char *dir, struct svirt_reg *r);
void svirt_reg_close(struct svirt_reg *r);
int svirt_reg_load(struct svirt_reg *r, struct svirt_entry **list, size_t *n);
int svirt_reg_store(struct svirt_reg *r, const struct svirt_entry *e);
int svirt_reg_remove(struct svirt_reg *r, const char *name);

/* Liveness (svirt/registry.c). */
int svirt_boot_id(char *buf, size_t len);
int svirt_proc_start(int32_t pid, uint64_t *start);
/* Parses the text of /proc/PID/stat for field 22. */
int svirt_stat_parse_start(const char *buf, size_t len, uint64_t *start);
bool svirt_entry_alive(const struct svirt_entry *e, const char *boot_id);

/* Allocation (svirt/alloc.c): picks a category set for a new entry. */
int svirt_alloc_pair(const struct svirt_config *cfg,
		     const struct svirt_entry *live, size_t nlive,
		     struct svirt_cats *out);
int svirt_alloc_check(const struct svirt_cats *cand,
		      const struct svirt_entry *live, size_t nlive);
int svirt_alloc_group(const struct svirt_config *cfg, const char *group,
		      const struct svirt_cats *mine,
		      const struct svirt_entry *live, size_t nlive, uint16_t *cat);

/* Labels (svirt/label.c). */
/* The label of FD into BUF (-EINVAL if it is too long or malformed). */
int svirt_label_get(int fd, char *buf, size_t len);
/* Sets LABEL on FD and reads it back (the kernel may map an invalid
 * context): -EPERM unless it reads back exactly.  WHAT names it in logs. */
int svirt_label_set(int fd, const char *label, const char *what);
/* Restores REC's original label through FD if it still has the applied
 * one; for a vTPM state directory, also the files the vTPM made there. */
int svirt_restore_rec(int fd, const struct svirt_file_rec *rec);
int svirt_restore_path(const struct svirt_file_rec *rec);
/* Restores a dead entry's files (those no LIVE entry also holds) and
 * removes it; the registry lock is held. */
int svirt_reclaim(struct svirt_reg *r, const struct svirt_entry *e,
		  const struct svirt_entry *live, size_t nlive);
/* Does any LIVE entry other than SELF hold a record of dev/ino? */
const struct svirt_file_rec *svirt_find_file(const struct svirt_entry *live,
					     size_t nlive, const char *self,
					     uint64_t dev, uint64_t ino,
					     const char **owner);

/* The launcher's handle on one guest (svirt/vm.c, svirt/reserve.c). */
struct svirt_vm {
	struct svirt_config cfg;
	struct svirt_entry *e;
	struct svirt_cats full;          /* private set plus group categories */
	char level[SVIRT_LABEL_MAX];     /* full, as "s0:c1,c2" */
	int fds[SVIRT_FILES_MAX];        /* ours, one per e->files[i] */
};

struct svirt_vm *svirt_vm_alloc(const struct svirt_config *cfg);
/* Picks the categories and stores the entry, under the registry lock. */
int svirt_vm_reserve(struct svirt_vm *vm, const char *const *groups,
		     size_t ngroups);
/* Under the lock: loads every entry, repairs the dead, returns the live. */
int svirt_reg_live(struct svirt_reg *r, const struct svirt_config *cfg,
		   const char *boot_id,
		   struct svirt_entry **live, size_t *nlive, int *repaired);

#endif
