# Bulwark: one non-recursive GNU Makefile.
#
# The rules live here.  Each subsystem states its explicit source lists in a
# fragment beside its code (core/core.mk, svirt/svirt.mk, ...), included
# below: the fragments only assign variables, they hold no rules.
#
#   make              everything into build/
#   make check        unit tests, fuzz regression corpora, lab tests, then
#                     the unit tests and corpora again under ASan+UBSan
#   make SAN=1 check  the unit tests and corpora, ASan+UBSan build (build/san/)
#   make fuzz         libFuzzer targets (clang), each run for FUZZ_TIME seconds
#   make bench        the benchmarks (lab), not part of check
#   make demo         the main job (README)
#   make deps         installs missing Debian packages with apt-get
#   V=1               show full commands

SHELL := /bin/bash
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

ifeq ($(V),1)
Q :=
else
Q := @
endif

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
PKG_CONFIG ?= pkg-config

ifeq ($(SAN),1)
O := build/san
else
O := build
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wimplicit-fallthrough \
	-Wpointer-arith -Wundef -Wcast-align -Wnull-dereference
HARDEN := -fstack-protector-strong -fPIE -fstack-clash-protection \
	-fcf-protection
BASE_CFLAGS := -std=gnu11 -g -I. -D_GNU_SOURCE $(WARN) $(HARDEN)
BASE_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack

ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT := -O1 $(SAN_FLAGS)
LDSAN := $(SAN_FLAGS)
else
OPT := -O2 -D_FORTIFY_SOURCE=2
LDSAN :=
endif

CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS = $(BASE_CFLAGS) $(OPT) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDSAN) $(LDFLAGS)

# pkg-config is asked lazily (=) so that `make deps` works before the -dev
# packages are there.
pkg_cflags = $(if $(1),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs = $(if $(1),$(shell $(PKG_CONFIG) --libs $(1)))

# ---------------------------------------------------------------------------
# What the fragments fill in.
#   PROGRAMS     names of binaries in build/bin; NAME_SRCS, NAME_PKGS
#                (pkg-config names), NAME_LDLIBS (extra -l flags)
#   UNIT_TESTS   cmocka binaries in build/tests; same NAME_* variables, plus
#                NAME_WRAP (symbols to link with -Wl,--wrap=)
#   FUZZ_TARGETS libFuzzer targets; NAME_SRCS (without a main), NAME_PKGS;
#                corpus in tests/fuzz/corpus/NAME/
#   LAB_TESTS    host-side scripts that boot the lab through tests/lab/lab-run
#   MIG_TESTS    the same, for live migration (make check-migrate, run by CI)
#   BENCHES      host-side benchmark scripts (make bench)
#   DATA         generated files that `make` builds (policy, ...)
PROGRAMS :=
UNIT_TESTS :=
FUZZ_TARGETS :=
LAB_TESTS :=
MIG_TESTS :=
BENCHES :=
DATA :=
LAB_TOOLS :=

include core/core.mk
include core/launch.mk
include core/sandbox.mk
include core/virtio.mk
include svirt/svirt.mk
include policy/policy.mk
include attest/attest.mk
include tests/tests.mk

# ---------------------------------------------------------------------------
objs = $(patsubst %.c,$(O)/obj/%.o,$(1))

# Include paths of every package Bulwark uses go to every object (they are
# system paths); asked once, and not at all for `make deps`/`make clean`.
ALL_PKGS := libselinux libsepol libseccomp tss2-esys tss2-mu tss2-sys \
	tss2-tctildr libcrypto libssl json-c cmocka
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(ALL_PKGS) 2>/dev/null)
endif

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# link_rule(NAME, OUTDIR).  Linked beside and renamed into place, so a
# program already running (a lab test reads build/ live) keeps its file.
define link_rule
$(O)/$(2)/$(1): $$(call objs,$$($(1)_SRCS))
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) $$^ -o $$@.tmp \
		$$(foreach w,$$($(1)_WRAP),-Wl,--wrap=$$(w)) \
		$$(call pkg_libs,$$($(1)_PKGS)) $$($(1)_LDLIBS) && mv -f $$@.tmp $$@
endef

