/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest/swtpm + attest/tpm against the real swtpm (no mock): provisioning
 * with EK certificates, the encrypted state and its key, the data channel by
 * CMD_SET_DATAFD, extend/read, restart, supervision, delete; and swtpm's jail
 * read back from the live process (/proc), and a start refused when the
 * kernel refuses one of the drops.  Needs root.
 */
#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "attest/format/eventlog.h"
#include "attest/vtpm/swtpm.h"
#include "attest/vtpm/swtpm_priv.h"
#include "attest/format/tpm.h"
#include "core/log.h"
#include "core/util.h"

struct fixture {
	char root[64];
	char state[128], keys[128], ca[128], certs[128], jail[128];
	struct swtpm_config cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/bulwark-test-swtpm.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	snprintf(f->keys, sizeof(f->keys), "%s/keys", f->root);
	snprintf(f->ca, sizeof(f->ca), "%s/ca", f->root);
	snprintf(f->certs, sizeof(f->certs), "%s/certs", f->root);
	snprintf(f->jail, sizeof(f->jail), "%s/jail", f->root);
	if (mkdir(f->keys, 0700) || mkdir(f->jail, 0755))
		return -1;
	f->cfg = (struct swtpm_config){ .name = "guest1", .state_dir = f->state,
		.key_dir = f->keys, .ca_dir = f->ca, .cert_dir = f->certs,
		.jail_root = f->jail };
	log_set_level(LOG_WARN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static int exists(const char *dir, const char *name, mode_t *mode)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (lstat(p, &st))
		return 0;
	if (mode)
		*mode = st.st_mode & 07777;
	return 1;
}

/* Startup, the banks, one extend of PCR 4, read back and compared. */
static void check_extend(int fd)
{
	struct evlog_banks banks;
	struct evlog_digest d[2], got, zero = { 0 };
	uint8_t cat[64] = { 0 }, want[32];

	assert_int_equal(tpm_startup_clear(fd), 0);
	assert_int_equal(tpm_pcr_banks(fd, &banks), 0);
	assert_int_equal(banks.count, 2);
	assert_int_equal(banks.alg[0], EVLOG_ALG_SHA256);
	assert_int_equal(banks.alg[1], EVLOG_ALG_SHA384);
	assert_int_equal(tpm_pcr_read(fd, EVLOG_ALG_SHA256, 4, &got), 0);
	assert_memory_equal(got.bytes, zero.bytes, 32);
	assert_int_equal(evlog_hash(EVLOG_ALG_SHA256, "kernel", 6, &d[0]), 0);
	assert_int_equal(evlog_hash(EVLOG_ALG_SHA384, "kernel", 6, &d[1]), 0);
	assert_int_equal(tpm_pcr_extend(fd, 4, d, 2), 0);
	assert_int_equal(tpm_pcr_read(fd, EVLOG_ALG_SHA256, 4, &got), 0);
	memcpy(cat + 32, d[0].bytes, 32);
	assert_true(EVP_Digest(cat, 64, want, NULL, EVP_sha256(), NULL));
	assert_memory_equal(got.bytes, want, 32);
	/* A bank the TPM does not have is refused by the TPM, not faked. */
	assert_int_not_equal(tpm_pcr_read(fd, EVLOG_ALG_SHA1, 4, &got), 0);
}

static void test_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct swtpm tpm;
	uint32_t handles[16];
	size_t n, i;
	mode_t mode;
	int fd, found = 0;

	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_true(exists(f->keys, "guest1.key", &mode));
	assert_int_equal(mode, 0600);
	assert_true(exists(f->certs, "ek-rsa2048.crt", NULL));
	assert_true(exists(f->state, "tpm2-00.permall", NULL));
	assert_false(exists(f->state, "guest1.key", NULL));

	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	check_extend(fd);
	close(fd);
	/* A new data channel reaches the same, already started TPM. */
	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	assert_int_equal(tpm_startup_clear(fd), -EIO);
	close(fd);
	assert_int_equal(swtpm_check(&tpm), 0);
	assert_int_equal(swtpm_stop(&tpm), 0);
	assert_int_equal(swtpm_check(&tpm), -ESRCH);

	/* Restart: no new manufacturing, the EK persists, PCRs were reset. */
	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	check_extend(fd);
	assert_int_equal(tpm_handles(fd, 0x81000000, handles, ARRAY_SIZE(handles), &n), 0);
	for (i = 0; i < n; i++)
		found |= handles[i] == 0x81010001;
	assert_true(found);
	close(fd);

