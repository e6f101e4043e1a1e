/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svirt: one SELinux MCS label per guest.
 *
 * The launcher calls, in order:
 *   svirt_state_probe()    refuse to start unless SELinux enforces (mode != off)
 *   svirt_vm_create()      reserve the guest's categories in the host registry
 *   svirt_vm_label_path()  for each disk, kernel, initrd and the vTPM state dir:
 *                          open by fd, record the old label durably, relabel,
 *                          read back; returns the fd to hand to the VMM
 *   fork(); in the child svirt_child_setexec(); exec bulwark-vmm / swtpm
 *   svirt_parent_verify()  after the exec: getpidcon(child) must match
 *   svirt_vm_add_pid()     so the registry knows the guest is alive
 *   ...
 *   svirt_vm_release()     at stop: restore every label, drop the entry
 * and svirt_gc() (also `bulwark gc`) at start, to repair what a killed
 * launcher left behind.
 */
#ifndef BULWARK_SVIRT_H
#define BULWARK_SVIRT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SVIRT_REGISTRY_DIR "/var/lib/bulwark/svirt"
#define SVIRT_POLICY_PATH "/sys/fs/selinux/policy"
#define SVIRT_LABEL_MAX 256
#define SVIRT_NAME_MAX 64
#define SVIRT_CAT_LIMIT 1024   /* c0..c1023 */
#define SVIRT_SET_MAX 8        /* categories in one set (pair + groups) */
#define SVIRT_GROUPS_MAX 4     /* shared-disk groups per guest */
#define SVIRT_PROCS_MAX 4      /* launcher, VMM, swtpm */
#define SVIRT_FILES_MAX 64     /* labelled files per guest */
#define SVIRT_PATH_MAX 1024

enum svirt_mode { SVIRT_MODE_DYNAMIC = 0, SVIRT_MODE_STATIC, SVIRT_MODE_OFF };

/* What a labelled object is for; decides its type and categories. */
enum svirt_obj {
	SVIRT_OBJ_IMAGE = 0,   /* writable disk: image type, guest's pair */
	SVIRT_OBJ_CONTENT,     /* kernel, initrd, readonly disk: content type, pair */
	SVIRT_OBJ_SHARED,      /* disk shared by a group: image type, group's category */
	SVIRT_OBJ_VTPM_STATE,  /* vTPM state dir and its files: vTPM state type, pair */
	SVIRT_OBJ_COUNT,
};

enum svirt_role { SVIRT_ROLE_VMM = 0, SVIRT_ROLE_VTPM };

/* A sorted set of distinct categories. */
struct svirt_cats {
	uint16_t n;
	uint16_t c[SVIRT_SET_MAX];
};

/* The security state in force, for the attestation code to measure. */
struct svirt_state {
	enum svirt_mode mode;
	int enforcing;              /* 1 enforcing, 0 permissive, -1 disabled */
	int have_policy_digest;
	uint8_t policy_sha256[32];  /* SHA-256 of the loaded binary policy */
	char vmm_label[SVIRT_LABEL_MAX];   /* filled in by svirt_vm_state() */
	char vtpm_label[SVIRT_LABEL_MAX];
};

/* Host-wide settings; svirt_config_default() fills in the defaults. */
struct svirt_config {
	char registry_dir[SVIRT_PATH_MAX];
	uint16_t cat_lo, cat_hi;    /* the range pairs are drawn from */
	const char *user;           /* system_u */
	const char *domain_role;    /* system_r */
	const char *object_role;    /* object_r */
	const char *vmm_type, *vtpm_type;
	const char *memfd_type;       /* memfds the launcher hands the VMM */
	const char *obj_type[SVIRT_OBJ_COUNT];
	/*
	 * Told of each dead guest once its labels are restored and its entry
	 * removed (under the registry lock, by whichever call noticed: gc, a
	 * start, a relabel, a release): NAME and the last process recorded
	 * for it (the VMM, which the launcher records after swtpm; 0 if only
	 * the launcher was).  The launcher and `bulwark gc` write the guest's
	 * stop record here, since its own launcher died before it could.
	 * NULL (svirt_config_default): nobody is told.
	 */
	void (*gone)(const char *name, int32_t pid);
};

struct svirt_vm;

void svirt_config_default(struct svirt_config *cfg);
int svirt_mode_parse(const char *s, enum svirt_mode *out);
const char *svirt_mode_name(enum svirt_mode mode);
/* "c0.c1023" or "c5.c9" into cfg->cat_lo/hi. */
int svirt_range_parse(const char *s, struct svirt_config *cfg);

