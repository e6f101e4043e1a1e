# core/launch_*.c: the privileged launcher (`bulwark run`), one file per
# responsibility (core/launch/launcher.h).  bulwark_SRCS already has svirt/, the
# sandbox, and attest/'s swtpm, measure, tpm and eventlog; the launcher adds
# the vTPM start and the TPM proxy.
bulwark_SRCS += core/launch/launch_run.c core/launch/launch_validate.c core/launch/launch_svirt.c core/launch/launch_vtpm.c \
	core/launch/launch_child.c core/launch/launch_loop.c core/launch/launch_watch.c attest/vtpm/vtpm.c attest/vtpm/tpmproxy.c \
	core/launch/launch_control.c core/launch/launch_control_api.c core/launch/cmd_control.c \
	core/launch/launch_stdio.c core/launch/launch_tty.c core/launch/console_esc.c \
	core/launch/launch_snapshot.c core/launch/snapmeta.c core/launch/wirebuf.c \
	core/launch/snapshot_req.c core/launch/launch_restore.c \
	core/launch/migrate_req.c core/launch/launch_migrate.c core/launch/launch_incoming.c \
	core/launch/launch_mighost.c core/launch/launch_moved.c \
	core/launch/migframe.c
bulwark_PKGS += libselinux libseccomp libcrypto tss2-mu
bulwark_LDLIBS += -lpthread

# `bulwark run` for real under the standalone policy, enforcing: labels of
# processes and files, two guests, normal stop, kill -9 + gc, failure paths.
LAB_TESTS += tests/lab/test-launch

# Launch to first guest serial byte, with and without the vTPM (make bench).
BENCHES += tests/bench/bench-vtpm

# `bulwark delete NAME` and the per-guest state lock the launcher holds.
bulwark_SRCS += core/launch/gstate.c core/launch/cmd_delete.c
UNIT_TESTS += test_delete
test_delete_SRCS = tests/unit/test_delete.c core/launch/cmd_delete.c core/launch/gstate.c \
	core/log.c $(SVIRT_SRCS)
test_delete_PKGS = cmocka $(SVIRT_PKGS)

# Every input checked before the first change to the host (launch_validate):
# bad kernel header, symlinked folders, FIFOs, /proc files, one file twice,
# kernel as a writable disk, jail roots, flags twice, duplicate keys; under
# strace, no changing system call; bulwark-verify on a FIFO.
LAB_TESTS += tests/lab/test-validate

# The one HTTP/1.x request parser (core/launch/http.h): `bulwark serve` and the
# guests' control sockets.
bulwark_SRCS += core/launch/http.c
UNIT_TESTS += test_http
test_http_SRCS := tests/unit/test_http.c core/launch/http.c
test_http_PKGS := cmocka
FUZZ_TARGETS += fuzz_http
fuzz_http_SRCS := tests/fuzz/fuzz_http.c core/launch/http.c

# The guest's control socket (core/launch/launch_control.h): routing, orders to the
# VMM, bounds and the peer check, over a real socket in a temporary folder.
UNIT_TESTS += test_control
test_control_SRCS := tests/unit/test_control.c core/launch/launch_control.c \
	core/launch/launch_control_api.c core/launch/snapshot_req.c core/launch/migrate_req.c core/launch/http.c $(CONFIG_SRCS) core/snapshot.c core/bootparams.c core/log.c
test_control_PKGS := cmocka json-c libselinux
# Its audit records are checked by the wrapper (the records themselves by
# test_audit).
test_control_WRAP := launch_audit_control launch_snapshot_run launch_migrate_start \
	launch_migrate_progress launch_migrate_reap launch_migrate_cancel

# The source's stop rule for live migration: the last round's pages and
# the hand-over's fixed cost against the downtime budget, the round limit.
UNIT_TESTS += test_migrate_rule
test_migrate_rule_SRCS := tests/unit/test_migrate_rule.c core/launch/migrate_req.c core/log.c
test_migrate_rule_PKGS := cmocka json-c

# A guest that moved away (core/launch/launch_moved.h): its record, its vTPM
# state's removal, a start refused, on real files (the real swtpm_delete).
UNIT_TESTS += test_moved
test_moved_SRCS = tests/unit/test_moved.c core/launch/launch_moved.c $(SWTPM_SRCS) core/log.c
test_moved_PKGS = cmocka libcrypto

