/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark delete NAME`: removes a stopped guest's host state (core/launch/gstate.h):
 * its state key first (without it any copy of the vTPM state is ciphertext
 * nobody can read), then STATE_DIR/NAME (vTPM state, EK certificates, event
 * log, attestation identity), an outside --vtpm-state-dir, and its run
 * directory.  Never through a symlink.  It refuses while the guest runs:
 * the launcher holds the state directory's lock, its attestation socket's
 * lock, and (with sVirt) a live registry entry; each is checked.  The
 * shared CAs (EK CA, attestation CA) are not the guest's and stay.
 * Exit status: 0 removed; 1 unknown guest, running, or a removal failed
 * (what was removed is said); 2 bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include "core/launch/commands.h"
#include "core/launch/gstate.h"
#include "core/launch/launcher.h"
#include "core/log.h"
#include "core/util.h"
#include "svirt/svirt.h"

struct delete_opts {
	const char *name;
	const char *state_dir, *vtpm_dir, *key_dir, *run_dir;
	struct svirt_config scfg;
	bool found;
};

static void delete_usage(FILE *f)
{
	fprintf(f, "usage: bulwark delete NAME [--state-dir DIR] [--vtpm-state-dir DIR]\n"
		"                      [--key-dir DIR] [--run-dir DIR] [--registry DIR]\n"
		"Removes a stopped guest's vTPM state, state key, EK certificates, event\n"
		"log and attestation identity (the directories as `bulwark run` used\n"
		"them; defaults %s, %s, %s, %s).\n"
		"Refuses while the guest runs.  Symlinks are removed, never followed.\n",
		LAUNCH_STATE_DIR, LAUNCH_KEY_DIR, ATTESTD_RUN_DIR, SVIRT_REGISTRY_DIR);
}

static int delete_parse(struct delete_opts *o, int argc, char **argv)
{
	static const char *const flags[] = { "--state-dir", "--vtpm-state-dir",
		"--key-dir", "--run-dir", "--registry" };
	const char **dst[] = { &o->state_dir, &o->vtpm_dir, &o->key_dir, &o->run_dir,
			       NULL };
	const char *reg = NULL;
	unsigned int seen = 0;

	static_assert(ARRAY_SIZE(flags) == ARRAY_SIZE(dst), "one per flag");
	dst[4] = &reg;
	for (int i = 1; i < argc; i++) {
		size_t k = 0;

		while (k < ARRAY_SIZE(flags) && strcmp(argv[i], flags[k]))
			k++;
		if (k < ARRAY_SIZE(flags)) {
			if (i + 1 >= argc || argv[i + 1][0] != '/' ||
			    strlen(argv[i + 1]) >= SVIRT_PATH_MAX) {
				fprintf(stderr, "bulwark delete: %s wants an absolute path\n",
					argv[i]);
				return -EINVAL;
			}
			/* A flag given twice is an error, not "the last wins". */
			if (seen & (1u << k)) {
				fprintf(stderr, "bulwark delete: %s given twice\n", argv[i]);
				return -EINVAL;
			}
			seen |= 1u << k;
			*dst[k] = argv[++i];
		} else if (!o->name && argv[i][0] != '-') {
			o->name = argv[i];
		} else {
			fprintf(stderr, "bulwark delete: unexpected argument '%.64s'\n", argv[i]);
			return -EINVAL;
		}
	}
	if (!o->name || !gstate_name_valid(o->name)) {
		fprintf(stderr, "bulwark delete: %s guest name '%.64s' (1..%d of "
			"[A-Za-z0-9_.-], not starting with '.')\n", o->name ? "bad" : "no",
			o->name ? o->name : "", GSTATE_NAME_MAX);
		return -EINVAL;
	}
	if (reg)
		snprintf(o->scfg.registry_dir, sizeof(o->scfg.registry_dir), "%s", reg);
	return 0;
}

/* sVirt: a registry entry survives svirt_gc() only while the guest lives. */
static int delete_svirt_busy(const struct delete_opts *o)
{
	char path[SVIRT_PATH_MAX + GSTATE_NAME_MAX + 8];
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "%s/vm.%s", o->scfg.registry_dir, o->name);
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	rc = svirt_gc(&o->scfg);   /* repairs the entries of dead guests */
	if (rc < 0) {
		fprintf(stderr, "bulwark delete: %s: the sVirt registry cannot be "
			"checked (%s); refusing\n", o->name, strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) == 0) {
		fprintf(stderr, "bulwark delete: %s is running (live sVirt registry "
			"entry %s); stop it first\n", o->name, path);
		return -EBUSY;
	}
	return 0;
}

/* The attestation socket's lock, held by a live launcher (attestd.h). */
static int delete_attest_busy(const struct delete_opts *o)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", o->run_dir, o->name, ATTESTD_LOCK_NAME);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB))
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
	close(fd);
	if (rc == -EBUSY)
		fprintf(stderr, "bulwark delete: %s is running (its launcher holds %s); "
			"stop it first\n", o->name, path);
	return rc;
}

static void delete_say(const char *dir, const char *name, const struct gstate_count *n)
{
	printf("bulwark delete: removed %s/%s", dir, name);
	if (n->dirs)
		printf(" (%u file%s, %u director%s", n->files, n->files == 1 ? "" : "s",
		       n->dirs, n->dirs == 1 ? "y" : "ies");
	if (n->dirs && n->links)
		printf(", %u symlink%s removed, not followed", n->links,
		       n->links == 1 ? "" : "s");
	else if (!n->dirs && n->links)
		printf(" (a symlink: removed, not followed");
	printf("%s\n", n->dirs || n->links ? ")" : "");
}

/* NAME under DIR, when it exists; what was removed is said. */
static int delete_at(struct delete_opts *o, const char *dir, const char *name)
{
	struct gstate_count n = { 0 };
	int dfd, rc;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = gstate_remove(dfd, name, &n);
	close(dfd);
	if (n.files || n.links || n.dirs) {
		o->found = true;
		delete_say(dir, name, &n);
	}
	if (rc && rc != -ENOENT)
		fprintf(stderr, "bulwark delete: %s/%s: %s\n", dir, name, strerror(-rc));
	return rc == -ENOENT ? 0 : rc;
}

/* An outside --vtpm-state-dir: DIR's parent, DIR's last component. */
static int delete_vtpm_dir(struct delete_opts *o)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (!o->vtpm_dir)
		return 0;
	snprintf(a, sizeof(a), "%s", o->vtpm_dir);
	snprintf(b, sizeof(b), "%s", o->vtpm_dir);
	if (!strcmp(basename(b), "/") || !strcmp(basename(b), ".") ||
	    !strcmp(basename(b), ".."))
		return -EINVAL;
	return delete_at(o, dirname(a), basename(b));
}

/* Every entry of the locked STATE_DIR/NAME, one by one, then itself. */
static int delete_state(struct delete_opts *o, int lockfd)
{
	char dir[PATH_MAX];
	struct gstate_count n = { 0 };
	int top, rc;

	snprintf(dir, sizeof(dir), "%s/%s", o->state_dir, o->name);
	rc = gstate_remove(lockfd, "vtpm", &n);
	if (!rc)
		delete_say(dir, "vtpm", &n);
	if (rc == -ENOENT)
		rc = 0;
	/* The rest (ek/, eventlog.bin, uuid, attest/, anything else). */
	top = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	n = (struct gstate_count){ 0 };
	rc = rc ? rc : gstate_remove(top, o->name, &n);
	close(top);
	if (!rc)
		delete_say(o->state_dir, o->name, &n);
	else
		fprintf(stderr, "bulwark delete: %s: %s\n", dir, strerror(-rc));
	return rc;
}

static int delete_key(struct delete_opts *o)
{
	char file[GSTATE_NAME_MAX + 16];
	int rc;

	snprintf(file, sizeof(file), "%s.key.new", o->name);
	rc = delete_at(o, o->key_dir, file);
	snprintf(file, sizeof(file), "%s.key", o->name);
	return rc ? rc : delete_at(o, o->key_dir, file);
}

/* Validated, checked, locked: then removed, the key first. */
static int delete_run(struct delete_opts *o)
{
	int lockfd = -1, rc;

	rc = gstate_lock(o->state_dir, o->name, false, &lockfd);
	if (rc == -EBUSY)
		fprintf(stderr, "bulwark delete: %s is running (its launcher holds "
			"%s/%s); stop it first\n", o->name, o->state_dir, o->name);
	else if (rc && rc != -ENOENT)
		fprintf(stderr, "bulwark delete: %s/%s: %s (a symlink or not a "
			"directory: not followed, nothing removed)\n", o->state_dir,
			o->name, strerror(-rc));
	if (rc && rc != -ENOENT)
		return rc;
	/* Held from here on: no launcher of NAME can start meanwhile. */
	rc = delete_svirt_busy(o);
	rc = rc ? rc : delete_attest_busy(o);
	if (rc)
		goto out;
	o->found = lockfd >= 0;
	rc = delete_key(o);
	rc = rc ? rc : delete_vtpm_dir(o);
	if (!rc && lockfd >= 0)
		rc = delete_state(o, lockfd);
	rc = rc ? rc : delete_at(o, o->run_dir, o->name);
out:
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

int cmd_delete(int argc, char **argv)
{
	struct delete_opts o = { .state_dir = LAUNCH_STATE_DIR,
		.key_dir = LAUNCH_KEY_DIR, .run_dir = ATTESTD_RUN_DIR };
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		delete_usage(stdout);
		return 0;
	}
	svirt_config_default(&o.scfg);
	if (delete_parse(&o, argc, argv)) {
		delete_usage(stderr);
		return 2;
	}
	rc = delete_run(&o);
	if (!rc && !o.found) {
		fprintf(stderr, "bulwark delete: unknown guest '%s': nothing under %s, "
			"%s or %s\n", o.name, o.state_dir, o.key_dir, o.run_dir);
		return 1;
	}
	if (rc == -EBUSY)
		return 1;
	if (rc) {
		log_err("guest %s: not (completely) deleted: %s", o.name, strerror(-rc));
		return 1;
	}
	printf("bulwark delete: guest %s deleted\n", o.name);
	return 0;
}
