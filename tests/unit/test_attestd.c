/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attestd against a real swtpm: a fake launcher poll loop (a thread polling
 * the vTPM proxy and the attestation socket, as core/launch/launcher.c must) around
 * vtpm_start; first-start enrollment with a CA created on first use; clients
 * asking for quotes over the socket; the evidence verified by the verifier's
 * library; hostile and malformed requests refused with their reasons; a
 * client that is not root refused; a slow client does not hold the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/producer/attestd.h"
#include "attest/producer/reference.h"
#include "attest/verify/verify.h"
#include "core/log.h"
#include "core/util.h"
#include "tests/attest8/attest_fixture.h"

#define NAME  "guest-a"
#define LABEL "system_u:system_r:bulwark_vmm_t:s0:c7,c9"

static char root[] = "/tmp/bulwark-test-attestd.XXXXXX";
static struct measure_secstate secstate;

static struct {
	char dir[7][128];           /* state keys ca certs log run var */
	char ak_ca[160], ek_ca[160];
	struct vtpm_config cfg;
	struct attestd_enroll_config ecfg;
	struct measure_boot boot;
	struct vtpm v;
	struct attestd d;
	struct attestd_guest id;
	pthread_t loop;
	int stop_fd, loop_rc, last_rc;
	unsigned long serviced;
} F;

/* The launcher's poll loop, reduced to the two fds attestd.h documents. */
static void *loop_run(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = tpmproxy_fd(&F.v.proxy), .events = tpmproxy_events(&F.v.proxy) },
			{ .fd = attestd_fd(&F.d), .events = POLLIN },
			{ .fd = F.stop_fd, .events = POLLIN },
		};
		int rc;

		if (poll(pfd, 3, tpmproxy_timeout_ms(&F.v.proxy)) < 0 && errno != EINTR) {
			F.loop_rc = -errno;
			break;
		}
		if (pfd[2].revents)
			break;
		rc = tpmproxy_service(&F.v.proxy, pfd[0].revents);
		if (rc && rc != -ENOTCONN) {
			F.loop_rc = rc;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			F.last_rc = attestd_service(&F.d, &F.v, &F.id.g);
			__atomic_add_fetch(&F.serviced, 1, __ATOMIC_SEQ_CST);
			if (F.last_rc == -EIO) {
				F.loop_rc = -EIO;
				break;
			}
		}
	}
	return NULL;
}

static int group_setup(void **state)
{
	static const char *const sub[] = { "state", "keys", "ca", "certs", "boot.log", "run",
					   "var" };

	(void)state;
	log_set_level(LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(root))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		snprintf(F.dir[i], sizeof(F.dir[i]), "%s/%s", root, sub[i]);
	snprintf(F.ak_ca, sizeof(F.ak_ca), "%s/attest-ca/ca.crt", F.dir[6]);
	snprintf(F.ek_ca, sizeof(F.ek_ca), "%s/swtpm-localca-rootca-cert.pem", F.dir[2]);
	mkdir(F.dir[1], 0700);
	secstate = attest_fixture_secstate(LABEL);
	F.boot = attest_fixture_boot(&secstate);
	F.cfg = (struct vtpm_config){ .tpm = { .name = NAME, .state_dir = F.dir[0],
		.key_dir = F.dir[1], .ca_dir = F.dir[2], .cert_dir = F.dir[3],
		.child_setup = attest_fixture_die_with_test }, .boot = &F.boot, .log_path = F.dir[4] };
	if (vtpm_start(&F.cfg, &F.v))
		return -1;
	return 0;
}

static char ca_dir[200], state_dir[200];

/* As the launcher: after vtpm_start, enroll (first start), open the socket. */
static int launcher_attach(void)
{
	snprintf(ca_dir, sizeof(ca_dir), "%s/attest-ca", F.dir[6]);
	snprintf(state_dir, sizeof(state_dir), "%s/%s", F.dir[6], NAME);
	F.ecfg = (struct attestd_enroll_config){ .name = NAME, .state_dir = state_dir,
		.ca_dir = ca_dir, .ek_cert_dir = F.dir[3], .ek_ca_dir = F.dir[2],
		.alg = QUOTE_AK_RSA2048, .days = 30 };
	if (attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &F.id))
		return -1;
	if (attestd_open(F.dir[5], NAME, &F.d))
		return -1;
	F.d.io_timeout_ms = 300;
	F.stop_fd = eventfd(0, EFD_CLOEXEC);
	return F.stop_fd < 0 || pthread_create(&F.loop, NULL, loop_run, NULL) ? -1 : 0;
}

