/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The isolation properties, each computed with libsepol's access decision
 * (type enforcement, roles and MLS constraints together), so a property
 * holds for the policy as the kernel would enforce it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "policy/check.h"

/* Levels for the cross-pair cases: a subject at the first, objects and
 * peer processes at the second.  Its categories never dominate the target's. */
static const struct {
	const char *name, *subj, *obj;
} cases[] = {
	{ "disjoint", "s0:c1,c2", "s0:c3,c4" },
	{ "overlapping", "s0:c1,c2", "s0:c2,c3" },
	{ "subset", "s0:c1", "s0:c1,c2" },
	{ "single-category", "s0:c1", "s0:c2" },
};

static const struct perms file_perms[] = {
	{ "file", "read write append open getattr setattr execute map ioctl lock "
		  "relabelfrom relabelto unlink rename link" },
	{ "dir", "read write search open getattr add_name remove_name "
		 "relabelfrom relabelto rmdir" },
	{ "sock_file", "read write open getattr relabelfrom relabelto" },
	{ "lnk_file", "read getattr relabelfrom relabelto" },
	{ "fifo_file", "read write open getattr" },
};

static const struct perms proc_perms[] = {
	{ "process", "signal sigkill sigstop signull sigchld ptrace getattr "
		     "getsched setsched getpgid getsession setpgid share transition "
		     "dyntransition" },
	{ "unix_stream_socket", "connectto read write getattr" },
	{ "unix_dgram_socket", "sendto read write" },
};

/* Objects that belong to one guest. */
static const char *const guest_objects[] = {
	"bulwark_image_t", "bulwark_content_t", "bulwark_vtpm_state_t",
};

size_t pc_guests(const struct pc *pc, uint32_t *out)
{
	uint32_t attr = pc_type(pc, GUEST_ATTR);
	size_t n = 0;

	if (!attr || !pc_is_attr(pc, attr))
		return 0;
	for (uint32_t t = 1; t <= pc->p->p_types.nprim && n < GUESTS_MAX; t++)
		if (!pc_is_attr(pc, t) && pc_type_has(pc, t, attr))
			out[n++] = t;
	return n;
}

int pc_expect(struct pc *pc, uint32_t s, const char *sl, uint32_t t,
		  const char *tl, bool t_proc, const struct perms *p, bool want,
		  const char *what)
{
	char sctx[256], tctx[256], perms[512], rule[512], *save = NULL;
	int bad = 0, rc;
	uint32_t files = pc_type(pc, "bulwark_file_type");

	/* A file type is the subject of filesystem associate. */
	snprintf(sctx, sizeof(sctx), "system_u:%s:%s:%s",
		 files && pc_type_has(pc, s, files) ? "object_r" : "system_r",
		 pc_type_name(pc, s), sl);
	snprintf(tctx, sizeof(tctx), "system_u:%s:%s:%s", t_proc ? "system_r" : "object_r",
		 pc_type_name(pc, t), tl);
	snprintf(perms, sizeof(perms), "%s", p->perms);
	for (char *perm = strtok_r(perms, " ", &save); perm;
	     perm = strtok_r(NULL, " ", &save)) {
		bool allowed;

		rc = pc_allowed(pc, sctx, tctx, p->cls, perm, &allowed);
		if (rc)
			return rc;
		if (allowed == want)
			continue;
		bad++;
		if (want) {
			pc_fail(pc, "%s: %s -> %s %s:%s is denied", what, sctx, tctx,
				p->cls, perm);
			continue;
		}
		pc_rule(pc, s, t, p->cls, perm, rule, sizeof(rule));
		pc_fail(pc, "%s: %s -> %s %s:%s is ALLOWED by \"%s\" and no "
			"constraint denies it", what, sctx, tctx, p->cls, perm, rule);
	}
	return bad;
}

int pc_report(struct pc *pc, int bad, const char *what)
{
	if (bad < 0)
		return bad;
	fprintf(pc->out, "%s %s\n", bad ? "  ->" : "  ok  ", what);
	return 0;
}

/* A single own-pair check for the positive controls. */
struct control {
	const char *subj, *target;
	bool t_proc;
	struct perms p;
	const char *what;
};

static const struct control controls[] = {
	{ "bulwark_vmm_t", "bulwark_image_t", false,
	  { "file", "read write open getattr" }, "VMM uses its own image" },
	{ "bulwark_vmm_t", "bulwark_image_t", false,
	  { "blk_file", "read write getattr" }, "VMM uses its own block-device disk" },
	{ "bulwark_vmm_t", "bulwark_content_t", false,
	  { "file", "read open getattr" }, "VMM reads its own kernel" },
	{ "bulwark_vmm_t", "bulwark_vmm_exec_t", false,
	  { "file", "entrypoint execute read open" }, "VMM runs from its program" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_exec_t", false,
	  { "file", "entrypoint execute read open" }, "vTPM runs from swtpm" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_state_t", false,
	  { "file", "read write open create" }, "vTPM keeps its state" },
	{ "bulwark_vtpm_t", "bulwark_vtpm_state_t", false,
	  { "dir", "search add_name write" }, "vTPM keeps its state" },
};

