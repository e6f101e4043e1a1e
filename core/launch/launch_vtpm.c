/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's vTPM glue (attest/vtpm/vtpm.h): what defines the guest is
 * measured into its own swtpm before the VMM exists, so the guest-facing
 * process can never send a TPM command before the launcher did.
 *
 *   identity    SHA-256 of bulwark-vmm read from the very fd that is
 *               fexecve'd (the bytes measured are the bytes run)
 *   config      config_canonical() bytes (also the VMM's config memfd)
 *   ACPI        acpi_build() bytes, exactly what the VMM loads
 *   kernel, initrd, cmdline
 *   security    SELinux mode and policy digest (svirt state), svirt mode,
 *               the guest's label, each seccomp role's filter digest, and
 *               the protections turned off
 * swtpm runs in the vTPM domain (svirt_vm_exec_label(SVIRT_ROLE_VTPM)) with
 * its state directory labelled with the vTPM-state type the VMM cannot
 * reach; its control channel never leaves the launcher.  It runs jailed
 * (attest/swtpm.h): uid and gid JAIL_VTPM_ID_BASE + the VMM's slot, never
 * the VMM's ids, in a root of its own mounted on the same --jail-root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include "attest/vtpm/policy_digest.h"
#include "core/launch/gstate.h"
#include "core/launch/launch_moved.h"
#include "core/launch/launcher.h"
#include "core/util.h"
#include "core/vmm_abi.h"

/* Compiled once here only for their digests; the VMM compiles the same
 * tables itself (same code, same bytes). */
int launch_filters_build(struct launch *l)
{
	int rc;

	if (!l->cfg.vtpm)
		return 0;
	rc = sandbox_filters_build(l->seccomp, l->filters);
	if (rc) {
		log_err("seccomp filters: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < SANDBOX_ROLE_COUNT; i++) {
		rc = sandbox_filter_digest(&l->filters[i]);
		if (rc) {
			log_err("seccomp filters: cannot digest: %s", strerror(-rc));
			sandbox_filters_free(l->filters);
			return rc;
		}
	}
	l->have_filters = true;
	return 0;
}

static enum measure_selinux launch_selinux(int enforcing)
{
	return enforcing > 0 ? MEASURE_SELINUX_ENFORCING :
	       enforcing == 0 ? MEASURE_SELINUX_PERMISSIVE : MEASURE_SELINUX_DISABLED;
}

/* Names sorted bytewise, as measure_secstate_encode wants them. */
static size_t launch_off_list(const struct launch *l, const char *off[3])
{
	size_t n = 0;

	if (l->seccomp == SANDBOX_SECCOMP_OFF)
		off[n++] = "seccomp";
	if (l->seccomp == SANDBOX_SECCOMP_LOG)
		off[n++] = "seccomp-log";
	if (l->svirt == SVIRT_MODE_OFF)
		off[n++] = "svirt";
	return n;
}

struct launch_measure {
	struct measure_identity id;
	char idbuf[MEASURE_MAX_TEXT];
	size_t idlen;
	struct measure_filter filters[SANDBOX_ROLE_COUNT];
	const char *off[3];
	uint8_t policy[32];
	struct measure_secstate sec;
	struct measure_boot boot;
};

static int launch_measure_fill(struct launch *l, struct launch_measure *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = measure_identity_add(&m->id, VMM_BINARY, l->vmm_fd);
	if (!rc)
		rc = measure_identity_encode(&m->id, m->idbuf, sizeof(m->idbuf),
					     &m->idlen);
	if (rc)
		return rc;
	for (size_t i = 0; i < SANDBOX_ROLE_COUNT; i++) {
		m->filters[i].role = sandbox_role_name((enum sandbox_role)i);
		memcpy(m->filters[i].sha256, l->filters[i].digest, 32);
	}
	/* What the kernel enforces, as libsepol's canonical image, so that an
	 * auditor gets the same digest from the .pol file alone. */
	if (l->sstate.have_policy_digest) {
		rc = policy_digest_file(SVIRT_POLICY_PATH, m->policy);
		if (rc)
			return rc;
	}
	m->sec = (struct measure_secstate){
		.selinux = launch_selinux(l->sstate.enforcing),
		.policy_sha256 = l->sstate.have_policy_digest ? m->policy : NULL,
		.svirt = svirt_mode_name(l->svirt),
		.label = l->svm ? l->vmm_label : NULL,
		.seccomp = l->seccomp != SANDBOX_SECCOMP_OFF,
		.filters = m->filters,
		.nfilters = l->seccomp != SANDBOX_SECCOMP_OFF ?
			    ARRAY_SIZE(m->filters) : 0,
		.off = m->off,
		.noff = launch_off_list(l, m->off),
	};
	m->boot = (struct measure_boot){
		.vmm_identity = (const uint8_t *)m->idbuf,
		.vmm_identity_len = m->idlen,
		.config = (const uint8_t *)l->canonical,
		.config_len = l->canonical_len,
		.acpi = l->acpi.data,
		.acpi_len = l->acpi.len,
		.security = &m->sec,
		.kernel = { NULL, 0, l->kernel_fd },
		.initrd = { NULL, 0, l->initrd_fd },
		.cmdline = l->cfg.cmdline,
	};
	return 0;
}

/* swtpm's child, before its jail: the vTPM domain (swtpm_setup, at first
 * start, stays in the launcher's domain, unjailed: it writes the CA
 * directory with the CA's key), and it dies with the launcher. */
static int launch_vtpm_child(void *arg)
{
	const struct launch *l = arg;
	char file[PATH_MAX + 32];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return -errno;
	if (!l->svm)
		return 0;
	snprintf(file, sizeof(file), "%s/tpm2-00.permall", l->vtpm_dir);
	if (access(file, F_OK))
		return 0;   /* swtpm_setup: provisioning the state */
	return svirt_child_setexec(l->vtpm_label);
}

/*
 * STATE/NAME locked for the life of this process (core/launch/gstate.h): no second
 * launcher of NAME shares its vTPM state, and `bulwark delete` refuses while
 * we run.  With --no-vtpm only an existing directory is locked.  The fd is
 * close-on-exec and the watchdog closes it: only the launcher holds it.
 */
static int lock_fd = -1;

static int launch_state_lock(struct launch *l, bool create)
{
	int rc;

	if (lock_fd >= 0)
		return 0;
	if (create && mkdir(l->opt.state_dir, 0755) && errno != EEXIST)
		return -errno;
	rc = gstate_lock(l->opt.state_dir, l->cfg.name, create, &lock_fd);
	if (rc == -EBUSY)
		log_err("guest %s: %s/%s is locked: the guest is running, or being "
			"deleted", l->cfg.name, l->opt.state_dir, l->cfg.name);
	else if (rc && !(rc == -ENOENT && !create))
		log_err("guest %s: state %s/%s: %s", l->cfg.name, l->opt.state_dir,
			l->cfg.name, strerror(-rc));
	/* A guest that moved to another host does not start here again
	 * (core/launch/launch_moved.h): its TPM runs there. */
	if (!rc)
		rc = launch_moved_check(l, lock_fd);
	return rc == -ENOENT && !create ? 0 : rc;
}

int launch_state_dirfd(struct launch *l)
{
	int rc = launch_state_lock(l, true);

	return rc ? rc : lock_fd;
}

void launch_vtpm_config(const struct launch *l, struct swtpm_config *tc)
{
	*tc = (struct swtpm_config){
		.name = l->cfg.name, .state_dir = l->vtpm_dir,
		.key_dir = l->opt.key_dir, .ca_dir = l->opt.ca_dir,
		.cert_dir = l->cert_dir, .jail_root = l->opt.jail_root,
	};
}

/* swtpm's ids: the guest's slot in the vTPM range; never the VMM's (which
 * --uid/--gid may have moved). */
static int launch_vtpm_ids(const struct launch *l, uid_t *uid, gid_t *gid)
{
	*uid = *gid = JAIL_VTPM_ID_BASE + launch_svirt_slot(l);
	if (*uid == l->jail.uid || *gid == l->jail.gid) {
		log_err("guest %s: the VMM's --uid/--gid %u/%u is the vTPM's own id: "
			"choose another", l->cfg.name, (unsigned)l->jail.uid,
			(unsigned)l->jail.gid);
		return -EINVAL;
	}
	return 0;
}

/* STATE/NAME/vtpm and friends; the state directory labelled (by fd). */
static int launch_vtpm_paths(struct launch *l)
{
	char guest[PATH_MAX - 64];
	int fd, rc;

	if (snprintf(guest, sizeof(guest), "%s/%s", l->opt.state_dir,
		     l->cfg.name) >= (int)sizeof(guest))
		return -ENAMETOOLONG;
	snprintf(l->vtpm_dir, sizeof(l->vtpm_dir), "%s",
		 l->opt.vtpm_dir ? l->opt.vtpm_dir : guest);
	if (!l->opt.vtpm_dir)
		strncat(l->vtpm_dir, "/vtpm", sizeof(l->vtpm_dir) - strlen(l->vtpm_dir) - 1);
	snprintf(l->cert_dir, sizeof(l->cert_dir), "%s/ek", guest);
	snprintf(l->log_path, sizeof(l->log_path), "%s/eventlog.bin", guest);
	rc = launch_state_lock(l, true);
	if (rc)
		return rc;
	/* The key directory is the launcher's only (0700 root): swtpm gets
	 * its key as an inherited fd. */
	if ((mkdir(l->opt.key_dir, 0700) && errno != EEXIST) ||
	    (mkdir(l->vtpm_dir, 0700) && errno != EEXIST))
		return -errno;
	fd = launch_svirt_open(l, l->vtpm_dir, SVIRT_OBJ_VTPM_STATE, "vTPM state");
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* What was measured at this start; the restore event states m.sec again. */
static struct launch_measure m;

int launch_vtpm_start(struct launch *l)
{
	struct vtpm_config vc;
	uid_t uid;
	gid_t gid;
	int rc;

	if (!l->cfg.vtpm) {
		log_warn("--no-vtpm: nothing is measured; the security state "
			 "(SELinux, label, seccomp) cannot be attested");
		return launch_state_lock(l, false);
	}
	memset(&vc, 0, sizeof(vc));
	rc = launch_vtpm_ids(l, &uid, &gid);
	if (!rc)
		rc = launch_vtpm_paths(l);
	if (!rc)
		rc = launch_measure_fill(l, &m);
	if (rc) {
		log_err("vTPM set-up: %s", strerror(-rc));
		return rc;
	}
	launch_vtpm_config(l, &vc.tpm);
	vc.tpm.child_setup = launch_vtpm_child;
	vc.tpm.child_arg = l;
	vc.tpm.uid = uid;
	vc.tpm.gid = gid;
	vc.boot = &m.boot;
	vc.log_path = l->log_path;
	rc = vtpm_start(&vc, &l->vtpm);
	if (rc) {
		log_err("vTPM: %s", strerror(-rc));
		return rc;
	}
	l->vtpm_running = true;
	rc = launch_svirt_add_pid(l, l->vtpm.swtpm.pid);
	if (rc >= 0)
		l->evlog_fd = rc = launch_memfd_sealed(l, "bulwark-evlog", l->vtpm.log.buf,
						       l->vtpm.log.len);
	if (rc < 0) {
		log_err("vTPM hand-over: %s", strerror(-rc));
		launch_vtpm_stop(l);
		return rc;
	}
	log_info("vTPM: measured boot done, %zu log bytes in %s", l->vtpm.log.len,
		 l->log_path);
	return 0;
}

int launch_vtpm_restore(struct launch *l, const struct swtpm_blobs *b,
			const uint8_t *log, size_t log_len)
{
	struct evlog_writer w;
	int rc;

	if (!l->vtpm_running)
		return -EINVAL;
	rc = measure_log_load(&w, log, log_len);
	if (rc) {
		log_err("restore: the snapshot's event log: %s", strerror(-rc));
		return rc;
	}
	rc = swtpm_state_restore(&l->vtpm.swtpm, b);
	if (rc) {
		evlog_writer_free(&w);
		return rc;
	}
	evlog_writer_free(&l->vtpm.log);
	l->vtpm.log = w;
	log_info("vTPM: the snapshot's state and its %zu-byte log are back", log_len);
	return 0;
}

int launch_vtpm_measure_restore(struct launch *l, const uint8_t digest[32])
{
	if (!l->vtpm_running)
		return 0;
	return measure_restore(&l->vtpm, digest, &m.sec);
}

int launch_vtpm_measure_migrate(struct launch *l, const struct measure_migration *mg)
{
	if (!l->vtpm_running)
		return 0;
	return measure_migrate(&l->vtpm, mg, &m.sec);
}

void launch_vtpm_stop(struct launch *l)
{
	if (l->vtpm_running) {
		vtpm_stop(&l->vtpm);
		l->vtpm_running = false;
	}
	if (l->have_filters) {
		sandbox_filters_free(l->filters);
		l->have_filters = false;
	}
}