$(foreach p,$(PROGRAMS),$(eval $(call link_rule,$(p),bin)))
$(foreach t,$(UNIT_TESTS),$(eval $(call link_rule,$(t),tests)))
$(foreach t,$(LAB_TOOLS),$(eval $(call link_rule,$(t),lab/bin)))

# Generated data: each file F in DATA is made from $(F_DEPS) by the shell
# command $(F_CMD), in which $@ is F.
define data_rule
$(1): $$($(1)_DEPS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  GEN     $$@")
	$$(Q)$$($(1)_CMD)
endef
$(foreach d,$(DATA),$(eval $(call data_rule,$(d))))

# Fuzz targets, regression build: the target's sources plus a plain main()
# that feeds every corpus file once.  Built with $(CC) like everything else,
# so the sanitizer build runs the corpora too.
define fuzz_regress_rule
$(1)_regress_SRCS := $$($(1)_SRCS) tests/fuzz/standalone.c
$(1)_regress_PKGS := $$($(1)_PKGS)
$(1)_regress_LDLIBS := $$($(1)_LDLIBS)
$$(eval $$(call link_rule,$(1)_regress,fuzz))
endef
$(foreach f,$(FUZZ_TARGETS),$(eval $(call fuzz_regress_rule,$(f))))

# Fuzz targets, libFuzzer build with clang.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -D_GNU_SOURCE -DFUZZING \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
define fuzz_rule
build/fuzz/$(1): $$($(1)_SRCS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  FUZZ-CC $$@")
	$$(Q)$$(CLANG) $$(FUZZ_CFLAGS) $$(call pkg_cflags,$$($(1)_PKGS)) $$^ -o $$@ \
		$$(call pkg_libs,$$($(1)_PKGS)) $$($(1)_LDLIBS)
endef
$(foreach f,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(f))))

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
BIN := $(addprefix $(O)/bin/,$(PROGRAMS))
TESTBIN := $(addprefix $(O)/tests/,$(UNIT_TESTS))
REGRESSBIN := $(addprefix $(O)/fuzz/,$(addsuffix _regress,$(FUZZ_TARGETS)))

.PHONY: all check check-unit check-corpus check-layout check-lab check-migrate check-migrate-2host check-distro check-distro-cloud check-san check-host check-host-service fuzz bench \
	demo deps clean lab
LABBIN := $(addprefix $(O)/lab/bin/,$(LAB_TOOLS))
all: $(BIN) $(TESTBIN) $(REGRESSBIN) $(LABBIN) $(DATA)

# Every runner below appends one line per test to $(RESULTS) ("PASS name" or
# "FAIL name"); tests/summary prints the closing "N passed, N failed" line.
RESULTS := $(O)/results.txt

check-unit: $(TESTBIN)
	$(Q)tests/run-units $(RESULTS) $(TESTBIN)

check-corpus: $(REGRESSBIN)
	$(Q)tests/run-corpora $(RESULTS) $(O)/fuzz $(FUZZ_TARGETS)

# The folders tell the processes: what each binary links (tests/check-layout).
check-layout:
	$(Q)tests/check-layout $(RESULTS)

check-lab: all lab
	$(Q)tests/run-lab $(RESULTS) $(LAB_TESTS)

# Live migration's lab tests (about 10 lab minutes): their own target, so
# that `make check` stays near 30 minutes; CI (.ci/run) runs it after.
check-migrate: all lab
	$(Q)rm -f $(O)/results-migrate.txt
	$(Q)tests/run-lab $(O)/results-migrate.txt $(MIG_TESTS) || true
	$(Q)tests/summary $(O)/results-migrate.txt "check-migrate"

# The same between two level-1 systems joined by the lab's own link
# (tests/lab/lab-pair; about 3-5 minutes), run by CI after check-migrate.
# LAB_TCG_THREAD=multi: one run in run-lab's single-threaded shape lost a
# level-1 kernel to a soft lockup (README, "Two hosts").
check-migrate-2host: all lab
	$(Q)rm -f $(O)/results-migrate-2host.txt
	$(Q)LAB_TCG_THREAD=$${LAB_TCG_THREAD:-multi} tests/run-lab $(O)/results-migrate-2host.txt \
		tests/lab/test-migrate-2host || true
	$(Q)tests/summary $(O)/results-migrate-2host.txt "check-migrate-2host"

