# attest/: vTPM, measured boot, event log, attestation, the verifier.
# Explicit source lists; the rules are in the top Makefile.

# --- vTPM and measured boot (issue 7) ---
ATTEST_EVLOG := attest/format/eventlog.c attest/format/evlog_alg.c core/log.c

UNIT_TESTS += test_eventlog
test_eventlog_SRCS := tests/unit/test_eventlog.c $(ATTEST_EVLOG)
test_eventlog_PKGS := cmocka libcrypto

FUZZ_TARGETS += fuzz_eventlog
fuzz_eventlog_SRCS := tests/fuzz/fuzz_eventlog.c attest/format/secstate.c attest/format/tpm.c \
	$(ATTEST_EVLOG)
fuzz_eventlog_PKGS := libcrypto tss2-mu

# swtpm and its jail (the launcher's half of the VMM's jail, core/launch/).
SWTPM_SRCS := attest/vtpm/swtpm.c attest/vtpm/swtpm_jail.c core/launch/jail.c \
	core/launch/jail_fs.c core/launch/jail_child.c core/launch/jail_creds.c \
	core/jail_verify.c core/path.c
ATTEST_VTPM := $(SWTPM_SRCS) attest/format/tpm.c attest/vtpm/measure.c attest/format/secstate.c $(ATTEST_EVLOG)

UNIT_TESTS += test_measure
test_measure_SRCS := tests/unit/test_measure.c $(ATTEST_VTPM)
test_measure_PKGS := cmocka libcrypto tss2-mu

# Integration: real swtpm, checked by tpm2_eventlog and tpm2_pcrread.
UNIT_TESTS += test_measure_vtpm
test_measure_vtpm_SRCS := tests/unit/test_measure_vtpm.c $(ATTEST_VTPM)
test_measure_vtpm_PKGS := cmocka libcrypto tss2-mu

UNIT_TESTS += test_crb
test_crb_SRCS := tests/unit/test_crb.c core/vmm/crb.c $(ATTEST_VTPM)
test_crb_PKGS := cmocka libcrypto tss2-mu

FUZZ_TARGETS += fuzz_crb
fuzz_crb_SRCS := tests/fuzz/fuzz_crb.c core/vmm/crb.c attest/format/tpm.c $(ATTEST_EVLOG)
fuzz_crb_PKGS := tss2-mu libcrypto

UNIT_TESTS += test_swtpm
test_swtpm_SRCS := tests/unit/test_swtpm.c $(ATTEST_VTPM)
test_swtpm_PKGS := cmocka libcrypto tss2-mu

# --- attestation / verifier (issue 8) ---
# The verifier's pure-C parts: bundle + manifest parsers, the checks.  They
# need libcrypto, json-c and tss2-mu only (bulwark-verify links nothing else).
ATTEST_FORMATS := attest/format/bundle.c attest/format/bundle_codec.c attest/format/bundle_json.c \
	attest/format/bundle_write.c attest/format/manifest.c attest/format/manifest_write.c \
	attest/format/eventlog.c attest/format/evlog_alg.c attest/format/imalog.c \
	attest/format/bundle_host.c attest/format/bundle_hop.c attest/format/host_allow.c core/json.c core/path.c core/log.c
ATTEST_VERIFY := attest/verify/verify_host.c attest/verify/verify.c attest/verify/verify_certs.c attest/verify/verify_quote.c \
	attest/verify/verify_log.c attest/verify/verify_ref.c attest/verify/verify_reasons.c \
	attest/verify/verify_store.c attest/verify/ear.c \
	attest/format/secstate.c attest/format/tpm.c $(ATTEST_FORMATS)
ATTEST_VERIFY_PKGS := libcrypto json-c tss2-mu

PROGRAMS += bulwark-verify
bulwark-verify_SRCS := attest/verify/verify_main.c core/args.c $(ATTEST_VERIFY)
bulwark-verify_PKGS := $(ATTEST_VERIFY_PKGS)

