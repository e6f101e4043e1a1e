/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subcommands of the `bulwark` binary.  Each returns the process exit status.
 * Each is implemented by the subsystem that owns it.
 */
#ifndef BULWARK_COMMANDS_H
#define BULWARK_COMMANDS_H

int cmd_run(int argc, char **argv);       /* core/: the privileged launcher */
int cmd_gc(int argc, char **argv);        /* svirt/: repair stale labels */
int cmd_policy(int argc, char **argv);    /* policy/: policy check */
int cmd_seccomp(int argc, char **argv);   /* core/ sandbox: seccomp dump */
int cmd_attest(int argc, char **argv);    /* attest/: evidence bundle */
int cmd_reference(int argc, char **argv); /* attest/: reference manifest */
int cmd_enroll(int argc, char **argv);    /* attest/: AK enrollment */
int cmd_serve(int argc, char **argv);     /* attest/: attestation service */
int cmd_delete(int argc, char **argv);    /* core/: remove a guest's state */
/* core/launch/cmd_control.c: clients of the guests' control sockets. */
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);   /* PUT /snapshot (issue 17) */
int cmd_restore(int argc, char **argv);    /* core/launch/launch_restore.c */
int cmd_migrate(int argc, char **argv);    /* PUT /migrate (issue 18) */
int cmd_migrate_cancel(int argc, char **argv);   /* PUT /migrate-cancel */
/* core/launch/cmd_snapbox.c: a sealed snapshot between hosts (issue 17). */
int cmd_snapshot_export(int argc, char **argv);
int cmd_snapshot_import(int argc, char **argv);
/* core/launch/cmd_migkeys.c: the migration channel's credentials (issue 18). */
int cmd_migrate_keys(int argc, char **argv);

#endif