# A whole Debian 12 under Bulwark, 1 and 2 vCPUs (about 15 lab minutes).
check-distro: all lab
	$(Q)tests/lab/test-distro

# The same with a cloud-init NoCloud seed and virtio-net on a tap, the NIC
# set up by networkd, 1 and 2 vCPUs: about 13 lab minutes, plus about 3 to
# build its own image the first time.  (DISTRO_NET=ifupdown: not yet run.)
check-distro-cloud: all lab
	$(Q)DISTRO_CLOUD=1 tests/lab/test-distro

check-san:
	$(Q)$(MAKE) --no-print-directory SAN=1 check

# The host lab (tests/lab/lab-run --host): a Debian 12 system under Debian's
# refpolicy.  Not in `make check`: building its image takes about 10 minutes
# the first time, and each run boots systemd under TCG.
# Each host-lab test through tests/run-lab (a second, single-threaded run
# of a failed one; a lockup or 10 silent minutes end a run).
# host-test-service (the package under systemd, two guests, a reboot of
# the host lab) gets a longer LAB_TIMEOUT (two boots of the host lab on one
# emulated CPU); check-host runs both, check-host-service only it.
HOST_TESTS := tests/lab/host-test-module
check-host: all lab
	$(Q)LAB_STALL=$${LAB_STALL:-600} tests/run-lab $(O)/results-host.txt $(HOST_TESTS)
	$(Q)LAB_STALL=$${LAB_STALL:-600} LAB_TIMEOUT=$${LAB_TIMEOUT:-1800} tests/run-lab $(O)/results-host.txt tests/lab/host-test-service
check-host-service: all lab
	$(Q)LAB_STALL=$${LAB_STALL:-600} LAB_TIMEOUT=$${LAB_TIMEOUT:-1800} tests/run-lab $(O)/results-host.txt tests/lab/host-test-service

# A step that fails to build or run still leaves a FAIL line, so the closing
# summary can never count a missing step as a pass.
step = $(MAKE) --no-print-directory $(1) || echo "FAIL make $(1)" >>$(RESULTS)

ifeq ($(SAN),1)
# The sanitizer build runs the same unit tests and fuzz corpora.  The lab
# tests run the normal build: see README ("Tests").
check: deps
	$(Q)rm -f $(RESULTS)
	$(Q)$(call step,SAN=1 all)
	$(Q)$(call step,SAN=1 check-unit)
	$(Q)$(call step,SAN=1 check-corpus)
	$(Q)tests/summary $(RESULTS) "san"
else
check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)rm -f $(RESULTS)
	$(Q)$(call step,check-layout)
	$(Q)$(call step,check-unit)
	$(Q)$(call step,check-corpus)
	$(Q)$(call step,check-pkg)
	$(Q)$(call step,check-lab)
	$(Q)$(call step,SAN=1 all)
	$(Q)$(call step,SAN=1 check-unit RESULTS=$(abspath $(RESULTS)))
	$(Q)$(call step,SAN=1 check-corpus RESULTS=$(abspath $(RESULTS)))
	$(Q)tests/summary $(RESULTS) "check"
endif

FUZZ_TIME ?= 60
fuzz: $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	$(Q)tests/run-fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

lab:
	$(Q)tests/lab/lab-build

bench: all lab
	$(Q)for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

demo: deps all lab
	$(Q)tests/demo

# Debian packages Bulwark builds, tests and runs with.
DEPS := build-essential clang libclang-rt-14-dev pkg-config \
	libselinux1-dev libsepol-dev libseccomp-dev libtss2-dev libcmocka-dev \
	libssl-dev libjson-c-dev secilc swtpm swtpm-tools tpm2-tools \
	selinux-policy-default semodule-utils policycoreutils setools \
	qemu-system-x86 qemu-utils busybox-static cpio kmod iproute2 e2fsprogs \
	python3 acpica-tools curl prometheus python3-prometheus-client debootstrap genisoimage \
	libaudit-dev auditd fakeroot lintian
deps:
	$(Q)tests/install-deps $(DEPS)

clean:
	rm -rf build/bin build/obj build/tests build/fuzz build/san build/results.txt

# make install / uninstall / deb / check-pkg (rules of their own).
include packaging/packaging.mk
