/* SPDX-License-Identifier: Apache-2.0 */
/* attest/measure: canonical encodings and the event sequence (no TPM). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "attest/format/eventlog.h"
#include "attest/vtpm/measure.h"
#include "core/log.h"
#include "core/util.h"

static const uint8_t policy[32] = { 0xaa, [31] = 0xbb };
static const struct measure_filter filters[] = {
	{ .role = "vcpu", .sha256 = { 1 } },
	{ .role = "vmm", .sha256 = { 2 } },
};
static const char *const off_none[] = { NULL };

static struct measure_secstate secstate(void)
{
	return (struct measure_secstate){
		.selinux = MEASURE_SELINUX_ENFORCING, .policy_sha256 = policy,
		.svirt = "dynamic", .label = "system_u:system_r:bulwark_vm_t:s0:c1,c2",
		.seccomp = 1, .filters = filters, .nfilters = ARRAY_SIZE(filters),
		.off = off_none, .noff = 0,
	};
}

static void test_secstate_golden(void **state)
{
	static const char *const off[] = { "vtpm", "seccomp-vcpu" };
	struct measure_secstate s = secstate();
	char buf[2048];
	size_t len;

	(void)state;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf,
		"bulwark-security-state v1\n"
		"protections.off=none\n"
		"seccomp=on\n"
		"seccomp.filter.vcpu.sha256="
		"0100000000000000000000000000000000000000000000000000000000000000\n"
		"seccomp.filter.vmm.sha256="
		"0200000000000000000000000000000000000000000000000000000000000000\n"
		"selinux=enforcing\n"
		"selinux.policy.sha256="
		"aa000000000000000000000000000000000000000000000000000000000000bb\n"
		"svirt=dynamic\n"
		"svirt.label=system_u:system_r:bulwark_vm_t:s0:c1,c2\n");
	s.off = off;
	s.noff = ARRAY_SIZE(off);
	s.selinux = MEASURE_SELINUX_PERMISSIVE;
	s.policy_sha256 = NULL;
	s.label = NULL;
	s.svirt = "off";
	s.nfilters = 0;
	s.seccomp = 0;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), 0);
	assert_string_equal(buf,
		"bulwark-security-state v1\n"
		"protections.off=seccomp-vcpu,vtpm\n"
		"seccomp=off\n"
		"selinux=permissive\n"
		"selinux.policy.sha256=none\n"
		"svirt=off\n"
		"svirt.label=none\n");
}

static void test_secstate_rejects(void **state)
{
	static const struct measure_filter dup[] = { { .role = "vmm" }, { .role = "vmm" } };
	static const struct measure_filter dot[] = { { .role = "a.b" } };
	struct measure_secstate s;
	char buf[2048];
	size_t len;

	(void)state;
	s = secstate();
	s.svirt = "sometimes";
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), -EINVAL);
	s = secstate();
	s.label = "has space";
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), -EINVAL);
	s = secstate();
	s.filters = dup;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), -EINVAL);
	s.filters = dot;
	s.nfilters = 1;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), -EINVAL);
	s = secstate();
	s.selinux = (enum measure_selinux)7;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), -EINVAL);
	s = secstate();
	assert_int_equal(measure_secstate_encode(&s, buf, 100, &len), -ENOSPC);
}

static int parse(const char *text)
{
	struct measure_kv kv[16];

	return measure_secstate_parse((const uint8_t *)text, strlen(text), kv, ARRAY_SIZE(kv));
}

static void test_secstate_parse(void **state)
{
	struct measure_secstate s = secstate();
	struct measure_kv kv[16];
	const struct measure_kv *v;
	char buf[2048];
	size_t len;
	int n;

	(void)state;
	assert_int_equal(measure_secstate_encode(&s, buf, sizeof(buf), &len), 0);
	n = measure_secstate_parse((uint8_t *)buf, len, kv, ARRAY_SIZE(kv));
	assert_int_equal(n, 8);
	v = measure_kv_find(kv, (size_t)n, "svirt.label");
	assert_non_null(v);
	assert_int_equal(v->value_len, strlen(s.label));
	assert_memory_equal(v->value, s.label, v->value_len);
	assert_null(measure_kv_find(kv, (size_t)n, "svirt.lab"));
	assert_int_equal(measure_secstate_parse((uint8_t *)buf, len, kv, 3), -E2BIG);

	assert_int_equal(parse("bulwark-security-state v1\n"), 0);
	assert_int_equal(parse("bulwark-security-state v1\na=1\nb=2\n"), 2);
	assert_int_equal(parse("bulwark-security-state v2\na=1\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\nb=1\na=2\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\na=1\na=1\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\na=1\nb=2"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\na=\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\n=1\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\nA=1\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\na=x y\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\n\n"), -EBADMSG);
	assert_int_equal(parse("bulwark-security-state v1\nab\n"), -EBADMSG);
	/* "a" sorts before "a.b" and "a.b" before "ab". */
	assert_int_equal(parse("bulwark-security-state v1\na=1\na.b=2\nab=3\n"), 3);
}