FUZZ_TARGETS += fuzz_bundle
fuzz_bundle_SRCS := tests/fuzz/fuzz_bundle.c $(ATTEST_VERIFY)
fuzz_bundle_PKGS := $(ATTEST_VERIFY_PKGS)

FUZZ_TARGETS += fuzz_manifest
fuzz_manifest_SRCS := tests/fuzz/fuzz_manifest.c $(ATTEST_FORMATS)
fuzz_manifest_PKGS := libcrypto json-c

# --- vTPM proxy and launch (issue 7, part 2) ---
ATTEST_PROXY := attest/vtpm/tpmproxy.c attest/format/tpm.c $(ATTEST_EVLOG)
ATTEST_LAUNCH := attest/vtpm/vtpm.c attest/vtpm/tpmproxy.c $(ATTEST_VTPM)

# The proxy against the real swtpm: guest and host commands, hostile frames.
UNIT_TESTS += test_tpmproxy
test_tpmproxy_SRCS := tests/unit/test_tpmproxy.c $(SWTPM_SRCS) $(ATTEST_PROXY)
test_tpmproxy_PKGS := cmocka libcrypto tss2-mu

# vtpm_start/reboot/stop with the real swtpm, through the CRB and the proxy.
UNIT_TESTS += test_vtpm
test_vtpm_SRCS := tests/unit/test_vtpm.c core/vmm/crb.c $(ATTEST_LAUNCH)
test_vtpm_PKGS := cmocka libcrypto tss2-mu

FUZZ_TARGETS += fuzz_tpmproxy
fuzz_tpmproxy_SRCS := tests/fuzz/fuzz_tpmproxy.c $(ATTEST_PROXY)
fuzz_tpmproxy_PKGS := tss2-mu libcrypto

# Time of vtpm_start (swtpm start + measured boot), median of runs.
LAB_TOOLS += bench-vtpm-start
bench-vtpm-start_SRCS := tests/bench/bench_vtpm_start.c $(ATTEST_LAUNCH)
bench-vtpm-start_PKGS := libcrypto tss2-mu

# The launcher's side: enrollment, quotes, reference values.
ATTEST_PRODUCER := attest/producer/enroll.c attest/producer/quote.c attest/producer/quote_collect.c attest/vtpm/measure.c \
	attest/producer/reference.c

UNIT_TESTS += test_verify
test_verify_SRCS := tests/unit/test_verify.c $(ATTEST_PRODUCER) $(SWTPM_SRCS) \
	$(ATTEST_VERIFY)
test_verify_PKGS := cmocka $(ATTEST_VERIFY_PKGS)

# bulwark enroll / attest / reference / serve.
bulwark_SRCS += attest/producer/cmd_attest.c attest/producer/cmd_attest_source.c attest/producer/cmd_reference.c \
	attest/producer/service.c $(SWTPM_SRCS) $(ATTEST_PRODUCER) $(ATTEST_VERIFY)
bulwark_PKGS += $(ATTEST_VERIFY_PKGS) libssl

# Real evidence for the CLI test and the benchmark (tests/attest8/fixture.c).
LAB_TOOLS += attest8-fixture
attest8-fixture_SRCS := tests/attest8/fixture.c $(SWTPM_SRCS) attest/vtpm/measure.c $(ATTEST_VERIFY)
attest8-fixture_PKGS := $(ATTEST_VERIFY_PKGS)

# The attestation commands end to end on the host (real swtpm, tpm2_checkquote).
LAB_TESTS += tests/lab/test-attest-cli

# bulwark-verify beside tpm2_checkquote on the same real quotes (make bench).
BENCHES += tests/bench/bench-verify

FUZZ_TARGETS += fuzz_verify
fuzz_verify_SRCS := tests/fuzz/fuzz_verify.c $(ATTEST_VERIFY)
fuzz_verify_PKGS := $(ATTEST_VERIFY_PKGS)

