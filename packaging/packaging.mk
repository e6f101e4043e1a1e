# packaging/: make install / uninstall, make deb, make check-pkg (issue 14).
# Included by the Makefile after its rules (it needs $(BIN) and $(DATA)).
#
#   make install   [PREFIX=/usr] [DESTDIR=]   the built programs, the policy
#                  module, man pages, systemd units and tmpfiles.d
#   make uninstall [PREFIX=/usr] [DESTDIR=]   the same files, and the folders
#                  make install created if they are empty
#   make deb       build/deb/bulwark_VERSION_ARCH.deb, from the normal build,
#                  with dpkg-deb (no network, no debhelper)
#   make check-pkg tests/pkg/test-install: install, units, deb, uninstall
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# /etc for the system prefix, PREFIX/etc otherwise (as autoconf does).
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SELINUXDIR ?= $(DATADIR)/selinux/packages/bulwark
PKG_VERSION := 0.1

PKG_UNITS := bulwark@.service bulwark-gc.service
PKG_MAN := bulwark.1 bulwark-verify.1 bulwark-vmm.8 bulwark-control.8 bulwark.json.5
# Every file make install writes, relative to DESTDIR (make uninstall's list).
PKG_FILES = $(BINDIR)/bulwark $(BINDIR)/bulwark-verify \
	$(LIBEXECDIR)/bulwark/bulwark-vmm $(SELINUXDIR)/bulwark.cil \
	$(addprefix $(UNITDIR)/,$(PKG_UNITS)) $(TMPFILESDIR)/bulwark.conf \
	$(foreach m,$(PKG_MAN),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m))
# The folders it may create, deepest first (make uninstall removes the empty ones).
PKG_DIRS = $(SYSCONFDIR)/bulwark $(LIBEXECDIR)/bulwark $(SELINUXDIR)

PKG_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install uninstall deb check-pkg
# Installs the normal build (build/), never the sanitizer build.
install: build/bin/bulwark build/bin/bulwark-verify build/bin/bulwark-vmm \
		build/policy/bulwark.cil
	$(Q)install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/bulwark \
		$(DESTDIR)$(SELINUXDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SYSCONFDIR)/bulwark \
		$(addprefix $(DESTDIR)$(MANDIR)/man,1 5 8)
	$(Q)install -m 0755 build/bin/bulwark build/bin/bulwark-verify $(DESTDIR)$(BINDIR)/
	$(Q)install -m 0755 build/bin/bulwark-vmm $(DESTDIR)$(LIBEXECDIR)/bulwark/
	$(Q)install -m 0644 build/policy/bulwark.cil $(DESTDIR)$(SELINUXDIR)/
	$(Q)for u in $(PKG_UNITS); do \
		$(PKG_SUBST) packaging/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(Q)install -m 0644 packaging/tmpfiles/bulwark.conf $(DESTDIR)$(TMPFILESDIR)/
	$(Q)for m in $(PKG_MAN); do s=$${m##*.}; \
		install -m 0644 packaging/man/$$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR),$(PKG_FILES))
	$(Q)for d in $(addprefix $(DESTDIR),$(PKG_DIRS)); do \
		[ ! -d $$d ] || rmdir $$d; done

# The package: make install into a staging root with PREFIX=/usr, binaries
# stripped (their debug info stays in build/bin), Depends from dpkg-shlibdeps
# (it needs a debian/control to exist: a two-line one in the work folder).
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE := build/deb/bulwark_$(PKG_VERSION)_$(DEB_ARCH).deb
# Programs run by path, not linked: swtpm for the vTPM.
DEB_RUN_DEPENDS := swtpm, swtpm-tools

deb: $(DEB_FILE)
$(DEB_FILE): build/bin/bulwark build/bin/bulwark-verify build/bin/bulwark-vmm \
		build/policy/bulwark.cil $(wildcard packaging/*/*) packaging/packaging.mk
	$(Q)packaging/make-deb $@ $(PKG_VERSION) $(DEB_ARCH) "$(DEB_RUN_DEPENDS)"

check-pkg: all
	$(Q)tests/pkg/test-install $(RESULTS)

# The installed launcher boots a guest with auditd running in the lab, and
# ausearch/aureport find its records (issue 14).
LAB_TESTS += tests/lab/test-install-run