static int group_teardown(void **state)
{
	uint64_t one = 1;
	char cmd[128];

	(void)state;
	if (F.stop_fd > 0 && write(F.stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(F.loop, NULL);
	attestd_close(&F.d);
	attestd_guest_free(&F.id);
	vtpm_stop(&F.v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

/* ---- helpers ---------------------------------------------------------- */

static enum verify_status verify(const char *json, size_t len, const uint8_t *nonce,
				 struct verify_result *res)
{
	int st = attest_fixture_verify(&F.boot, "attestd", F.ak_ca, F.ek_ca, json, len, nonce,
				       res);

	assert_true(st >= 0);
	return (enum verify_status)st;
}

static int sock_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", F.d.sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int e = -errno;

		if (fd >= 0)
			close(fd);
		return e;
	}
	return fd;
}

/* Sends raw bytes, reads the whole reply (NUL-terminated) into out. */
static size_t raw_exchange(const void *req, size_t n, char *out, size_t cap)
{
	int fd = sock_connect();
	size_t len = 0;
	ssize_t r;

	assert_true(fd >= 0);
	if (n)
		assert_int_equal(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	while (len + 1 < cap && (r = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(fd);
	return len;
}

static int random_nonce(uint8_t *nonce, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int ok = fd >= 0 && read(fd, nonce, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------ */

/* First start: CA created, UUID generated, AK enrolled; the loop starts. */
static void test_first_start_enrolls(void **state)
{
	char path[300];
	struct stat st;

	(void)state;
	assert_int_equal(launcher_attach(), 0);
	snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/attest/ak.crt", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(strlen(F.id.uuid), 36);
	assert_int_equal(F.id.uuid[14], '4');
	assert_string_equal(F.id.g.label, LABEL);
	assert_true(F.id.g.ek.nchain >= 1);
	assert_int_equal(stat(F.d.sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* Later starts load the enrollment; a new EK certificate means a new one. */
static void test_restart_keeps_identity(void **state)
{
	struct attestd_guest again;
	struct bundle_chain before;
	char path[300], keep[300], hex[65], line[80];
	uint8_t policy[32];
	FILE *f;

	(void)state;
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &again), 0);
	assert_string_equal(again.uuid, F.id.uuid);
	assert_int_equal(again.g.ak.cert.len, F.id.g.ak.cert.len);
	assert_memory_equal(again.g.ak.cert.data, F.id.g.ak.cert.data, F.id.g.ak.cert.len);
	attestd_guest_free(&again);
	/* The stored EK certificate no longer matches: enroll again, same UUID. */
	snprintf(path, sizeof(path), "%s/attest/ek.crt", state_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("stale", f);
	fclose(f);
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &again), 0);
	assert_string_equal(again.uuid, F.id.uuid);
	assert_true(again.g.ak.cert.len != F.id.g.ak.cert.len ||
		    memcmp(again.g.ak.cert.data, F.id.g.ak.cert.data, F.id.g.ak.cert.len));
	before = again.g.ak;
	again.g.ak = (struct bundle_chain){ 0 };
	attestd_guest_free(&again);
	/* The AK's policy (with the UUID) is recorded; an enrollment without it
	 * (made before the UUID was in the AK's policy) is made again. */
	assert_int_equal(verify_ak_policy(F.id.uuid, policy), 0);
	hex_encode(policy, sizeof(policy), hex);
	snprintf(path, sizeof(path), "%s/attest/ak.policy", state_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, hex, 64), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &again), 0);
	assert_true(again.g.ak.cert.len != before.cert.len ||
		    memcmp(again.g.ak.cert.data, before.cert.data, before.cert.len));
	free(before.cert.data);
	attestd_guest_free(&again);
	/* A malformed UUID file fails closed. */
	snprintf(path, sizeof(path), "%s/uuid", state_dir);
	snprintf(keep, sizeof(keep), "%s/uuid.keep", root);
	assert_int_equal(rename(path, keep), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not-a-uuid\n", f);
	fclose(f);
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &again), -EBADMSG);
	assert_int_equal(rename(keep, path), 0);
}

/*
 * Enrollment bound to the host (issue 15): attestd's part.  host_bind is
 * the launcher's enroll_host_bind, which quotes a real host TPM (tested with
 * a real swtpm in test_host_verify and in the lab by make demo); here it is
 * recorded, to check when attestd calls it, with which AK, and that a
 * failure fails the enrollment.
 */
static struct {
	int calls, fail;
	uint8_t name[2 + 64];
	size_t name_len;
} hb;

static int record_host_bind(const char *out_dir, const char *host_dir, const char *host_tpm,
			    const char *ima_path, const TPMT_PUBLIC *ak)
{
	char path[300];
	FILE *f;

	hb.calls++;
	if (strcmp(host_dir, "/host-attest") || strcmp(host_tpm, "/dev/tpmrm0") ||
	    strcmp(ima_path, "/sys/kernel/security/ima/binary_runtime_measurements") ||
	    quote_name(ak, hb.name, sizeof(hb.name), &hb.name_len))
		return -EINVAL;
	if (hb.fail)
		return -EIO;
	snprintf(path, sizeof(path), "%s/host-enroll.attest", out_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fwrite(hb.name, 1, hb.name_len, f);
	return fclose(f) ? -EIO : 0;
}

static void test_enroll_bound_to_host(void **state)
{
	struct attestd_enroll_config c = F.ecfg;
	struct attestd_guest g;
	char dir[300], path[400];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/host-bound", F.dir[6]);
	c.state_dir = dir;
	c.host_tpm = "/dev/tpmrm0";
	c.host_dir = "/host-attest";
	c.host_bind = record_host_bind;
	snprintf(path, sizeof(path), "%s/attest/host-enroll.attest", dir);
	/* first start: enrolled, then bound to the host with the new AK */
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), 0);
	assert_int_equal(hb.calls, 1);
	assert_true(hb.name_len == 34 && hb.name[0] == 0x00 && hb.name[1] == 0x0b);
	assert_int_equal(stat(path, &st), 0);
	attestd_guest_free(&g);
	/* later starts keep it */
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), 0);
	assert_int_equal(hb.calls, 1);
	attestd_guest_free(&g);
	/* an enrollment without the host quote is made again when the host TPM
	 * is given, and a host quote that cannot be made fails it (closed) */
	assert_int_equal(unlink(path), 0);
	hb.fail = 1;
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), -EIO);
	assert_int_equal(hb.calls, 2);
	hb.fail = 0;
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), 0);
	assert_int_equal(hb.calls, 3);
	assert_int_equal(stat(path, &st), 0);
	attestd_guest_free(&g);
	/* without a host TPM an enrollment made again drops the old host quote
	 * (it binds another AK's Name) */
	c.host_tpm = c.host_dir = NULL;
	c.host_bind = NULL;
	snprintf(path, sizeof(path), "%s/attest/ak.policy", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), 0);
	attestd_guest_free(&g);
	snprintf(path, sizeof(path), "%s/attest/host-enroll.attest", dir);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(hb.calls, 3);
	/* the host TPM without its directory (or without host_bind): refused */
	c.host_tpm = "/dev/tpmrm0";
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), -EINVAL);
	c.host_dir = "/host-attest";
	assert_int_equal(attestd_enroll_if_needed(&c, &F.v, LABEL, &g), -EINVAL);
}