/*
 * What a guest gets from its launcher, at the launcher's whole range: the
 * descriptors it hands over (console pipes, socketpairs) and the exit
 * signal.  A host's own MCS constraints may deny these (refpolicy's do for
 * its mcs_constrained_type, which Bulwark's domains are therefore not in).
 */
static int positive_launcher_objects(struct pc *pc, uint32_t launcher, uint32_t vmm,
				     uint32_t vtpm)
{
	static const struct perms p[] = {
		{ "fd", "use" },
		{ "fifo_file", "read write getattr" },
		{ "unix_stream_socket", "read write getattr" },
		{ "process", "sigchld" },
	};
	const uint32_t guests[] = { vmm, vtpm };
	int rc, bad = 0;

	for (size_t g = 0; g < ARRAY_SIZE(guests); g++)
		for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
			rc = pc_expect(pc, guests[g], "s0:c1,c2", launcher, "s0-s0:c0.c1023",
				       true, &p[i], true, "guest uses what its launcher hands over");
			if (rc < 0)
				return rc;
			bad += rc;
		}
	return bad;
}

/*
 * A disk that is a block device (a LUN hosts share for live migration):
 * the launcher gives its node, on devtmpfs (device_t), the guest's image
 * label.  Refpolicy allows only device types on devtmpfs; without the
 * associate rule the relabel fails with EACCES at start.
 */
static int positive_blockdev(struct pc *pc, uint32_t launcher)
{
	static const struct perms assoc = { "filesystem", "associate" };
	static const struct perms relabel = { "blk_file", "relabelto relabelfrom" };
	uint32_t image = pc_type(pc, "bulwark_image_t"), dev = pc_type(pc, "device_t");
	int rc, bad;

	if (!image || !dev) {
		pc_fail(pc, "type bulwark_image_t or device_t is missing");
		return 1;
	}
	rc = pc_expect(pc, image, "s0:c1,c2", dev, "s0", false, &assoc, true,
		       "a block-device disk's node takes the image label");
	if (rc < 0)
		return rc;
	bad = rc;
	rc = pc_expect(pc, launcher, "s0-s0:c0.c1023", image, "s0:c1,c2", false,
		       &relabel, true, "launcher labels a block-device disk");
	return rc < 0 ? rc : bad + rc;
}

int prop_positive(struct pc *pc)
{
	static const struct perms trans = { "process", "transition" };
	uint32_t launcher = 0, la = pc_type(pc, LAUNCHER_ATTR), vmm, vtpm;
	int rc, bad = 0;

	fprintf(pc->out, "\n[1] positive controls: a guest can run at all "
		"(else every denial below proves nothing)\n");
	for (size_t i = 0; i < ARRAY_SIZE(controls); i++) {
		uint32_t s = pc_type(pc, controls[i].subj), t = pc_type(pc, controls[i].target);

		if (!s || !t) {
			pc_fail(pc, "type %s or %s is missing", controls[i].subj,
				controls[i].target);
			bad++;
			continue;
		}
		rc = pc_expect(pc, s, "s0:c1,c2", t, "s0:c1,c2", controls[i].t_proc,
			    &controls[i].p, true, controls[i].what);
		if (rc < 0)
			return rc;
		bad += rc;
	}
	for (uint32_t t = 1; la && t <= pc->p->p_types.nprim && !launcher; t++)
		if (!pc_is_attr(pc, t) && pc_type_has(pc, t, la))
			launcher = t;
	vmm = pc_type(pc, "bulwark_vmm_t");
	vtpm = pc_type(pc, "bulwark_vtpm_t");
	if (!launcher || !vmm || !vtpm) {
		pc_fail(pc, "no type has attribute %s, or a guest domain is missing",
			LAUNCHER_ATTR);
		return pc_report(pc, 1, "positive controls");
	}
	rc = pc_expect(pc, launcher, "s0-s0:c0.c1023", vmm, "s0:c1,c2", true, &trans,
		       true, "launcher starts a VMM");
	if (rc >= 0) {
		bad += rc;
		rc = pc_expect(pc, launcher, "s0-s0:c0.c1023", vtpm, "s0:c1,c2", true,
			       &trans, true, "launcher starts a vTPM");
	}
	if (rc >= 0) {
		bad += rc;
		rc = positive_launcher_objects(pc, launcher, vmm, vtpm);
	}
	if (rc >= 0) {
		bad += rc;
		rc = positive_blockdev(pc, launcher);
	}
	return pc_report(pc, rc < 0 ? rc : bad + rc, "positive controls");
}