# bulwark list/info/pause/resume/shutdown/destroy against a real socket.
UNIT_TESTS += test_control_cli
test_control_cli_SRCS = tests/unit/test_control_cli.c core/launch/cmd_control.c \
	core/launch/launch_control.c core/launch/launch_control_api.c core/launch/snapshot_req.c \
	core/launch/migrate_req.c core/launch/http.c $(CONFIG_SRCS) core/snapshot.c core/bootparams.c \
	$(SVIRT_SRCS) core/log.c
test_control_cli_PKGS = cmocka json-c libselinux $(SVIRT_PKGS)
test_control_cli_LDLIBS := -lpthread
test_control_cli_WRAP := launch_audit_control launch_snapshot_run launch_migrate_start \
	launch_migrate_progress launch_migrate_reap launch_migrate_cancel

# The control socket in the lab (issue 16): two guests, list/info, pause and
# resume with a ticking guest and disk I/O in flight, refused peers, the
# malformed-request corpus, promtool and prometheus_client on /metrics.
LAB_TESTS += tests/lab/test-control
LAB_TOOLS += control-client
control-client_SRCS := tests/lab/control-client.c
control-client_PKGS := libselinux
# Pause/resume latency beside QEMU's stop/cont over QMP (make bench).
BENCHES += tests/bench/bench-control

# The audit trail (core/launch/audit.c): libvirt's VIRT_* records through
# libaudit, whose format auditors' tools (ausearch, aureport) read.
bulwark_SRCS += core/launch/audit.c core/launch/launch_audit.c
bulwark_PKGS += audit
UNIT_TESTS += test_audit
test_audit_SRCS = tests/unit/test_audit.c core/launch/audit.c core/log.c
test_audit_PKGS = cmocka audit
test_audit_WRAP = audit_open audit_log_user_message audit_close log_msg

# The sealed snapshot file and its key (issue 17, core/launch/snapbox.h).
SNAPBOX_SRCS := core/launch/snapbox.c core/launch/snapbox_key.c core/path.c core/log.c
bulwark_SRCS += core/launch/snapbox.c core/launch/snapbox_key.c core/launch/cmd_snapbox.c
UNIT_TESTS += test_snapbox
test_snapbox_SRCS := tests/unit/test_snapbox.c $(SNAPBOX_SRCS)
test_snapbox_PKGS := cmocka libcrypto
FUZZ_TARGETS += fuzz_snapbox
fuzz_snapbox_SRCS := tests/fuzz/fuzz_snapbox.c $(SNAPBOX_SRCS)
fuzz_snapbox_PKGS := libcrypto
# snapshot-export/import and restore's refusals: the real binary, keys and
# files in a temporary folder.
UNIT_TESTS += test_snapbox_cli
test_snapbox_cli_SRCS := tests/unit/test_snapbox_cli.c core/launch/audit.c \
	core/launch/snapmeta.c core/launch/wirebuf.c core/launch/file_digest.c $(CONFIG_SRCS) $(SNAPBOX_SRCS)
test_snapbox_cli_PKGS := cmocka libcrypto audit json-c
$(O)/tests/test_snapbox_cli: | $(O)/bin/bulwark

# The launcher's stdout/stderr relay under systemd (core/launch/launch_stdio.c).
UNIT_TESTS += test_stdio
test_stdio_SRCS = tests/unit/test_stdio.c core/launch/launch_stdio.c core/log.c
test_stdio_PKGS = cmocka

# The launcher's parts of a snapshot, META and DISKS (core/launch/snapmeta.h),
# and the /snapshot request's body (core/launch/launch_snapshot.c).
UNIT_TESTS += test_snapmeta
test_snapmeta_SRCS := tests/unit/test_snapmeta.c core/launch/snapmeta.c core/launch/wirebuf.c \
	core/launch/file_digest.c core/launch/snapshot_req.c core/path.c core/log.c
test_snapmeta_PKGS := cmocka libcrypto json-c
FUZZ_TARGETS += fuzz_snapmeta
fuzz_snapmeta_SRCS := tests/fuzz/fuzz_snapmeta.c core/launch/snapmeta.c core/launch/wirebuf.c \
	core/launch/file_digest.c core/launch/snapshot_req.c core/launch/migrate_req.c core/path.c core/log.c
