/* SPDX-License-Identifier: Apache-2.0 */
/* svirt_lab's probes: one kernel access attempt each (svirt-probe.c). */
#ifndef BULWARK_SVIRT_PROBE_H
#define BULWARK_SVIRT_PROBE_H

/* svirt_lab probe OP ARGS [OP ARGS]...: runs each OP and prints one line
 * "RESULT OP ARGS", RESULT being ok or the errno's name. */
int probe_main(int argc, char **argv);
/* svirt_lab listen [-c SOCKCON] ADDR [-c SOCKCON] ADDR...: listens on each
 * ADDR (@name for the abstract namespace), its socket labelled SOCKCON,
 * prints "listening", sleeps until killed. */
int probe_listen(int argc, char **argv);
/* svirt_lab revoke PATH: opens PATH read-write, prints "armed", waits for
 * SIGUSR1, then tries read() and write() on the open descriptor. */
int probe_revoke(int argc, char **argv);
const char *probe_errname(int e);

#endif
