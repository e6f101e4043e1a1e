/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's SELinux glue (svirt/svirt.h): the state in force, the
 * guest's registry entry and pair, every file the guest gets labelled by
 * fd, and the labels restored at stop.  With --svirt=off nothing is
 * labelled, but files are still opened without following symlinks and must
 * be regular files (a disk: or a block device).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/launch/audit.h"
#include "core/launch/launcher.h"

int launch_svirt_probe(struct launch *l)
{
	svirt_config_default(&l->scfg);
	/* Dead guests this launcher's gc or reservation repairs get the stop
	 * record their own launchers could not write. */
	l->scfg.gone = launch_audit_gone;
	/* Refuses permissive or disabled SELinux unless --svirt=off; the
	 * state it records is measured into the vTPM.  Reads only. */
	return svirt_state_probe(l->svirt, NULL, &l->sstate);
}

/* The first change to the host: after launch_validate() (launch_run.c). */
int launch_svirt_setup(struct launch *l)
{
	int rc;

	if (l->svirt == SVIRT_MODE_OFF) {
		log_warn("--svirt=off: the guest runs without an MCS label of its own");
		return 0;
	}
	rc = svirt_gc(&l->scfg);
	if (rc < 0)
		log_warn("svirt gc: %s (continuing: stale entries stay reserved)",
			 strerror(-rc));
	rc = svirt_vm_create(&l->scfg, l->cfg.name, l->svirt, l->cfg.svirt_label[0] ? l->cfg.svirt_label : NULL,
			     NULL, 0, &l->svm);
	if (rc) {
		log_err("cannot reserve the guest's categories: %s", strerror(-rc));
		return rc;
	}
	rc = svirt_vm_exec_label(l->svm, SVIRT_ROLE_VMM, l->vmm_label,
				 sizeof(l->vmm_label));
	if (!rc)
		rc = svirt_vm_exec_label(l->svm, SVIRT_ROLE_VTPM, l->vtpm_label,
					 sizeof(l->vtpm_label));
	if (!rc)
		rc = svirt_vm_state(l->svm, &l->sstate);
	if (rc) {
		log_err("guest labels: %s", strerror(-rc));
		svirt_vm_release(l->svm);
		l->svm = NULL;
		return rc;
	}
	log_info("guest label %s, vTPM label %s", l->vmm_label, l->vtpm_label);
	return 0;
}

/* --svirt=off: the same refusals as svirt's open, without a label. */
static int launch_open_plain(const char *path, enum svirt_obj kind)
{
	int dir = kind == SVIRT_OBJ_VTPM_STATE;
	int flags = O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		    (dir ? O_RDONLY | O_DIRECTORY :
		     kind == SVIRT_OBJ_IMAGE ? O_RDWR : O_RDONLY);
	struct stat st;
	int fd = open(path, flags);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (dir ? !S_ISDIR(st.st_mode) :
			       !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/*
 * Opens PATH for the guest (image: read-write, content: read-only) and
 * labels it by fd.  Returns the fd or -errno (logged with WHAT).
 */
int launch_svirt_open(struct launch *l, const char *path, enum svirt_obj kind,
		      const char *what)
{
	int fd = -1, rc;

	if (l->svm)
		rc = svirt_vm_label_path(l->svm, path, kind, NULL, &fd);
	else
		rc = fd = launch_open_plain(path, kind);
	if (rc < 0 || fd < 0) {
		rc = rc < 0 ? rc : -EBADF;
		log_err("%s: %s: %s%s", what, path, strerror(-rc),
			rc == -ELOOP ? " (a symlink: give the real path)" : "");
		return rc;
	}
	return fd;
}

/* A migration's target: a disk at the hand-over level (svirt.h). */
int launch_svirt_handover(struct launch *l, const char *path, enum svirt_obj kind,
			  const char *what)
{
	int fd = -1, rc;

	if (!l->svm)
		return launch_svirt_open(l, path, kind, what);
	rc = svirt_vm_label_handover(l->svm, path, kind, &fd);
	if (rc < 0) {
		log_err("%s: %s: cannot be labelled for the hand-over: %s", what, path,
			strerror(-rc));
		return rc;
	}
	return fd;
}

/* After the exec: the VMM must run at exactly its label (SIGKILL otherwise). */
int launch_svirt_verify(struct launch *l, pid_t pid)
{
	if (!l->svm)
		return 0;
	return svirt_parent_verify(pid, l->vmm_label);
}

int launch_svirt_add_pid(struct launch *l, pid_t pid)
{
	return l->svm ? svirt_vm_add_pid(l->svm, pid) : 0;
}

/*
 * The jail's uid/gid slot: unique among running guests.  The index of the
 * guest's category pair (the registry keeps pairs unique host-wide), or
 * the launcher's pid with --svirt=off (the VMM dies with its launcher),
 * above every pair index (< 1024 * 1024) so the two never meet.
 */
unsigned int launch_svirt_slot(const struct launch *l)
{
	const struct svirt_cats *c = l->svm ? svirt_vm_cats(l->svm) : NULL;

	if (c && c->n >= 2)
		return (unsigned int)c->c[0] * SVIRT_CAT_LIMIT + c->c[1];
	return SVIRT_CAT_LIMIT * SVIRT_CAT_LIMIT +
	       (unsigned int)getpid() % (JAIL_ID_SLOTS - SVIRT_CAT_LIMIT * SVIRT_CAT_LIMIT);
}

/* Every label restored, the registry entry dropped.  Idempotent. */
void launch_svirt_release(struct launch *l)
{
	int rc;

	if (!l->svm)
		return;
	rc = svirt_vm_release(l->svm);
	l->svm = NULL;
	if (rc)
		log_err("restoring labels: %s (bulwark gc repairs what is left)",
			strerror(-rc));
}

/* A snapshot's folder (issue 17) at the guest's pair, with the
 * vTPM-state type: no guest domain reads it, not even the guest's VMM.
 * Recorded like a disk, so its label goes back when the guest stops. */
int launch_svirt_label_snapshot(struct launch *l, const char *path)
{
	int fd, rc;

	if (!l->svm)
		return 0;
	rc = svirt_vm_label_path(l->svm, path, SVIRT_OBJ_VTPM_STATE, NULL, &fd);
	if (rc) {
		log_err("%s: cannot label it at the guest's pair: %s", path, strerror(-rc));
		return rc;
	}
	close(fd);
	return 0;
}