static int memfd_with(const char *text)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static void test_identity(void **state)
{
	struct measure_identity id = { 0 };
	char buf[1024];
	size_t len;
	int fd = memfd_with("abc");

	(void)state;
	assert_int_equal(measure_identity_encode(&id, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(measure_identity_add(&id, "bulwark-vmm", fd), 0);
	assert_int_equal(measure_identity_add(&id, "bad name", fd), -EINVAL);
	assert_int_equal(measure_identity_encode(&id, buf, sizeof(buf), &len), 0);
	assert_string_equal(buf, "bulwark-vmm-identity v1\n"
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad bulwark-vmm\n");
	close(fd);
}

/* ---- the sequence ------------------------------------------------------- */

static const uint16_t banks2[] = { EVLOG_ALG_SHA256, EVLOG_ALG_SHA384 };

struct inputs {
	char identity[128], config[128], acpi[64], kernel[64], initrd[64], cmdline[64];
	struct measure_secstate sec;
};

static void inputs_default(struct inputs *in)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->identity, sizeof(in->identity), "bulwark-vmm-identity v1\n00 vmm\n");
	snprintf(in->config, sizeof(in->config), "{\"cpus\":1,\"memory\":256}");
	snprintf(in->acpi, sizeof(in->acpi), "RSDP....XSDT....TPM2");
	snprintf(in->kernel, sizeof(in->kernel), "bzImage");
	snprintf(in->initrd, sizeof(in->initrd), "initramfs");
	snprintf(in->cmdline, sizeof(in->cmdline), "console=ttyS0");
	in->sec = secstate();
}

static struct measure_boot boot_of(struct inputs *in, int with_initrd)
{
	return (struct measure_boot){
		.vmm_identity = (uint8_t *)in->identity, .vmm_identity_len = strlen(in->identity),
		.config = (uint8_t *)in->config, .config_len = strlen(in->config),
		.acpi = (uint8_t *)in->acpi, .acpi_len = strlen(in->acpi),
		.security = &in->sec,
		.kernel = { .data = in->kernel, .len = strlen(in->kernel), .fd = -1 },
		.initrd = { .data = with_initrd ? in->initrd : NULL,
			    .len = strlen(in->initrd), .fd = -1 },
		.cmdline = in->cmdline,
	};
}

static void replay_of(struct inputs *in, int with_initrd, struct evlog_pcrs *out)
{
	struct evlog_banks banks = { .count = 2, .alg = { banks2[0], banks2[1] },
				     .size = { 32, 48 } };
	struct measure_boot b = boot_of(in, with_initrd);
	struct evlog_writer w;

	assert_int_equal(measure_boot_run(-1, &banks, &b, &w), 0);
	assert_int_equal(evlog_replay(w.buf, w.len, out, NULL), 0);
	evlog_writer_free(&w);
}

static void test_sequence(void **state)
{
	static const struct { uint32_t pcr, type; const char *label; } want[] = {
		{ 0, EV_POST_CODE, NULL }, { 1, EV_PLATFORM_CONFIG_FLAGS, NULL },
		{ 1, EV_TABLE_OF_DEVICES, "acpi-tables" }, { 7, EV_PLATFORM_CONFIG_FLAGS, NULL },
		{ 0, EV_SEPARATOR, NULL }, { 1, EV_SEPARATOR, NULL }, { 2, EV_SEPARATOR, NULL },
		{ 3, EV_SEPARATOR, NULL }, { 4, EV_SEPARATOR, NULL }, { 5, EV_SEPARATOR, NULL },
		{ 6, EV_SEPARATOR, NULL }, { 7, EV_SEPARATOR, NULL },
		{ 4, EV_EFI_BOOT_SERVICES_APPLICATION, "" }, { 8, EV_IPL, "" },
		{ 9, EV_IPL, "linux-initrd" },
	};
	struct evlog_banks banks = { .count = 2, .alg = { banks2[0], banks2[1] },
				     .size = { 32, 48 } };
	struct inputs in;
	struct measure_boot b;
	struct evlog_writer w;
	struct evlog_parser p;
	struct evlog_event ev;
	size_t i = 0;

	(void)state;
	inputs_default(&in);
	b = boot_of(&in, 1);
	assert_int_equal(measure_boot_run(-1, &banks, &b, &w), 0);
	assert_int_equal(evlog_parse_begin(&p, w.buf, w.len), 0);
	while (evlog_parse_next(&p, &ev) == 1) {
		struct evlog_digest d;

		assert_true(i < ARRAY_SIZE(want));
		assert_int_equal(ev.pcr, want[i].pcr);
		assert_int_equal(ev.type, want[i].type);
		if (ev.type == EV_EFI_BOOT_SERVICES_APPLICATION) {
			uint8_t le[32] = { [8] = 7 };      /* length 7: "bzImage" */

			assert_int_equal(ev.data_size, 32);
			assert_memory_equal(ev.data, le, 32);
		} else if (ev.pcr == 8) {
			static const char cl[] = "kernel_cmdline: console=ttyS0";

			assert_int_equal(ev.data_size, sizeof(cl));
			assert_memory_equal(ev.data, cl, sizeof(cl));
			assert_int_equal(evlog_hash(EVLOG_ALG_SHA384, "console=ttyS0", 13, &d), 0);
			assert_memory_equal(d.bytes, ev.digests[1].bytes, 48);
		} else if (want[i].label) {
			assert_int_equal(ev.data_size, strlen(want[i].label));
			assert_memory_equal(ev.data, want[i].label, ev.data_size);
		} else {  /* data events: the digest is the hash of the data */
			assert_int_equal(evlog_hash(EVLOG_ALG_SHA384, ev.data, ev.data_size, &d), 0);
			assert_memory_equal(d.bytes, ev.digests[1].bytes, 48);
		}
		i++;
	}
	assert_int_equal(i, ARRAY_SIZE(want));
	evlog_writer_free(&w);

	/* Missing kernel, oversized command line: refused before anything. */
	b.kernel.data = NULL;
	assert_int_equal(measure_boot_run(-1, &banks, &b, &w), -EINVAL);
	assert_null(w.buf);
}

/* Changing one input changes exactly the PCRs the table says. */
static void test_one_input_one_pcr(void **state)
{
	struct evlog_pcrs *base = calloc(1, sizeof(*base)), *pcrs = calloc(1, sizeof(*pcrs));
	struct inputs in;
	struct { const char *what; uint32_t pcr_mask; } cases[] = {
		{ "identity", 1u << 0 }, { "config", 1u << 1 }, { "acpi", 1u << 1 },
		{ "security", 1u << 7 }, { "kernel", 1u << 4 }, { "cmdline", 1u << 8 },
		{ "initrd", 1u << 9 }, { "no-initrd", 1u << 9 },
	};

	(void)state;
	assert_non_null(base);
	assert_non_null(pcrs);
	inputs_default(&in);
	replay_of(&in, 1, base);
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		int with_initrd = 1;

		inputs_default(&in);
		switch (c) {
		case 0: in.identity[0] = 'B'; break;
		case 1: in.config[2] = 'C'; break;
		case 2: in.acpi[0] = 'r'; break;
		case 3: in.sec.seccomp = 0; break;
		case 4: in.kernel[0] = 'B'; break;
		case 5: in.cmdline[0] = 'C'; break;
		case 6: in.initrd[0] = 'I'; break;
		default: with_initrd = 0; break;
		}
		replay_of(&in, with_initrd, pcrs);
		for (uint32_t pcr = 0; pcr < EVLOG_NUM_PCRS; pcr++)
			for (int bank = 0; bank < 2; bank++) {
				int same = !memcmp(base->value[bank][pcr], pcrs->value[bank][pcr], 48);
				int should = !(cases[c].pcr_mask & (1u << pcr));

				if (same != should)
					fail_msg("%s: PCR %u bank %d %s", cases[c].what, pcr, bank,
						 same ? "unchanged" : "changed");
			}
	}
	free(base);
	free(pcrs);
}