/* A client asks for a quote; the bundle verifies (affirming). */
static void test_quote_over_socket(void **state)
{
	struct attestd_request req = { .op = ATTESTD_OP_QUOTE, .nonce_len = 32 };
	struct verify_result res;
	char msg[128], *body = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(random_nonce(req.nonce, 32), 0);
	assert_int_equal(attestd_request(F.dir[5], NAME, &req, 10000, &body, &len, msg,
					 sizeof(msg)), 0);
	assert_int_equal(verify(body, len, req.nonce, &res), VS_AFFIRMING);
	assert_string_equal(res.label, LABEL);
	free(body);
	/* The same evidence against another nonce is not affirming. */
	assert_int_equal(attestd_request(F.dir[5], NAME, &req, 10000, &body, &len, msg,
					 sizeof(msg)), 0);
	req.nonce[0] ^= 1;
	assert_int_not_equal(verify(body, len, req.nonce, &res), VS_AFFIRMING);
	free(body);
	assert_int_equal(F.loop_rc, 0);
}

static void test_enroll_info(void **state)
{
	struct attestd_request req = { .op = ATTESTD_OP_ENROLL_INFO };
	char msg[128], *body = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(attestd_request(F.dir[5], NAME, &req, 5000, &body, &len, msg,
					 sizeof(msg)), 0);
	assert_non_null(strstr(body, F.id.uuid));
	assert_non_null(strstr(body, "\"ak_cert\":\""));
	assert_non_null(strstr(body, "\"ek_chain\":[\""));
	free(body);
}