fuzz_snapmeta_PKGS := libcrypto json-c
# Issue 17's judged properties in the lab, SELinux enforcing: a counting,
# disk-writing guest snapshotted (--stop), refused copies (a byte, a cut,
# another key) start nothing, restored at a new pair (the old one denied its
# disk), its TPM's PCRs and key carried, attested affirming with the chain.
LAB_TESTS += tests/lab/test-snapshot
# Issue 18's judged properties in the lab, SELinux enforcing: a counting,
# disk-writing guest with a vTPM moved live between two launchers over TLS
# 1.3 (refusals leave it at the source), its count, disk, pair, TPM keys
# carried, attested at the target affirming with the chain (allow_migrate).
MIG_TESTS += tests/lab/test-migrate
# Issue 18 item 4, with a host TPM and IMA (lab-run --host-tpm): the source's
# host quote bound to the stream follows the guest; at the target the bundle
# carries it and both hosts are appraised; an altered hop record is refused.
MIG_TESTS += tests/lab/test-migrate-host
# Snapshot and restore times and sizes beside QEMU's migrate to a file and
# -incoming, 256 MiB and 1 GiB guests, the ratios (make bench).
BENCHES += tests/bench/bench-snapshot
# Live migration beside QEMU's (TLS 1.3 both), an idle and a busy guest.
BENCHES += tests/bench/bench-migrate

# The live-migration channel between two launchers (issue 18,
# core/launch/migchan.h): TLS 1.3, mutual, pinned hosts; its messages
# (core/launch/migwire.h) and the host credentials (`bulwark migrate-keys`).
MIGCHAN_SRCS := core/launch/migchan.c core/launch/migchan_sock.c \
	core/launch/migchan_trust.c core/launch/migwire.c core/launch/wirebuf.c \
	core/launch/migkeys.c
bulwark_SRCS += $(MIGCHAN_SRCS) core/launch/cmd_migkeys.c
bulwark_PKGS += libssl
# Real OpenSSL over real unix and TCP sockets, two threads: the handshake both
# ways, refused peers (not listed, another CA, TLS 1.2 only, no certificate),
# bounds, cuts, a byte changed in transit and timeouts; the messages' codecs and order.
UNIT_TESTS += test_migchan
test_migchan_SRCS := tests/unit/test_migchan.c $(MIGCHAN_SRCS) core/log.c
test_migchan_PKGS := cmocka libssl libcrypto
test_migchan_LDLIBS := -lpthread
# Host evidence across a move (issue 18 item 4): the target's hop records
# on disk, the source's forwarding, the target's receiver thread, over a
# scripted channel (tests/unit/test_mighost.c).
UNIT_TESTS += test_mighost
# (= : ATTEST_VTPM, for attest_file_put, comes with attest.mk)
test_mighost_SRCS = tests/unit/test_mighost.c core/launch/launch_mighost.c \
	attest/producer/cmd_attest_hop.c core/launch/migwire.c core/launch/wirebuf.c \
	core/launch/migchan_trust.c attest/format/bundle_hop.c attest/format/bundle_codec.c \
	$(ATTEST_VTPM)
test_mighost_PKGS = cmocka $(ATTEST_VERIFY_PKGS) tss2-esys tss2-tctildr
test_mighost_LDLIBS := -lpthread
test_mighost_WRAP := bundle_read_file
FUZZ_TARGETS += fuzz_migwire
fuzz_migwire_SRCS := tests/fuzz/fuzz_migwire.c core/launch/migwire.c core/launch/wirebuf.c \
	core/launch/migchan_trust.c core/log.c attest/format/bundle_hop.c attest/format/evlog_alg.c
fuzz_migwire_PKGS := libcrypto

# The target's framing of a live migration's stream in the pieces it comes
# in (core/launch/migframe.h): every split agrees with the whole stream's
# framing (tests/unit/test_migframe.c; fuzz_migframe with fuzz_snapshot's
# migration seeds).
UNIT_TESTS += test_migframe
test_migframe_SRCS := tests/unit/test_migframe.c core/launch/migframe.c core/snapshot.c \
	core/bootparams.c core/log.c
test_migframe_PKGS := cmocka
FUZZ_TARGETS += fuzz_migframe
fuzz_migframe_SRCS := tests/fuzz/fuzz_migframe.c core/launch/migframe.c core/snapshot.c \
	core/bootparams.c core/log.c

# test-migrate's trusted but lying source: a guest's true HELLO, then a
# stream that is not a migration's (lab only; never installed).
LAB_TOOLS += mig-badsource
mig-badsource_SRCS := tests/lab/mig-badsource.c core/launch/config_file.c core/path.c $(CONFIG_SRCS) \
	$(MIGCHAN_SRCS) core/snapshot.c core/bootparams.c core/log.c
mig-badsource_PKGS := json-c libssl libcrypto