	/* Supervision: a dead swtpm is noticed. */
	assert_int_equal(kill(tpm.pid, SIGKILL), 0);
	usleep(100 * 1000);
	assert_int_equal(swtpm_check(&tpm), -ESRCH);
	swtpm_stop(&tpm);

	assert_int_equal(swtpm_delete(&f->cfg), 0);
	assert_false(exists(f->root, "state", NULL));
	assert_false(exists(f->keys, "guest1.key", NULL));
}

/* The state is encrypted: the wrong key stops the vTPM from starting. */
static void test_wrong_key(void **state)
{
	struct fixture *f = *state;
	struct swtpm tpm;
	char path[256];
	FILE *k;

	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(swtpm_stop(&tpm), 0);
	snprintf(path, sizeof(path), "%s/guest1.key", f->keys);
	k = fopen(path, "w");
	assert_non_null(k);
	fprintf(k, "%064x\n", 7);
	fclose(k);
	assert_int_not_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(tpm.pid, 0);
	assert_int_equal(swtpm_delete(&f->cfg), 0);
}

static void test_rejects(void **state)
{
	struct fixture *f = *state;
	struct swtpm_config c = f->cfg;
	struct swtpm tpm;

	c.name = "../etc";
	assert_int_equal(swtpm_start(&c, &tpm), -EINVAL);
	c.name = "";
	assert_int_equal(swtpm_start(&c, &tpm), -EINVAL);
	c = f->cfg;
	c.state_dir = "relative/state";
	assert_int_equal(swtpm_start(&c, &tpm), -EINVAL);
	c = f->cfg;
	c.pcr_banks = "sha256;rm -rf";
	assert_int_equal(swtpm_start(&c, &tpm), -EINVAL);
	/* A key directory others can read is refused before anything starts. */
	assert_int_equal(chmod(f->keys, 0755), 0);
	assert_int_equal(swtpm_start(&f->cfg, &tpm), -EPERM);
	assert_int_equal(tpm.pid, 0);
	assert_int_equal(chmod(f->keys, 0700), 0);
}

/* ---- state across restarts: the EK and an NV index (raw TPM commands) -- */

#define NV_INDEX 0x01500001u

/* TPM2_NV_DefineSpace(OWNER, empty auth, NV_INDEX, sha256,
 * OWNERWRITE|OWNERREAD, 8 bytes); password session, empty owner auth. */
static const uint8_t nv_define[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x2D, 0x00, 0x00, 0x01, 0x2A,
	0x40, 0x00, 0x00, 0x01,                                  /* TPM_RH_OWNER */
	0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00,                                              /* auth: empty */
	0x00, 0x0E, 0x01, 0x50, 0x00, 0x01, 0x00, 0x0B,          /* index, sha256 */
	0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08,          /* attrs, policy, size */
};
static_assert(sizeof(nv_define) == 0x2D, "size field matches");

/* TPM2_NV_Write(OWNER, NV_INDEX, "survives", offset 0). */
static const uint8_t nv_write[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x2B, 0x00, 0x00, 0x01, 0x37,
	0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x08, 's', 'u', 'r', 'v', 'i', 'v', 'e', 's', 0x00, 0x00,
};
static_assert(sizeof(nv_write) == 0x2B, "size field matches");

/* TPM2_NV_Read(OWNER, NV_INDEX, 8 bytes at 0). */
static const uint8_t nv_read[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x01, 0x4E,
	0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x08, 0x00, 0x00,
};
static_assert(sizeof(nv_read) == 0x23, "size field matches");

/* TPM2_ReadPublic(the EK, 0x81010001). */
static const uint8_t ek_read_public[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x01, 0x73,
	0x81, 0x01, 0x00, 0x01,
};

/* One raw command; returns the TPM's response code, the response in rsp. */
static uint32_t raw(int fd, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t *rlen)
{
	uint32_t code = 0;

	assert_int_equal(tpm_transact(fd, cmd, len, rsp, TPM_MAX_MSG, rlen, &code), 0);
	return code;
}

/* Starts the TPM, returns its data channel, the EK's public area in ek. */
static int start_read_ek(struct fixture *f, struct swtpm *tpm, uint8_t *ek, size_t *eklen)
{
	int fd;

	assert_int_equal(swtpm_start(&f->cfg, tpm), 0);
	assert_int_equal(swtpm_open_data(tpm, &fd), 0);
	assert_int_equal(tpm_startup_clear(fd), 0);
	assert_int_equal(raw(fd, ek_read_public, sizeof(ek_read_public), ek, eklen), 0);
	return fd;
}

/* "State survives guest restarts; deleting a guest deletes it": the same EK
 * and an owner NV index written before a restart are there after it; after
 * swtpm_delete the next start manufactures a new TPM (another EK, no index). */