static int cross_one(struct pc *pc, uint32_t d, size_t c, const uint32_t *g,
		     size_t ng)
{
	int rc, bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(guest_objects); i++) {
		uint32_t t = pc_type(pc, guest_objects[i]);

		for (size_t j = 0; t && j < ARRAY_SIZE(file_perms); j++) {
			rc = pc_expect(pc, d, cases[c].subj, t, cases[c].obj, false,
				    &file_perms[j], false, cases[c].name);
			if (rc < 0)
				return rc;
			bad += rc;
		}
	}
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < ARRAY_SIZE(proc_perms); j++) {
			rc = pc_expect(pc, d, cases[c].subj, g[i], cases[c].obj, true,
				    &proc_perms[j], false, cases[c].name);
			if (rc < 0)
				return rc;
			bad += rc;
		}
	return bad;
}

int prop_cross_pair(struct pc *pc)
{
	uint32_t g[GUESTS_MAX];
	size_t ng = pc_guests(pc, g);
	char what[160];
	int rc;

	fprintf(pc->out, "\n[2] no guest reaches another guest's image, content, "
		"vTPM state, sockets or processes\n    (read, write, open, "
		"getattr, execute, relabel, signal, ptrace, connectto, ...)\n");
	if (ng == 0) {
		pc_fail(pc, "no type has attribute %s", GUEST_ATTR);
		return 0;
	}
	fprintf(pc->out, "    guest domains:");
	for (size_t i = 0; i < ng; i++)
		fprintf(pc->out, " %s", pc_type_name(pc, g[i]));
	fputc('\n', pc->out);
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		int bad = 0;

		for (size_t i = 0; i < ng; i++) {
			rc = cross_one(pc, g[i], c, g, ng);
			if (rc < 0)
				return rc;
			bad += rc;
		}
		snprintf(what, sizeof(what), "%s: subject %s, targets %s", cases[c].name,
			 cases[c].subj, cases[c].obj);
		pc_report(pc, bad, what);
	}
	return 0;
}

/* Every guest domain against TYPE at its own pair: all of P denied. */
static int deny_own_pair(struct pc *pc, const char *type, const char *skip,
			 const struct perms *p, size_t np, const char *what)
{
	uint32_t g[GUESTS_MAX], t = pc_type(pc, type);
	size_t ng = pc_guests(pc, g);
	int rc, bad = 0;

	if (!t) {
		pc_fail(pc, "type %s is missing", type);
		return 0;
	}
	for (size_t i = 0; i < ng; i++) {
		if (skip && !strcmp(pc_type_name(pc, g[i]), skip))
			continue;
		for (size_t j = 0; j < np; j++) {
			rc = pc_expect(pc, g[i], "s0:c1,c2", t, "s0:c1,c2", false, &p[j],
				    false, what);
			if (rc < 0)
				return rc;
			bad += rc;
		}
	}
	return pc_report(pc, bad, what);
}

int prop_content_readonly(struct pc *pc)
{
	static const struct perms p[] = {
		{ "file", "write append setattr relabelfrom relabelto unlink "
			  "rename link create" },
	};

	fprintf(pc->out, "\n[3] no guest writes content (kernel, initrd, "
		"readonly disks), even its own\n");
	return deny_own_pair(pc, "bulwark_content_t", NULL, p, ARRAY_SIZE(p),
			     "content is read-only to every guest domain");
}

int prop_vtpm_state(struct pc *pc)
{
	static const struct perms p[] = {
		{ "file", "read write append open getattr map ioctl lock "
			  "relabelfrom relabelto unlink rename" },
		{ "dir", "read write search open getattr add_name remove_name" },
	};

	fprintf(pc->out, "\n[4] only the vTPM reaches its state, even at the "
		"guest's own pair\n");
	return deny_own_pair(pc, "bulwark_vtpm_state_t", "bulwark_vtpm_t", p,
			     ARRAY_SIZE(p), "vTPM state is out of reach of the VMM");
}

/*
 * Another guest's descriptors and processes, at every level case: fd use
 * (a descriptor another guest opened, received over a socket or inherited
 * across an exec) and every signal, sigchld included.  Both are allowed
 * between processes of one type (a guest's own), so only the MCS
 * constraints can keep guests apart here.
 */
int prop_fd_signal(struct pc *pc)
{
	static const struct perms p[] = {
		{ "fd", "use" },
		{ "process", "sigchld signal sigkill sigstop signull" },
	};
	uint32_t g[GUESTS_MAX];
	size_t ng = pc_guests(pc, g);
	char what[160];
	int rc;

	fprintf(pc->out, "\n[8] fd-signal: no guest uses another guest's file "
		"descriptors or signals its processes (sigchld included)\n");
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		int bad = 0;

		snprintf(what, sizeof(what), "fd-signal (%s)", cases[c].name);
		for (size_t i = 0; i < ng; i++)
			for (size_t j = 0; j < ng; j++)
				for (size_t k = 0; k < ARRAY_SIZE(p); k++) {
					rc = pc_expect(pc, g[i], cases[c].subj, g[j],
						       cases[c].obj, true, &p[k], false,
						       what);
					if (rc < 0)
						return rc;
					bad += rc;
				}
		pc_report(pc, bad, what);
	}
	return 0;
}