/* The restore record: encoded, parsed back, and every damaged form refused;
 * a log taken back (measure_log_load) takes the event after the boot's. */
static void test_restore_record(void **state)
{
	static const uint8_t digest[32] = { 0xd1, [31] = 0x9e };
	struct measure_secstate s = secstate();
	struct measure_restore_view v;
	struct evlog_banks banks = { .count = 2, .alg = { banks2[0], banks2[1] },
				     .size = { 32, 48 } };
	struct evlog_writer w, again;
	struct evlog_parser p;
	struct evlog_event ev;
	struct measure_boot b;
	struct inputs in;
	uint8_t buf[MEASURE_MAX_TEXT + 8], bad[MEASURE_MAX_TEXT + 8];
	size_t len = 0, n = 0;
	char sec[MEASURE_MAX_TEXT];

	(void)state;
	assert_int_equal(measure_restore_encode(digest, 1796201445, &s, buf, sizeof(buf), &len), 0);
	assert_int_equal(measure_restore_parse(buf, len, &v), 0);
	assert_memory_equal(v.snapshot_sha256, digest, 32);
	assert_string_equal(v.time, "2026-12-02T08:50:45Z");
	assert_int_equal(measure_secstate_encode(&s, sec, sizeof(sec), &n), 0);
	assert_int_equal(v.secstate_len, n);
	assert_memory_equal(v.secstate, sec, n);
	assert_true(measure_secstate_parse(v.secstate, v.secstate_len, NULL, 0) == -E2BIG);
	/* every truncation (the size field then lies), every single flip of the
	 * fixed parts: tag, size, header, keys, hex, time */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(measure_restore_parse(buf, cut, &v), -EBADMSG);
	for (size_t i = 0; i < 8 + 19 + 17 + 64 + 1 + 25 + 1; i++) {
		memcpy(bad, buf, len);
		bad[i] = i >= 8 + 19 + 16 && i < 8 + 19 + 16 + 64 ? 'G' : bad[i] ^ 0x40;
		if (i == 8 + 19 + 16 - 1)
			continue;       /* '=' ^ 0x40 is '}', still refused below */
		assert_int_equal(measure_restore_parse(bad, len, &v), -EBADMSG);
	}
	memcpy(bad, buf, len);
	memcpy(bad + 8 + 19 + 81 + 5, "2026-13-02T08:50:45Z", 20);    /* month 13 */
	assert_int_equal(measure_restore_parse(bad, len, &v), -EBADMSG);
	assert_int_equal(measure_restore_encode(digest, -1, &s, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(measure_restore_encode(digest, 0, &s, buf, 100, &len), -ENOSPC);

	/* the boot's log back from its bytes, then the restore event */
	inputs_default(&in);
	b = boot_of(&in, 1);
	assert_int_equal(measure_boot_run(-1, &banks, &b, &w), 0);
	assert_int_equal(measure_log_load(&again, w.buf, w.len), 0);
	assert_int_equal(measure_restore_run(-1, &again, digest, 1796201445, &s), 0);
	assert_int_equal(evlog_parse_begin(&p, again.buf, again.len), 0);
	n = 0;
	while (evlog_parse_next(&p, &ev) == 1)
		n++;
	assert_int_equal(n, 16);
	assert_int_equal(ev.pcr, MEASURE_PCR_SECURITY);
	assert_int_equal(ev.type, EV_EVENT_TAG);
	assert_int_equal(measure_restore_parse(ev.data, ev.data_size, &v), 0);
	evlog_writer_free(&again);
	/* a log that is not the launcher's is refused */
	w.buf[40] ^= 1;
	assert_int_equal(measure_log_load(&again, w.buf, w.len), -EBADMSG);
	assert_int_equal(measure_log_load(&again, w.buf, 10), -EBADMSG);
	evlog_writer_free(&w);
}

/* The migration record (issue 18): encoded, parsed back; every
 * truncation and a flip of each fixed part refused; a host name that is
 * not one printable word refused at encoding. */
static void test_migrate_record(void **state)
{
	static const uint8_t stream[32] = { 0x5e, [31] = 0x7a }, cert[32] = { 0xce };
	struct measure_migration mg = { .source_host = "host-a.example",
					.source_cert_sha256 = cert, .stream_sha256 = stream };
	struct measure_secstate s = secstate();
	struct measure_migrate_view v;
	uint8_t buf[MEASURE_MAX_TEXT + 8], bad[MEASURE_MAX_TEXT + 8];
	size_t len = 0, head = 8 + 19 + 27 + 84 + 79 + 26;
	char sec[MEASURE_MAX_TEXT];

	(void)state;
	assert_int_equal(measure_migrate_encode(&mg, 1796201445, &s, buf, sizeof(buf), &len), 0);
	assert_int_equal(measure_event_tag(buf, len), MEASURE_MIGRATE_TAG);
	assert_int_equal(measure_migrate_parse(buf, len, &v), 0);
	assert_string_equal(v.source_host, "host-a.example");
	assert_memory_equal(v.source_cert_sha256, cert, 32);
	assert_memory_equal(v.stream_sha256, stream, 32);
	assert_string_equal(v.time, "2026-12-02T08:50:45Z");
	assert_int_equal(measure_secstate_encode(&s, sec, sizeof(sec), &head), 0);
	assert_int_equal(v.secstate_len, head);
	assert_memory_equal(v.secstate, sec, head);
	head = len - head;          /* the fixed part: tag to the time's newline */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(measure_migrate_parse(buf, cut, &v), -EBADMSG);
	for (size_t i = 0; i < head; i++) {
		memcpy(bad, buf, len);
		bad[i] = bad[i] == '\n' ? ' ' : bad[i] == '=' ? '\n' : '\x01';
		assert_int_equal(measure_migrate_parse(bad, len, &v), -EBADMSG);
	}
	/* a restore record is not a migration record, nor the reverse */
	assert_int_equal(measure_restore_parse(buf, len, (struct measure_restore_view *)sec),
			 -EBADMSG);
	mg.source_host = "host a";
	assert_int_equal(measure_migrate_encode(&mg, 0, &s, buf, sizeof(buf), &len), -EINVAL);
	mg.source_host = "";
	assert_int_equal(measure_migrate_encode(&mg, 0, &s, buf, sizeof(buf), &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secstate_golden),
		cmocka_unit_test(test_secstate_rejects),
		cmocka_unit_test(test_secstate_parse),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_one_input_one_pcr),
		cmocka_unit_test(test_restore_record),
		cmocka_unit_test(test_migrate_record),
	};
	log_set_level(LOG_ERR + 0);
	return cmocka_run_group_tests_name("measure", tests, NULL, NULL);
}