# Quotes on a running guest's vTPM through the launcher's proxy (real swtpm).
UNIT_TESTS += test_quote_vtpm
test_quote_vtpm_SRCS := tests/unit/test_quote_vtpm.c attest/producer/quote_vtpm.c \
	$(ATTEST_PRODUCER) attest/vtpm/vtpm.c attest/vtpm/tpmproxy.c $(SWTPM_SRCS) \
	$(ATTEST_VERIFY)
test_quote_vtpm_PKGS := cmocka $(ATTEST_VERIFY_PKGS)

# --- attestation control channel: launcher <-> bulwark attest/serve ---
# attestd.c/attestd_enroll.c run in the launcher (its poll loop); the wire
# format and the client are shared with the CLI.
ATTESTD_WIRE := attest/producer/attestd_wire.c
ATTESTD_SRCS := attest/producer/attestd.c attest/producer/attestd_enroll.c attest/producer/quote_vtpm.c $(ATTESTD_WIRE)
# The launcher (core/launch/launch_loop.c) calls attestd when it is linked.
bulwark_SRCS += $(ATTESTD_SRCS)

# attestd with a fake launcher loop around a real vtpm_start (real swtpm).
UNIT_TESTS += test_attestd
test_attestd_SRCS := tests/unit/test_attestd.c $(ATTESTD_SRCS) $(ATTEST_PRODUCER) \
	attest/vtpm/vtpm.c attest/vtpm/tpmproxy.c $(SWTPM_SRCS) $(ATTEST_VERIFY)
test_attestd_PKGS := cmocka $(ATTEST_VERIFY_PKGS)

# The request parser runs on a peer's bytes in the launcher; the reply parser
# on the launcher's bytes in the client.
FUZZ_TARGETS += fuzz_attestd
fuzz_attestd_SRCS := tests/fuzz/fuzz_attestd.c $(ATTESTD_WIRE) attest/format/bundle_codec.c core/path.c \
	$(ATTEST_EVLOG)
fuzz_attestd_PKGS := libcrypto
# test_attestd also runs the real `bulwark attest` and `bulwark serve`.
$(O)/tests/test_attestd: | $(O)/bin/bulwark

# --- the SELinux policy digest (libsepol's canonical image; policy_digest.h) ---
# The launcher measures it from the kernel's policy, `bulwark reference
# --policy` from the .pol file; libsepol is linked statically (policy.mk).
bulwark_SRCS += attest/vtpm/policy_digest.c

UNIT_TESTS += test_policy_digest
test_policy_digest_SRCS := tests/unit/test_policy_digest.c attest/vtpm/policy_digest.c \
	$(ATTEST_FORMATS)
test_policy_digest_PKGS := cmocka libcrypto json-c
test_policy_digest_LDLIBS := -l:libsepol.a
$(O)/tests/test_policy_digest: | build/policy/standalone.pol

# The policy file given to `bulwark reference` is the auditor's input.
FUZZ_TARGETS += fuzz_policy_digest
fuzz_policy_digest_SRCS := tests/fuzz/fuzz_policy_digest.c attest/vtpm/policy_digest.c core/log.c
fuzz_policy_digest_PKGS := libcrypto
fuzz_policy_digest_LDLIBS := -l:libsepol.a
attest8-fixture_SRCS += attest/vtpm/policy_digest.c
attest8-fixture_LDLIBS := -l:libsepol.a
$(O)/lab/bin/attest8-fixture: | build/policy/standalone.pol
test_verify_WRAP := reallocarray
# Set-up shared by the attestation tests (tests/attest8/attest_fixture.h).
ATTEST_TEST_FIXTURE := tests/attest8/attest_fixture.c
test_verify_SRCS += $(ATTEST_TEST_FIXTURE)
test_quote_vtpm_SRCS += $(ATTEST_TEST_FIXTURE)
test_attestd_SRCS += $(ATTEST_TEST_FIXTURE)
attest8-fixture_SRCS += $(ATTEST_TEST_FIXTURE)
test_quote_vtpm_SRCS += tests/attest8/attest_fixture_verify.c
test_attestd_SRCS += tests/attest8/attest_fixture_verify.c