/*
 * Checks that SELinux is enabled and enforcing unless mode is off (-EPERM
 * otherwise, with a message saying --svirt=off is the only way round), and
 * records the mode, enforcement and the policy's digest in *st.
 * policy_path NULL means SVIRT_POLICY_PATH.
 */
int svirt_state_probe(enum svirt_mode mode, const char *policy_path,
		      struct svirt_state *st);

/*
 * Reserves a category set for guest NAME in the registry: a random pair
 * (dynamic), or the categories of static_label (static, checked with
 * security_check_context), plus one category per shared-disk group.  Stale
 * entries of dead guests are repaired first.  -EEXIST: a live guest has that
 * name; -ENOSPC: the range is exhausted; -EBUSY: the static label collides.
 */
int svirt_vm_create(const struct svirt_config *cfg, const char *name,
		    enum svirt_mode mode, const char *static_label,
		    const char *const *groups, size_t ngroups,
		    struct svirt_vm **out);
/* Records a process of the guest (VMM, swtpm) so gc knows it is alive. */
int svirt_vm_add_pid(struct svirt_vm *vm, pid_t pid);
/* The guest's categories (private set plus groups). */
const struct svirt_cats *svirt_vm_cats(const struct svirt_vm *vm);
/* The process label of ROLE, e.g. system_u:system_r:bulwark_vmm_t:s0:c3,c7. */
int svirt_vm_exec_label(const struct svirt_vm *vm, enum svirt_role role,
			char *buf, size_t len);
/* Fills st->vmm_label and st->vtpm_label. */
int svirt_vm_state(const struct svirt_vm *vm, struct svirt_state *st);

/*
 * Opens PATH (O_NOFOLLOW, O_CLOEXEC; regular file, or directory for the vTPM
 * state), records its label durably, relabels it for KIND and checks the
 * label read back.  *fd_out is the caller's to pass on and close.  group
 * names the shared-disk group for SVIRT_OBJ_SHARED, else NULL.
 */
int svirt_vm_label_path(struct svirt_vm *vm, const char *path,
			enum svirt_obj kind, const char *group, int *fd_out);
/*
 * Labels a memfd the launcher hands the VMM (configuration, event log) with
 * the memfd type at the guest's pair, so no other guest's domain, and no
 * domain that may read ordinary tmpfs files, can use it.  Nothing is
 * recorded: the file disappears with its last descriptor.
 */
int svirt_vm_label_memfd(const struct svirt_vm *vm, int fd);
/*
 * Live migration (issue 18), the target.  While the source still runs the
 * guest, a shared disk must stay usable by the source's VMM (its pair) and
 * be handed, open, to the target's (another pair, drawn on another host):
 * only a level both dominate does, s0.  So the target labels each disk
 * at its type (image; content if read-only), s0 (svirt_vm_label_handover: recorded as any label,
 * restored at release) and, at the commit point (the source paused for
 * good, before the guest resumes here), at its own pair (svirt_vm_claim:
 * the record's applied label changed durably first).  Between the two any
 * guest domain holding a descriptor of the file could use it; none but
 * the two VMMs has one (VMMs open nothing: their fds are the launcher's).
 */
int svirt_vm_label_handover(struct svirt_vm *vm, const char *path, enum svirt_obj kind,
			    int *fd_out);
int svirt_vm_claim(struct svirt_vm *vm, int fd);
/*
 * Live migration (issue 18), the source after the target runs the guest:
 * the record of the file behind FD (a disk on shared storage the target
 * has relabelled for its own pair) leaves the entry, durably, so that
 * svirt_vm_release does not put back a label the target's guest now needs
 * (libvirt's pitfall).  A node the target did not relabel (still at this
 * guest's label: this host's own device node of a LUN the target host
 * also has) gets its old label back first.  0, -ENOENT (no such record) or
 * -errno.
 */
int svirt_vm_disown(struct svirt_vm *vm, int fd);
/* Restores every label and removes the registry entry; frees vm. */
int svirt_vm_release(struct svirt_vm *vm);
/* Frees vm and keeps the entry (the guest still runs; gc reclaims it later). */
void svirt_vm_forget(struct svirt_vm *vm);

/* In the child between fork and exec. Returns 0 or -errno. */
int svirt_child_setexec(const char *label);
/* In the parent after the exec: kills pid with SIGKILL unless its label is
 * exactly expected (-EPERM then). The caller still reaps it. */
int svirt_parent_verify(pid_t pid, const char *expected);

/* Repairs the entries of every guest that is provably gone. Returns the
 * number repaired or -errno. */
int svirt_gc(const struct svirt_config *cfg);

#endif
