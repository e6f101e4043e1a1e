/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each host's evidence across a live migration (issue 18 item 4), both
 * launchers' halves, after the target's RUNNING (so never in the guest's
 * downtime).  The source, when it runs with --host-tpm/--host-dir, quotes
 * its host TPM's PCR 10 bound to the migration stream's SHA-256
 * (bundle_hop_binding) and sends it as a HOST message, after the hop
 * records it kept from the guest's earlier moves (oldest first, at most
 * BUNDLE_MAX_HOPS in all).  The target stores each record that decodes in
 * the guest's attestation directory (cmd_attest.h, attest_hop_put) for
 * `bulwark attest --host-tpm` to copy into the bundle, in a thread of its
 * own: the launcher's loop serves the guest's TPM commands and the control
 * API meanwhile (a slow or silent source delays nothing).  Both best effort:
 * the guest has moved; a record missing is the verifier's
 * host-evidence-missing for that migration, never a failed move.
 */
#ifndef BULWARK_LAUNCH_MIGHOST_H
#define BULWARK_LAUNCH_MIGHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/launch/launcher.h"
#include "core/launch/migchan.h"
#include "core/launch/migwire.h"

/* The target waits this long for the source's first (then next) record,
 * looking for a stop request every MIGHOST_SLICE_MS. */
#define MIGHOST_WAIT_MS 60000
#define MIGHOST_WAIT_TEXT "60 s"
#define MIGHOST_SLICE_MS 200

/* Source: the records, then close.  stream: the migration stream's SHA-256. */
void launch_mighost_send(const struct launch *l, struct migchan *ch,
			 struct migwire_seq *seq, const uint8_t stream[32]);
/* Target: the guest's records cleared, then replaced by what the source
 * sends, received by a thread that owns ch from now on (closed by it, or
 * here if the thread cannot start); seq is copied. */
void launch_mighost_receive(const struct launch *l, struct migchan *ch,
			    const struct migwire_seq *seq);
/* The same into dir (tests). */
void launch_mighost_receive_at(const char *dir, struct migchan *ch,
			       const struct migwire_seq *seq);
/* Source: the records kept in dir from the guest's earlier moves, the
 * newest `room` of them, oldest first, each file read once (tests). */
int launch_mighost_forward(const char *dir, struct migchan *ch, struct migwire_seq *seq,
			   size_t room);
/* The receiver runs (a migration onward forwards only what it kept). */
bool launch_mighost_receiving(void);
/* The launcher's loop: the receiver ended by itself: joined, channel closed. */
void launch_mighost_reap(void);
/* The launcher ends: the receiver stopped (within MIGHOST_SLICE_MS, or at
 * once mid-record: its socket shut down) and joined. */
void launch_mighost_end(void);

#endif