/* A migrated guest not (yet) enrolled here: every request, a quote or
 * enroll-info, is answered with the reason and no evidence; served again
 * once it is cleared. */
static void test_refusing_socket(void **state)
{
	static const int ops[] = { ATTESTD_OP_QUOTE, ATTESTD_OP_ENROLL_INFO };
	struct attestd_request req = { .nonce_len = 32 };
	char msg[320], *body = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(random_nonce(req.nonce, 32), 0);
	snprintf(F.d.refuse, sizeof(F.d.refuse), "guest %s is not yet enrolled after a "
		 "migration (its enrollment runs): try again in a moment", NAME);
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		req.op = ops[i];
		req.nonce_len = ops[i] == ATTESTD_OP_QUOTE ? 32 : 0;
		assert_int_equal(attestd_request(F.dir[5], NAME, &req, 5000, &body, &len, msg,
						 sizeof(msg)), -ENOKEY);
		assert_null(body);
		assert_non_null(strstr(msg, "not yet enrolled after a migration"));
	}
	F.d.refuse[0] = '\0';
	req.op = ATTESTD_OP_ENROLL_INFO;
	req.nonce_len = 0;
	assert_int_equal(attestd_request(F.dir[5], NAME, &req, 5000, &body, &len, msg,
					 sizeof(msg)), 0);
	free(body);
	assert_int_equal(F.loop_rc, 0);
}

/* Every malformed request: its own reason, the loop keeps serving. */
static void test_bad_requests_refused(void **state)
{
	static const struct { const char *req, *why; int err; } cases[] = {
		{ "{\"op\":\"quote\"}", "nonce must be", EINVAL },
		{ "{\"op\":\"quote\",\"nonce\":\"00\"}", "nonce must be", EINVAL },
		{ "{\"op\":\"quote\",\"nonce\":\"0123456789ABCDEF0123456789ABCDEF\"}",
		  "malformed value", EINVAL },
		{ "{\"op\":\"quote\",\"op\":\"quote\"}", "unknown or repeated key", EINVAL },
		{ "{\"op\":\"reboot\"}", "unknown op", EINVAL },
		{ "{\"op\":\"enroll-info\",\"x\":\"1\"}", "unknown or repeated key", EINVAL },
		{ "{\"op\":\"enroll-info\"} {}", "trailing bytes", EINVAL },
		{ "{\"op\":\"enroll-info\",\"nonce\":\"00112233445566778899aabbccddeeff\"}",
		  "takes no nonce", EINVAL },
		{ "{\"op\":\"enro\\u006cl-info\"}", "malformed value", EINVAL },
		{ "GET / HTTP/1.0\r\n\r\n", "not one request object", EINVAL },
		{ "", "not one request object", EINVAL },
	};
	char big[ATTESTD_REQ_MAX + 100], out[512], msg[128];
	size_t off, blen, len;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		len = raw_exchange(cases[i].req, strlen(cases[i].req), out, sizeof(out));
		assert_int_equal(attestd_reply_parse((uint8_t *)out, len, &off, &blen, msg,
						     sizeof(msg)), -cases[i].err);
		if (!strstr(msg, cases[i].why))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].req, msg, cases[i].why);
	}
	memset(big, ' ', sizeof(big));
	len = raw_exchange(big, sizeof(big), out, sizeof(out));
	assert_int_equal(attestd_reply_parse((uint8_t *)out, len, &off, &blen, msg, sizeof(msg)),
			 -EMSGSIZE);
	assert_int_equal(F.loop_rc, 0);
}

