# attest/: vTPM, measured boot, event log, attestation, the verifier.
# Explicit source lists; the rules are in the top Makefile.

# --- vTPM and measured boot (issue 7) ---
ATTEST_EVLOG := attest/eventlog.c core/log.c

UNIT_TESTS += test_eventlog
test_eventlog_SRCS := tests/unit/test_eventlog.c $(ATTEST_EVLOG)
test_eventlog_PKGS := cmocka libcrypto

FUZZ_TARGETS += fuzz_eventlog
fuzz_eventlog_SRCS := tests/fuzz/fuzz_eventlog.c $(ATTEST_EVLOG)
fuzz_eventlog_PKGS := libcrypto

# --- attestation / verifier (issue 8) ---
