# core/: the VMM.  Explicit source lists; rules are in the top Makefile.
CORE_COMMON := core/log.c

PROGRAMS += bulwark
bulwark_SRCS := core/main.c $(CORE_COMMON)
bulwark_PKGS :=

UNIT_TESTS += test_log
test_log_SRCS := tests/unit/test_log.c core/log.c
test_log_PKGS := cmocka