static void test_state_survives_restart(void **state)
{
	struct fixture *f = *state;
	uint8_t ek1[TPM_MAX_MSG], ek2[TPM_MAX_MSG], rsp[TPM_MAX_MSG];
	size_t ek1len, ek2len, rlen;
	struct swtpm tpm;
	int fd;

	fd = start_read_ek(f, &tpm, ek1, &ek1len);
	assert_int_equal(raw(fd, nv_define, sizeof(nv_define), rsp, &rlen), 0);
	assert_int_equal(raw(fd, nv_write, sizeof(nv_write), rsp, &rlen), 0);
	close(fd);
	assert_int_equal(swtpm_stop(&tpm), 0);

	fd = start_read_ek(f, &tpm, ek2, &ek2len);
	assert_int_equal(ek2len, ek1len);
	assert_memory_equal(ek2, ek1, ek1len);
	assert_int_equal(raw(fd, nv_read, sizeof(nv_read), rsp, &rlen), 0);
	assert_int_equal(rlen, 10 + 4 + 2 + 8 + 5);   /* header, paramSize, data, auth */
	assert_memory_equal(rsp + 16, "survives", 8);
	close(fd);
	assert_int_equal(swtpm_stop(&tpm), 0);

	assert_int_equal(swtpm_delete(&f->cfg), 0);
	fd = start_read_ek(f, &tpm, ek2, &ek2len);
	assert_false(ek2len == ek1len && !memcmp(ek2, ek1, ek1len));
	assert_int_not_equal(raw(fd, nv_read, sizeof(nv_read), rsp, &rlen), 0);
	close(fd);
	assert_int_equal(swtpm_stop(&tpm), 0);
	assert_int_equal(swtpm_delete(&f->cfg), 0);
}

/* ---- the jail, read from the live swtpm --------------------------------- */

#define SWTPM_TEST_UID (JAIL_VTPM_ID_BASE + 4242u)

/* The value of "key:" in /proc/PID/status. */
static void status_field(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *st;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	st = fopen(path, "r");
	assert_non_null(st);
	out[0] = '\0';
	while (fgets(line, sizeof(line), st))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			snprintf(out, size, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(st);
}

static int same_link(pid_t pid, const char *ns)
{
	char a[128], b[128], pa[64], pb[64];
	ssize_t n, m;

	snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)pid, ns);
	snprintf(pb, sizeof(pb), "/proc/self/ns/%s", ns);
	n = readlink(pa, a, sizeof(a) - 1);
	m = readlink(pb, b, sizeof(b) - 1);
	assert_true(n > 0 && m > 0);
	return n == m && !memcmp(a, b, (size_t)n);
}

/* Every drop, as the kernel shows it, while the TPM answers commands. */
static void test_confined(void **state)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "net", "cgroup" };
	struct fixture *f = *state;
	char v[128], want[64], path[256];
	struct stat a, b;
	struct swtpm tpm;
	int fd;

	f->cfg.uid = SWTPM_TEST_UID;
	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(tpm.uid, SWTPM_TEST_UID);
	assert_int_equal(tpm.gid, SWTPM_TEST_UID);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", SWTPM_TEST_UID, SWTPM_TEST_UID,
		 SWTPM_TEST_UID, SWTPM_TEST_UID);
	status_field(tpm.pid, "Uid", v, sizeof(v));
	assert_string_equal(v, want);
	status_field(tpm.pid, "Gid", v, sizeof(v));
	assert_string_equal(v, want);
	status_field(tpm.pid, "Groups", v, sizeof(v));
	assert_string_equal(v, "");
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		status_field(tpm.pid, caps[i], v, sizeof(v));
		assert_string_equal(v, "0000000000000000");
	}
	status_field(tpm.pid, "NoNewPrivs", v, sizeof(v));
	assert_string_equal(v, "1");
	status_field(tpm.pid, "Seccomp", v, sizeof(v));
	assert_string_equal(v, "2");
	status_field(tpm.pid, "Seccomp_filters", v, sizeof(v));
	assert_string_equal(v, "2");                 /* Bulwark's + swtpm's own */
	status_field(tpm.pid, "NSpid", v, sizeof(v));
	assert_string_equal(strrchr(v, '\t') ? strrchr(v, '\t') + 1 : v, "1");
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		assert_false(same_link(tpm.pid, ns[i]));
	/* Its root is not ours; the state directory is the only writable
	 * place in it, and the key directory is not there at all. */
	snprintf(path, sizeof(path), "/proc/%d/root/", (int)tpm.pid);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(stat("/", &b), 0);
	assert_false(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)tpm.pid, f->keys);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "/proc/%d/root%s/tpm2-00.permall", (int)tpm.pid, f->state);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(a.st_uid, SWTPM_TEST_UID);
	snprintf(path, sizeof(path), "%s/.lock", f->state);   /* swtpm's own */
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(a.st_uid, SWTPM_TEST_UID);
	assert_int_equal(stat(f->state, &a), 0);
	assert_int_equal(a.st_uid, SWTPM_TEST_UID);
	assert_int_equal(a.st_mode & 07777, 0700);
	/* The launcher's own check agrees, and refuses a process that is not
	 * confined (this test's, root with every capability). */
	assert_int_equal(swtpm_jail_verify("t", tpm.pid, tpm.uid, tpm.gid), 0);
	assert_int_equal(swtpm_jail_verify("t", getpid(), tpm.uid, tpm.gid), -EPERM);
	assert_int_equal(swtpm_jail_verify("t", tpm.pid, tpm.uid + 1, tpm.gid), -EPERM);
	/* And the confined TPM works. */
	assert_int_equal(swtpm_open_data(&tpm, &fd), 0);
	check_extend(fd);
	close(fd);
	assert_int_equal(swtpm_stop(&tpm), 0);
	/* The default id is not root either, and differs from the VMM's. */
	f->cfg.uid = 0;
	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_true(tpm.uid >= JAIL_VTPM_ID_BASE && tpm.uid < JAIL_VTPM_ID_BASE + JAIL_ID_SLOTS);
	assert_int_equal(swtpm_stop(&tpm), 0);
}

