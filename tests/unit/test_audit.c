/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/launch/audit.c: the text of each record, field by field as libvirt
 * writes it (src/conf/domain_audit.c), the encoding of what an operator
 * chose by libaudit's own rule (quoted, or hex when it holds a space, a
 * quote or a byte outside 0x21..0x7e), words and numbers refused when they
 * are not, and the writer: each record's type and res=, and a host where
 * records go nowhere said once (audit_open and audit_log_user_message
 * wrapped: libaudit itself, unwrapped, formats).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/launch/audit.h"
#include "core/log.h"

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"

static const struct audit_guest guest = { "web1", UUID, 4242 };

static void test_control(void **state)
{
	char buf[512];
	struct audit_guest g = { "web1", NULL, 0 };
	int n;

	(void)state;
	n = audit_format_control(buf, sizeof(buf), &guest, "start", "booted");
	assert_string_equal(buf, "virt=kvm op=start reason=booted vm=\"web1\" uuid=" UUID
			    " vm-pid=4242");
	assert_int_equal(n, strlen(buf));
	audit_format_control(buf, sizeof(buf), &g, "stop", "power-off");
	assert_string_equal(buf, "virt=kvm op=stop reason=power-off vm=\"web1\" uuid=? vm-pid=0");
	/* live migration (issue 18): both sides' records */
	audit_format_control(buf, sizeof(buf), &g, "migrate-out", "unknown-outcome");
	assert_string_equal(buf, "virt=kvm op=migrate-out reason=unknown-outcome vm=\"web1\" "
			    "uuid=? vm-pid=0");
	audit_format_control(buf, sizeof(buf), &g, "migrate-in", "untrusted-host");
	assert_string_equal(buf, "virt=kvm op=migrate-in reason=untrusted-host vm=\"web1\" "
			    "uuid=? vm-pid=0");
}

/* libaudit's rule: a name with a space, a quote, a control byte or a byte
 * above 0x7e is written in upper-case hex without quotes. */
static void test_name_encoding(void **state)
{
	char buf[512];
	struct audit_guest g = guest;

	(void)state;
	g.name = "a b";
	audit_format_control(buf, sizeof(buf), &g, "start", "booted");
	assert_non_null(strstr(buf, " vm=612062 uuid="));
	g.name = "x\"y";
	audit_format_control(buf, sizeof(buf), &g, "start", "booted");
	assert_non_null(strstr(buf, " vm=782279 "));
	g.name = "n\n";
	audit_format_control(buf, sizeof(buf), &g, "start", "booted");
	assert_non_null(strstr(buf, " vm=6E0A "));
	g.name = "\xc3\xa9";
	audit_format_control(buf, sizeof(buf), &g, "start", "booted");
	assert_non_null(strstr(buf, " vm=C3A9 "));
	g.name = "web-1_a.b";
	audit_format_control(buf, sizeof(buf), &g, "start", "booted");
	assert_non_null(strstr(buf, " vm=\"web-1_a.b\" "));
}

static void test_machine_id(void **state)
{
	char buf[512];

	(void)state;
	audit_format_machine_id(buf, sizeof(buf), &guest,
				"system_u:system_r:bulwark_vmm_t:s0:c3,c7",
				"system_u:object_r:bulwark_image_t:s0:c3,c7");
	assert_string_equal(buf, "virt=kvm vm=\"web1\" uuid=" UUID
			    " vm-ctx=system_u:system_r:bulwark_vmm_t:s0:c3,c7"
			    " img-ctx=system_u:object_r:bulwark_image_t:s0:c3,c7 model=selinux");
	/* A context that could not be bare is hex, never raw. */
	audit_format_machine_id(buf, sizeof(buf), &guest, "a b", NULL);
	assert_non_null(strstr(buf, " vm-ctx=612062 img-ctx=? "));
}

static void test_resources(void **state)
{
	char buf[512];

	(void)state;
	audit_format_resource(buf, sizeof(buf), &guest, "disk", "start", NULL,
			      "/var/lib/bulwark/images/web1.raw");
	assert_string_equal(buf, "virt=kvm resrc=disk reason=start vm=\"web1\" uuid=" UUID
			    " old-disk=\"?\" new-disk=\"/var/lib/bulwark/images/web1.raw\"");
	audit_format_resource(buf, sizeof(buf), &guest, "disk", "start", NULL, "/img/my disk");
	assert_non_null(strstr(buf, " new-disk=2F696D672F6D79206469736B"));
	audit_format_resource(buf, sizeof(buf), &guest, "net", "start", NULL,
			      "52:54:00:12:34:56");
	assert_non_null(strstr(buf, "resrc=net reason=start vm=\"web1\" uuid=" UUID
			       " old-net=\"?\" new-net=\"52:54:00:12:34:56\""));
	audit_format_resource(buf, sizeof(buf), &guest, "mem", "start", "0", "1048576");
	assert_non_null(strstr(buf, "resrc=mem reason=start vm=\"web1\" uuid=" UUID
			       " old-mem=0 new-mem=1048576"));
	audit_format_resource(buf, sizeof(buf), &guest, "vcpu", "start", "0", "2");
	assert_non_null(strstr(buf, " old-vcpu=0 new-vcpu=2"));
	audit_format_resource(buf, sizeof(buf), &guest, "tpm-emulator", "start", NULL,
			      "/var/lib/bulwark/web1/vtpm");
	assert_string_equal(buf, "virt=kvm resrc=tpm-emulator reason=start vm=\"web1\" uuid="
			    UUID " device=\"/var/lib/bulwark/web1/vtpm\"");
}