/* Drops to nobody and asks for enroll-info; the reply's status (or -errno). */
static int as_nobody(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char req[] = "{\"op\":\"enroll-info\"}\n";
	char out[256], msg[128];
	size_t off, blen, len = 0;
	ssize_t r;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return 100;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		return errno == EACCES ? 10 : 101;
	/* The launcher may refuse (and close) before reading: EPIPE is fine. */
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
		return 102;
	shutdown(fd, SHUT_WR);
	while (len + 1 < sizeof(out) && (r = read(fd, out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)r;
	return attestd_reply_parse((uint8_t *)out, len, &off, &blen, msg, sizeof(msg)) == -EPERM &&
	       strstr(msg, "uid 0 only") ? 20 : 103;
}

static int child_status(const char *path)
{
	pid_t pid = fork();
	int st = 0;

	if (!pid)
		_exit(as_nobody(path));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Not root: the socket's mode stops it; were it opened up, SO_PEERCRED does. */
static void test_non_root_refused(void **state)
{
	char dir[200];
	uint64_t before = F.d.refused;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/%s", F.dir[5], NAME);
	assert_int_equal(chmod(root, 0711) | chmod(F.dir[5], 0711) | chmod(dir, 0711), 0);
	assert_int_equal(child_status(F.d.sock_path), 10);    /* EACCES: mode 0600 */
	assert_int_equal(chmod(F.d.sock_path, 0666), 0);
	assert_int_equal(child_status(F.d.sock_path), 20);    /* ERR EPERM */
	assert_int_equal(chmod(F.d.sock_path, 0600) | chmod(dir, 0700) | chmod(root, 0700), 0);
	assert_true(F.d.refused > before);
	assert_int_equal(F.loop_rc, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A client that never finishes its request is dropped after io_timeout_ms. */
static void test_slow_client_bounded(void **state)
{
	int fd = sock_connect();
	uint64_t t0 = now_ms();
	char c;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"op\":", 6), 6);
	assert_true(read(fd, &c, 1) <= 0);           /* closed by the launcher */
	assert_true(now_ms() - t0 < 2000);
	close(fd);
	/* Then the loop serves again. */
	test_enroll_info(state);
}

/* A socket bound at path whose owner is gone. */
static int bind_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc;

	if (fd < 0 || strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc;
}

/* A second launcher for the same guest, symlinks, files where the socket goes. */
static void test_open_is_safe(void **state)
{
	struct attestd d2;
	char path[300];
	int fd;

	(void)state;
	assert_int_equal(attestd_open(F.dir[5], NAME, &d2), -EADDRINUSE);
	assert_int_equal(access(F.d.sock_path, F_OK), 0);        /* still served */
	snprintf(path, sizeof(path), "%s/guest-l", F.dir[5]);
	assert_int_equal(symlink("/tmp", path), 0);
	assert_int_not_equal(attestd_open(F.dir[5], "guest-l", &d2), 0);
	snprintf(path, sizeof(path), "%s/guest-f", F.dir[5]);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/guest-f/%s", F.dir[5], ATTESTD_SOCK_NAME);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(attestd_open(F.dir[5], "guest-f", &d2), -EEXIST);
	assert_int_equal(attestd_open(F.dir[5], "../x", &d2), -EINVAL);
	/* A stale socket (its launcher gone, lock free) is replaced. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(bind_stale(path), 0);
	assert_int_equal(attestd_open(F.dir[5], "guest-f", &d2), 0);
	attestd_close(&d2);
	assert_int_equal(access(path, F_OK), -1);
}

/* build/bin/bulwark beside this test's build/tests (or build/san/...). */
static void bulwark_bin(char *out, size_t cap)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_true(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (snprintf(out, cap, "%s/../bin/bulwark", self) >= (int)cap)
		fail_msg("path too long");
	if (access(out, X_OK))
		fail_msg("%s not built: make build/bin/bulwark (or all)", out);
}

static size_t file_read(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* GET path from 127.0.0.1:port (retried while serve starts): the reply. */
static size_t http_get(int port, const char *path, char *buf, size_t cap)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[256];
	size_t len = 0;
	ssize_t r;
	int fd = -1;

	for (int i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			break;
		close(fd);
		fd = -1;
		usleep(50000);
	}
	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fd);
	return len;
}

/* `bulwark attest` and `bulwark serve` (the real CLI) through the socket. */
static void test_cli_through_the_launcher(void **state)
{
	static char buf[BUNDLE_MAX_SIZE];
	char bin[PATH_MAX], cmd[PATH_MAX * 2], out[300], hex[65], path[200];
	struct verify_result res;
	uint8_t nonce[32];
	int port = 20000 + getpid() % 20000, st;
	const char *body;
	size_t len;
	pid_t pid;

	(void)state;
	bulwark_bin(bin, sizeof(bin));
	assert_int_equal(random_nonce(nonce, 32), 0);
	hex_encode(nonce, 32, hex);
	snprintf(out, sizeof(out), "%s/cli-bundle.json", root);
	snprintf(cmd, sizeof(cmd), "%s attest %s --nonce %s --out %s --run-dir %s >/dev/null",
		 bin, NAME, hex, out, F.dir[5]);
	assert_int_equal(system(cmd), 0);
	len = file_read(out, buf, sizeof(buf));
	assert_int_equal(verify(buf, len, nonce, &res), VS_AFFIRMING);
	snprintf(cmd, sizeof(cmd), "%s attest no-such-guest --nonce %s --out %s --run-dir %s "
		 "2>/dev/null", bin, hex, out, F.dir[5]);
	assert_int_not_equal(system(cmd), 0);
	/* serve: the verifier's nonce forwarded to the named guest's launcher. */
	snprintf(path, sizeof(path), "127.0.0.1:%d", port);
	pid = fork();
	if (!pid) {
		execl(bin, bin, "serve", "--listen", path, "--run-dir", F.dir[5], "--guest", NAME,
		      "--max-requests", "2", (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(random_nonce(nonce, 32), 0);
	hex_encode(nonce, 32, hex);
	snprintf(path, sizeof(path), "/attest/%s?nonce=%s", NAME, hex);
	len = http_get(port, path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 200"));
	body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	assert_int_equal(verify(body, len - (size_t)(body - buf), nonce, &res), VS_AFFIRMING);
	snprintf(path, sizeof(path), "/attest/other?nonce=%s", hex);
	http_get(port, path, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.0 404"));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A self-signed certificate: DER into B (a key no EK anchor knows). */
static void stranger_der(struct bundle_blob *b)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"stranger", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	b->data = malloc((size_t)n);
	assert_non_null(b->data);
	memcpy(b->data, der, (size_t)n);
	b->len = (size_t)n;
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}

/*
 * A live migration's target (issue 18): the source's EK certificate is
 * checked against this host's anchors (a stranger's or a broken one is
 * refused, named); the source's identity adopted makes the next enrollment
 * one of that UUID, with the chain that came (ek-chain.pem), and the AK
 * certificate of the earlier enrollment gone first.  Runs last: it changes
 * the stored enrollment.
 */
static void test_migrated_identity(void **state)
{
	static const char uuid[] = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
	struct bundle_chain bad = F.id.g.ek;
	struct attestd_guest g;
	char why[512], path[300];
	uint8_t junk[3] = { 0x30, 0x01, 0x00 };
	struct stat st;

	(void)state;
	assert_int_equal(attestd_ek_check(F.dir[2], NAME, &F.id.g.ek, why, sizeof(why)), 0);
	stranger_der(&bad.cert);
	assert_int_equal(attestd_ek_check(F.dir[2], NAME, &bad, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "does not chain to this host's EK anchors"));
	free(bad.cert.data);
	bad.cert = (struct bundle_blob){ junk, sizeof(junk) };
	assert_int_equal(attestd_ek_check(F.dir[2], NAME, &bad, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "not one DER certificate"));
	bad = F.id.g.ek;
	bad.chain[0] = (struct bundle_blob){ junk, sizeof(junk) };
	assert_int_equal(attestd_ek_check(F.dir[2], NAME, &bad, why, sizeof(why)), -EBADMSG);
	assert_int_equal(attestd_ek_check("/nonexistent", NAME, &F.id.g.ek, why, sizeof(why)),
			 -EINVAL);
	/* adopted: the UUID, the EK certificate and chain; no AK certificate */
	assert_int_equal(attestd_adopt(&F.ecfg, "not-a-uuid", &F.id.g.ek), -EINVAL);
	assert_int_equal(attestd_adopt(&F.ecfg, uuid, &F.id.g.ek), 0);
	snprintf(path, sizeof(path), "%s/attest/ak.crt", state_dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/" ATTESTD_EK_CHAIN, F.dir[3]);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &g), 0);
	assert_string_equal(g.uuid, uuid);
	assert_int_equal(g.g.ek.nchain, F.id.g.ek.nchain);
	assert_memory_equal(g.g.ek.chain[0].data, F.id.g.ek.chain[0].data,
			    F.id.g.ek.chain[0].len);
	assert_true(g.g.ak.cert.len != F.id.g.ak.cert.len ||
		    memcmp(g.g.ak.cert.data, F.id.g.ak.cert.data, F.id.g.ak.cert.len));
	attestd_guest_free(&g);
}

/* A whole file into a blob (freed by the caller). */
static void file_blob(const char *path, struct bundle_blob *b)
{
	FILE *f = fopen(path, "rb");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 65536);
	rewind(f);
	b->data = malloc((size_t)n);
	assert_non_null(b->data);
	assert_int_equal(fread(b->data, 1, (size_t)n, f), (size_t)n);
	b->len = (size_t)n;
	fclose(f);
}

/*
 * A source that sends ANOTHER TPM's EK certificate, made by the same
 * manufacturer (so it chains to this host's anchors and passes the check
 * at HELLO): the migrated TPM's enrollment must fail (credential
 * activation against an EK that is not this TPM's) and store nothing, so
 * the guest stays unattestable (launch_attestd_reap says so) instead of
 * being attested under a stolen identity.  A second real swtpm, provisioned
 * by the same local CA, gives the other EK.  Runs last.
 */
static void test_migrated_other_tpms_ek(void **state)
{
	static const char uuid[] = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d";
	char dirs[3][160], path[300], why[512];
	struct vtpm_config oc;
	struct vtpm other;
	struct bundle_chain ek = F.id.g.ek;
	struct attestd_guest g;
	struct stat st;

	(void)state;
	snprintf(dirs[0], sizeof(dirs[0]), "%s/state-other", root);
	snprintf(dirs[1], sizeof(dirs[1]), "%s/certs-other", root);
	snprintf(dirs[2], sizeof(dirs[2]), "%s/boot-other.log", root);
	oc = F.cfg;
	oc.tpm.name = "guest-other";
	oc.tpm.state_dir = dirs[0];
	oc.tpm.cert_dir = dirs[1];
	oc.log_path = dirs[2];
	memset(&other, 0, sizeof(other));
	assert_int_equal(vtpm_start(&oc, &other), 0);
	vtpm_stop(&other);
	snprintf(path, sizeof(path), "%s/" ATTESTD_EK_CERT, dirs[1]);
	file_blob(path, &ek.cert);
	assert_true(ek.cert.len != F.id.g.ek.cert.len ||
		    memcmp(ek.cert.data, F.id.g.ek.cert.data, ek.cert.len));
	/* Same maker: HELLO's check passes, as it must (it checks the maker). */
	assert_int_equal(attestd_ek_check(F.dir[2], NAME, &ek, why, sizeof(why)), 0);
	assert_int_equal(attestd_adopt(&F.ecfg, uuid, &ek), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(attestd_enroll_if_needed(&F.ecfg, &F.v, LABEL, &g), -EPERM);
	snprintf(path, sizeof(path), "%s/attest/ak.crt", state_dir);
	assert_int_equal(stat(path, &st), -1);       /* nothing enrolled */
	assert_int_equal(errno, ENOENT);
	free(ek.cert.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start_enrolls),
		cmocka_unit_test(test_restart_keeps_identity),
		cmocka_unit_test(test_enroll_bound_to_host),
		cmocka_unit_test(test_quote_over_socket),
		cmocka_unit_test(test_enroll_info),
		cmocka_unit_test(test_cli_through_the_launcher),
		cmocka_unit_test(test_bad_requests_refused),
		cmocka_unit_test(test_refusing_socket),
		cmocka_unit_test(test_non_root_refused),
		cmocka_unit_test(test_slow_client_bounded),
		cmocka_unit_test(test_open_is_safe),
		cmocka_unit_test(test_migrated_identity),
		cmocka_unit_test(test_migrated_other_tpms_ek),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