/* Bulwark's filter for swtpm, in a forked child: what it allows works,
 * ioctl answers ENOTTY, and each call it leaves out kills the process. */
static int filtered_child(int what)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct termios t;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || swtpm_filter_install())
			_exit(10);
		if (getpid() <= 0 || ioctl(2, TCGETS, &t) != -1 || errno != ENOTTY)
			syscall(SYS_exit_group, 11);
		switch (what) {
		case 1: syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); break;
		case 2: syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); break;
		case 3: syscall(SYS_ptrace, 0, 0, 0, 0); break;
		case 4: syscall(SYS_kill, getppid(), 0); break;
		case 5: syscall(SYS_connect, 0, 0, 0); break;
		default: break;
		}
		/* Not _exit: the sanitizer build's exit path makes calls
		 * swtpm never does. */
		syscall(SYS_exit_group, 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

static void test_filter(void **state)
{
	(void)state;
	assert_int_equal(filtered_child(0), 0);
	for (int what = 1; what <= 5; what++)
		assert_int_equal(filtered_child(what), -SIGSYS);
}

/* In a child of the test: the capability `cap` gone from every set but the
 * bounding one (as if the launcher lacked it), then a start.  Exit 0 when
 * the start failed and nothing runs. */
static int start_without(struct fixture *f, int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct swtpm tpm;
	int status, rc;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (syscall(SYS_capget, &h, d))
			_exit(10);
		d[cap / 32].effective &= ~(1u << (cap % 32));
		d[cap / 32].permitted &= ~(1u << (cap % 32));
		if (syscall(SYS_capset, &h, d))
			_exit(11);
		rc = swtpm_start(&f->cfg, &tpm);
		_exit(rc < 0 && tpm.pid == 0 ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + status;
}

/* Fail closed: when the kernel refuses a drop, no swtpm runs. */
static void test_drop_fails(void **state)
{
	struct fixture *f = *state;
	struct swtpm tpm;

	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);      /* provisioned */
	assert_int_equal(swtpm_stop(&tpm), 0);
	/* No CAP_SETUID: the child cannot change its uid and never execs. */
	assert_int_equal(start_without(f, CAP_SETUID), 0);
	/* No CAP_SYS_ADMIN: no namespaces, no clone at all. */
	assert_int_equal(start_without(f, CAP_SYS_ADMIN), 0);
	/* No CAP_SETPCAP: the bounding set cannot be emptied. */
	assert_int_equal(start_without(f, CAP_SETPCAP), 0);
	/* A jail root that does not exist: refused before anything runs. */
	snprintf(f->jail + strlen(f->jail), sizeof(f->jail) - strlen(f->jail), "-gone");
	f->cfg.jail_root = f->jail;
	assert_int_not_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(tpm.pid, 0);
	/* And with everything in place it starts again. */
	f->jail[strlen(f->jail) - 5] = '\0';
	assert_int_equal(swtpm_start(&f->cfg, &tpm), 0);
	assert_int_equal(swtpm_stop(&tpm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_fails, setup, teardown),
		cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests_name("swtpm", tests, NULL, NULL);
}