/* Words and numbers Bulwark writes bare are refused when they are not. */
static void test_refused(void **state)
{
	char buf[512], tiny[16];
	struct audit_guest g = guest;

	(void)state;
	assert_int_equal(audit_format_control(buf, sizeof(buf), &guest, "start", "a b"), -EINVAL);
	assert_int_equal(audit_format_control(buf, sizeof(buf), &guest, "St", "x"), -EINVAL);
	assert_int_equal(audit_format_control(buf, sizeof(buf), &guest, "", "x"), -EINVAL);
	assert_int_equal(audit_format_resource(buf, sizeof(buf), &guest, "mem", "start",
					       "0", "1 2"), -EINVAL);
	assert_int_equal(audit_format_resource(buf, sizeof(buf), &guest, "vcpu", "start",
					       NULL, "2"), -EINVAL);
	assert_int_equal(audit_format_resource(buf, sizeof(buf), &guest, "disk x", "start",
					       NULL, "/a"), -EINVAL);
	g.uuid = "not-a-uuid";
	assert_int_equal(audit_format_control(buf, sizeof(buf), &g, "start", "booted"), -EINVAL);
	g.uuid = "0F8FAD5B-D9CB-469F-A165-70867728950E";
	assert_int_equal(audit_format_control(buf, sizeof(buf), &g, "start", "booted"), -EINVAL);
	assert_int_equal(audit_format_control(tiny, sizeof(tiny), &guest, "start", "booted"),
			 -ENOSPC);
}

/* The writer, with libaudit's two system calls wrapped. */
static int open_result = 7, send_result = 1, sends, opens, warns;
static int last_type, last_result;
static char last_text[1024];

int __wrap_audit_open(void);
int __wrap_audit_open(void)
{
	opens++;
	if (open_result < 0)
		errno = EPROTONOSUPPORT;
	return open_result;
}

int __wrap_audit_log_user_message(int fd, int type, const char *message, const char *hostname,
				  const char *addr, const char *tty, int result);
int __wrap_audit_log_user_message(int fd, int type, const char *message, const char *hostname,
				  const char *addr, const char *tty, int result)
{
	assert_int_equal(fd, open_result);
	assert_null(hostname);
	assert_null(addr);
	assert_null(tty);
	sends++;
	last_type = type;
	last_result = result;
	snprintf(last_text, sizeof(last_text), "%s", message);
	if (send_result <= 0)
		errno = ECONNREFUSED;
	return send_result;
}

int __wrap_audit_close(int fd);
int __wrap_audit_close(int fd)
{
	(void)fd;
	return 0;
}

void __real_log_msg(enum log_level level, const char *func, const char *fmt, ...);
void __wrap_log_msg(enum log_level level, const char *func, const char *fmt, ...);
void __wrap_log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	(void)func;
	(void)fmt;
	if (level == LOG_WARN)
		warns++;
}

static void test_writer(void **state)
{
	(void)state;
	audit_machine_id(&guest, "system_u:system_r:bulwark_vmm_t:s0:c1,c2", NULL, true);
	assert_int_equal(last_type, 2502);
	assert_int_equal(last_result, 1);
	assert_non_null(strstr(last_text, "vm-ctx=system_u:system_r:bulwark_vmm_t:s0:c1,c2"));
	audit_resource(&guest, "vcpu", "start", "0", "2", true);
	assert_int_equal(last_type, 2501);
	audit_control(&guest, "start", "config", false);
	assert_int_equal(last_type, 2500);
	assert_int_equal(last_result, 0);
	assert_string_equal(last_text, "virt=kvm op=start reason=config vm=\"web1\" uuid=" UUID
			    " vm-pid=4242");
	assert_int_equal(opens, 1);
	assert_int_equal(sends, 3);
	assert_int_equal(warns, 0);
}

/* A kernel that takes no records (ECONNREFUSED: no audit): said once,
 * then nothing more is tried; the caller goes on. */
static void test_writer_nowhere(void **state)
{
	(void)state;
	send_result = 0;
	audit_control(&guest, "start", "booted", true);
	audit_control(&guest, "stop", "power-off", true);
	audit_resource(&guest, "mem", "start", "0", "1024", true);
	assert_int_equal(sends, 4);
	assert_int_equal(warns, 1);
}

/* No audit in the kernel at all (audit_open fails): said once, nothing
 * sent.  In a child that runs before any other writer test, so that its
 * writer has never opened (the writer's state is per process). */
static void test_writer_no_audit(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		open_result = -1;
		audit_control(&guest, "start", "booted", true);
		audit_control(&guest, "stop", "power-off", true);
		_exit(opens == 1 && sends == 0 && warns == 1 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_name_encoding),
		cmocka_unit_test(test_machine_id),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_writer_no_audit),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_nowhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