# A stock guest's own vTPM in the lab (issue 7): its log's replay equals its
# PCRs and is the host's log; the VMM never held a swtpm channel; delete.
LAB_TESTS += tests/lab/test-vtpm

# --- the host's evidence (issue 15): its IMA list (ima-ng), PCR 10 replay ---
ATTEST_IMALOG := attest/format/imalog.c attest/format/evlog_alg.c attest/format/eventlog.c \
	core/log.c

UNIT_TESTS += test_host_imalog
test_host_imalog_SRCS := tests/unit/test_host_imalog.c $(ATTEST_IMALOG)
test_host_imalog_PKGS := cmocka libcrypto

# The list comes from the host operator: untrusted bytes for the verifier.
FUZZ_TARGETS += fuzz_imalog
fuzz_imalog_SRCS := tests/fuzz/fuzz_imalog.c $(ATTEST_IMALOG)
fuzz_imalog_PKGS := libcrypto

# The host's appraisal against a real swtpm standing in for the host TPM.
UNIT_TESTS += test_host_verify
# The producer's half: the host quote bound to a guest quote, the IMA prefix.
bulwark_SRCS += attest/producer/host_quote.c attest/producer/host_allow_build.c \
	attest/producer/cmd_attest_host.c attest/producer/cmd_attest_hop.c attest/producer/cmd_enroll_host.c
test_host_verify_SRCS := tests/unit/test_host_verify.c $(ATTEST_TEST_FIXTURE) attest/producer/host_quote.c \
	$(ATTEST_PRODUCER) $(SWTPM_SRCS) $(ATTEST_VERIFY)
test_host_verify_PKGS := cmocka $(ATTEST_VERIFY_PKGS)

# The host allowlist (host_allow.h): the auditor's file, maybe handed over.
HOST_ALLOW_SRCS := attest/format/host_allow.c attest/format/bundle_codec.c core/path.c \
	$(ATTEST_IMALOG)
UNIT_TESTS += test_host_allow
test_host_allow_SRCS := tests/unit/test_host_allow.c attest/producer/host_allow_build.c \
	core/launch/file_digest.c \
	$(HOST_ALLOW_SRCS)
test_host_allow_PKGS := cmocka libcrypto
FUZZ_TARGETS += fuzz_host_allow
fuzz_host_allow_SRCS := tests/fuzz/fuzz_host_allow.c $(HOST_ALLOW_SRCS)
fuzz_host_allow_PKGS := libcrypto
# The forgery of issue 15 and the honest host, on a lab host with IMA and a
# swtpm-backed host TPM (lab-run --host-tpm; about 95 s of lab time).
LAB_TESTS += tests/lab/test-host-evidence
# test_host_verify also runs the real `bulwark attest --host-tpm`.
$(O)/tests/test_host_verify: | $(O)/bin/bulwark

# bench-verify with host evidence: a stand-in kernel IMA over a real swtpm.
LAB_TOOLS += ima-fill
ima-fill_SRCS := tests/bench/ima_fill.c attest/format/tpm.c $(ATTEST_IMALOG)
ima-fill_PKGS := libcrypto tss2-mu

# --- snapshot and restore (issue 17): the vTPM's state blobs ---
# Two real swtpm, tpm2-tools: a key, NV and PCRs move with the three blobs.
UNIT_TESTS += test_swtpm_state
test_swtpm_state_SRCS := tests/unit/test_swtpm_state.c $(ATTEST_VTPM)
test_swtpm_state_PKGS := cmocka libcrypto tss2-mu
# The restore event on a running vTPM (measure_restore, through the proxy).
bulwark_SRCS += attest/vtpm/measure_restore.c
# The launcher's restore of a vTPM: blobs into a fresh vtpm_start, the
# snapshot's log back, measure_restore through the proxy (real swtpm).
UNIT_TESTS += test_vtpm_restore
test_vtpm_restore_SRCS := tests/unit/test_vtpm_restore.c attest/vtpm/measure_restore.c \
	$(ATTEST_LAUNCH)
test_vtpm_restore_PKGS := cmocka libcrypto tss2-mu
