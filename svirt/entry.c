/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry entry's text form, one guest per file:
 *
 *   bulwark-svirt 1
 *   name web1
 *   boot 5b3c...            (/proc/sys/kernel/random/boot_id)
 *   mode dynamic            (or static)
 *   cats s0:c12,c873        (the private set)
 *   group db 900            (0..SVIRT_GROUPS_MAX)
 *   proc 4242 1234567       (pid, start time; 0..SVIRT_PROCS_MAX)
 *   file DEV INO KIND ORIG APPLIED PATH   (0..SVIRT_FILES_MAX)
 *   end
 *
 * The parser trusts nothing in it: root writes it, but a registry a crash
 * truncated, or one someone edited, must be refused with a reason, never
 * half-believed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt_int.h"

#define ENTRY_MAGIC "bulwark-svirt 1"

static const char *const obj_names[SVIRT_OBJ_COUNT] = {
	[SVIRT_OBJ_IMAGE] = "image",
	[SVIRT_OBJ_CONTENT] = "content",
	[SVIRT_OBJ_SHARED] = "shared",
	[SVIRT_OBJ_VTPM_STATE] = "vtpm-state",
};

const char *svirt_obj_name(enum svirt_obj kind)
{
	return (unsigned)kind < ARRAY_SIZE(obj_names) ? obj_names[kind] : "?";
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int copy_field(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

/* Splits LINE at single spaces into at most MAX fields; the last one keeps
 * the rest of the line (a path may hold spaces). */
static int split(char *line, char **f, int max)
{
	int n = 0;

	while (n < max - 1) {
		char *sp = strchr(line, ' ');

		if (!sp)
			break;
		*sp = '\0';
		f[n++] = line;
		line = sp + 1;
	}
	f[n++] = line;
	return n;
}

static int parse_file(char **f, int n, struct svirt_entry *e)
{
	struct svirt_file_rec *r;
	uint64_t kind;
	int rc;

	if (n != 7 || e->nfiles >= ARRAY_SIZE(e->files))
		return -EINVAL;
	r = &e->files[e->nfiles];
	for (kind = 0; kind < ARRAY_SIZE(obj_names); kind++)
		if (!strcmp(f[3], obj_names[kind]))
			break;
	if (kind == ARRAY_SIZE(obj_names))
		return -EINVAL;
	r->kind = (enum svirt_obj)kind;
	rc = parse_u64(f[1], UINT64_MAX, &r->dev);
	rc = rc ?: parse_u64(f[2], UINT64_MAX, &r->ino);
	rc = rc ?: copy_field(r->orig, sizeof(r->orig), f[4]);
	rc = rc ?: copy_field(r->applied, sizeof(r->applied), f[5]);
	rc = rc ?: copy_field(r->path, sizeof(r->path), f[6]);
	if (rc || !svirt_label_valid(r->orig) || !svirt_label_valid(r->applied) ||
	    r->path[0] != '/')
		return -EINVAL;
	e->nfiles++;
	return 0;
}

static int parse_group(char **f, int n, struct svirt_entry *e)
{
	struct svirt_group *g;
	uint64_t v;

	if (n != 3 || e->ngroups >= ARRAY_SIZE(e->groups))
		return -EINVAL;
	g = &e->groups[e->ngroups];
	if (copy_field(g->name, sizeof(g->name), f[1]) || !svirt_name_valid(g->name) ||
	    parse_u64(f[2], SVIRT_CAT_LIMIT - 1, &v))
		return -EINVAL;
	g->cat = (uint16_t)v;
	e->ngroups++;
	return 0;
}

static int parse_proc(char **f, int n, struct svirt_entry *e)
{
	struct svirt_proc *p;
	uint64_t pid;

	if (n != 3 || e->nprocs >= ARRAY_SIZE(e->procs))
		return -EINVAL;
	p = &e->procs[e->nprocs];
	if (parse_u64(f[1], INT32_MAX, &pid) || pid == 0 ||
	    parse_u64(f[2], UINT64_MAX, &p->start))
		return -EINVAL;
	p->pid = (int32_t)pid;
	e->nprocs++;
	return 0;
}

/* Mandatory single-valued keys, as bits of *seen. */
static int parse_single(const char *key, const char *val, struct svirt_entry *e,
			unsigned *seen)
{
	static const char *const keys[] = { "name", "boot", "mode", "cats" };
	unsigned k;

	for (k = 0; k < ARRAY_SIZE(keys); k++)
		if (!strcmp(key, keys[k]))
			break;
	if (k == ARRAY_SIZE(keys) || (*seen & (1u << k)))
		return -EINVAL;
	*seen |= 1u << k;
	switch (k) {
	case 0:
		return copy_field(e->name, sizeof(e->name), val) ?:
		       (svirt_name_valid(e->name) ? 0 : -EINVAL);
	case 1:
		return copy_field(e->boot_id, sizeof(e->boot_id), val) ?:
		       (svirt_label_valid(e->boot_id) ? 0 : -EINVAL);
	case 2:
		return svirt_mode_parse(val, &e->mode) ?:
		       (e->mode == SVIRT_MODE_OFF ? -EINVAL : 0);
	default:
		return svirt_cats_parse_level(val, &e->priv) ?:
		       (e->priv.n ? 0 : -EINVAL);
	}
}

static int parse_line(char *line, struct svirt_entry *e, unsigned *seen)
{
	char *f[7];
	int n = split(line, f, (int)ARRAY_SIZE(f));

	if (!strcmp(f[0], "file"))
		return parse_file(f, n, e);
	if (!strcmp(f[0], "group"))
		return parse_group(f, n, e);
	if (!strcmp(f[0], "proc"))
		return parse_proc(f, n, e);
	if (n != 2)
		return -EINVAL;
	return parse_single(f[0], f[1], e, seen);
}

int svirt_entry_parse(const char *buf, size_t len, struct svirt_entry *e)
{
	char *copy, *line, *save = NULL;
	unsigned seen = 0, lineno = 1;
	int rc = -EINVAL;

	memset(e, 0, sizeof(*e));
	if (len > SVIRT_ENTRY_MAX_BYTES || memchr(buf, '\0', len) ||
	    len < sizeof(ENTRY_MAGIC) || buf[len - 1] != '\n')
		return -EINVAL;
	copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	line = strtok_r(copy, "\n", &save);
	if (!line || strcmp(line, ENTRY_MAGIC))
		goto out;
	while ((line = strtok_r(NULL, "\n", &save))) {
		lineno++;
		if (!strcmp(line, "end")) {
			rc = (seen == 15 && !strtok_r(NULL, "\n", &save)) ? 0 : -EINVAL;
			goto out;
		}
		if (parse_line(line, e, &seen))
			goto out;
	}
out:
	if (rc)
		log_debug("registry entry invalid at line %u", lineno);
	free(copy);
	return rc;
}

static void format_body(FILE *f, const struct svirt_entry *e, const char *cats)
{
	fprintf(f, "%s\nname %s\nboot %s\nmode %s\ncats %s\n", ENTRY_MAGIC,
		e->name, e->boot_id, svirt_mode_name(e->mode), cats);
	for (uint16_t i = 0; i < e->ngroups; i++)
		fprintf(f, "group %s %u\n", e->groups[i].name,
			(unsigned)e->groups[i].cat);
	for (uint16_t i = 0; i < e->nprocs; i++)
		fprintf(f, "proc %" PRId32 " %" PRIu64 "\n", e->procs[i].pid,
			e->procs[i].start);
	for (uint16_t i = 0; i < e->nfiles; i++) {
		const struct svirt_file_rec *r = &e->files[i];

		fprintf(f, "file %" PRIu64 " %" PRIu64 " %s %s %s %s\n", r->dev,
			r->ino, svirt_obj_name(r->kind), r->orig, r->applied,
			r->path);
	}
	fprintf(f, "end\n");
}

int svirt_entry_format(const struct svirt_entry *e, char **out, size_t *len)
{
	char cats[SVIRT_LABEL_MAX];
	FILE *f;
	int rc;

	for (uint16_t i = 0; i < e->nfiles; i++)
		if (strchr(e->files[i].path, '\n'))
			return -EINVAL;
	rc = svirt_cats_format(&e->priv, cats, sizeof(cats));
	if (rc)
		return rc;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	format_body(f, e, cats);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
