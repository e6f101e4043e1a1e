/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration (issue 18), the launchers' side.
 *
 * Source: `bulwark migrate NAME --to ADDR` is PUT /migrate on the guest's
 * control socket (core/launch/launch_migrate.c); GET /migrate is its
 * progress.  The job runs in a thread of the launcher (the loop keeps
 * serving the guest's TPM commands and the control socket); while it runs
 * the thread alone uses the VMM's order channel and VMM_FD_SNAP.
 * Target: `bulwark run --incoming ADDR` (core/launch/launch_incoming.c).
 * The channel: core/launch/migchan.h; its messages: core/launch/migwire.h.
 */
#ifndef BULWARK_LAUNCH_MIGRATE_H
#define BULWARK_LAUNCH_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGRATE_DOWNTIME_MS    300u    /* --downtime default */
#define MIGRATE_DOWNTIME_MAX   60000u
#define MIGRATE_ROUNDS         30u     /* --max-rounds default */
#define MIGRATE_ADDR_MAX       200u
#define MIGRATE_PATH_MAX       160u    /* each trust file's path in the request */

struct control;

struct migrate_req {
	char to[MIGRATE_ADDR_MAX + 1];           /* "unix:/path" or "tcp:HOST:PORT" */
	unsigned int downtime_ms;                /* the budget */
	unsigned int max_rounds;                 /* 1..SNAP_MIG_MAX_ROUNDS - 1 */
	char cert[MIGRATE_PATH_MAX + 1], key[MIGRATE_PATH_MAX + 1];
	char ca[MIGRATE_PATH_MAX + 1], trusted[MIGRATE_PATH_MAX + 1];  /* "": default */
};

/* What GET /migrate tells (a copy, taken under the job's lock). */
struct migrate_progress {
	bool active;                  /* a job runs */
	bool done;                    /* it ended (result, reason) */
	int result;                   /* 0: the target runs the guest */
	char phase[24];               /* connecting, hello, rounds, final, vtpm,
				       * confirming, cancelling, migrated, failed */
	char to[MIGRATE_ADDR_MAX + 1];
	char peer[160];               /* migchan_peer of the target */
	char target_label[260];       /* READY's (MIGWIRE_LABEL_MAX + 1) */
	uint32_t round;
	uint64_t bytes;               /* stream bytes so far */
	uint64_t last_pages;          /* pages of the last round */
	uint64_t dirty_rate;          /* pages per second, last round */
	uint64_t expected_ms;         /* expected downtime now (fixed cost included) */
	uint64_t stop_expected_ms;    /* the expected downtime when the rounds stopped */
	uint64_t throughput;          /* stream bytes per second, measured */
	long long elapsed_ms, downtime_ms;   /* total; pause to RUNNING */
	char failed_in[24];           /* the phase a failed job failed in */
	char reason[512];
};

/* PUT /migrate's body (JSON: "to", "downtime_ms", "max_rounds", "cert",
 * "key", "ca", "trusted"): bytes from the control socket's peer, parsed
 * strictly.  0, or -EINVAL with the reason in WHY. */
int launch_migrate_parse(const char *body, size_t len, struct migrate_req *r, char *why,
			 size_t why_len);

/* Starts the job (its thread).  0, or -EBUSY / -errno with WHY. */
int launch_migrate_start(struct control *ctl, const struct migrate_req *req, char *why,
			 size_t why_len);
void launch_migrate_progress(struct migrate_progress *out);
/* The operator's cancel (PUT /migrate-cancel): the job fails at its next
 * STREAM message or round's end, undoes as for any failure before DONE
 * (the guest goes on here, resumed if it ran), and its PUT /migrate client
 * gets "cancelled by the operator".  0; -ENOENT no job; -EALREADY DONE is
 * out (the target may run the guest: no going back).  WHY says which. */
int launch_migrate_cancel(char *why, size_t why_len);
/* From the loop, each turn: 1 once the job ended (joined; OUT holds the
 * final figures), else 0. */
int launch_migrate_reap(struct control *ctl, struct migrate_progress *out);

/* At the launcher's teardown: a job still running has its VMM channel and
 * stream shut under it, and is joined (it cancels what it can). */
void launch_migrate_abandon(struct control *ctl);

/* The hand-over's fixed cost, beside the last pages (the stop rule): the
 * state (META, VCPUs, IRQCHIP, PIT, CLOCK, DEVs) and swtpm's three blobs
 * go through the channel at the measured throughput, and the time neither
 * side spends sending.  Measured for this move where it can be
 * (launch_migrate_cost_measured): the vTPM's blobs, read once from swtpm
 * while the guest runs (their sizes and the time the read took), and the
 * target's own estimate of its part (ACK: swtpm's restore and the
 * identity's store as that host timed them, its VMM's check and build, the
 * event, the resume).  What nobody can time before the pause stays a
 * constant from the lab's profiles (README "The hand-over, profiled"): the
 * source's pause and FINAL orders (MIGRATE_SOURCE_MS), the state's size.
 * Before anything is measured (no ACK yet), launch_migrate_cost's
 * constants stand in for the rest. */
#define MIGRATE_STATE_BASE_BYTES  (32u << 10)
#define MIGRATE_STATE_VCPU_BYTES  (16u << 10)
#define MIGRATE_VTPM_BYTES        (64u << 10)
#define MIGRATE_HANDOVER_MS       200u
#define MIGRATE_HANDOVER_VTPM_MS  60u
#define MIGRATE_SOURCE_MS         20u

struct migrate_cost {
	uint64_t fixed_bytes;         /* sent whatever the dirty pages */
	uint64_t fixed_ms;            /* spent whatever the throughput */
};

/* What this move measured of its hand-over. */
struct migrate_measured {
	bool vtpm;                    /* the guest has a vTPM */
	bool blobs;                   /* its blobs were read: the two below */
	uint64_t vtpm_bytes;          /* the three blobs' sizes */
	uint64_t vtpm_read_ms;        /* the time swtpm took to give them */
	bool target;                  /* an ACK came: the one below */
	uint64_t target_ms;           /* the target's estimate of its part */
};

/* The target's estimate of its part of the hand-over, sent in each ACK:
 * its VMM's check of the state and build of the VM, the resume and
 * RUNNING (not timeable before the stream: MIGRATE_TARGET_VMM_MS, from the
 * profiles); with a vTPM, swtpm's restore of the blobs, timed on this
 * host as SWTPM_READ_MS, the time its own swtpm took to give its three
 * blobs (the restore took about half of it in the lab's bench), and the
 * event's measure (a constant).  The identity is stored before READY:
 * not in it. */
#define MIGRATE_TARGET_VMM_MS      60u
#define MIGRATE_TARGET_EVENT_MS    10u
uint64_t launch_migrate_target_ms(bool vtpm, uint64_t swtpm_read_ms);

void launch_migrate_cost(uint32_t cpus, bool vtpm, struct migrate_cost *c);
void launch_migrate_cost_measured(uint32_t cpus, const struct migrate_measured *m,
				  struct migrate_cost *c);

/* The throughput the rule counts after a round that sent BYTES in MS: the
 * round's own, unless it sent too little to time (under
 * MIGRATE_TPUT_MIN_BYTES, or in no measurable time: an idle guest's
 * empty round is a ROUND_END record in a few ms), then PREV's. */
#define MIGRATE_TPUT_MIN_BYTES (256u << 10)
uint64_t launch_migrate_throughput(uint64_t prev, uint64_t bytes, long long ms);

/* Expected downtime in ms: PAGES pages and C's bytes at THROUGHPUT
 * bytes/s, plus C's time (C NULL: the pages alone).  UINT64_MAX when
 * nothing was measured yet. */
uint64_t launch_migrate_expected_ms(uint64_t pages, uint64_t throughput,
				    const struct migrate_cost *c);

/* After round ROUND (0: the first): stop the rounds when the expected
 * downtime fits the budget, or when the round limit is reached (the
 * guest moves anyway, the expected and actual downtimes reported). */
enum migrate_stop { MIGRATE_GO_ON, MIGRATE_STOP_FITS, MIGRATE_STOP_ROUNDS };
enum migrate_stop launch_migrate_stop(uint64_t expected_ms, unsigned int budget_ms,
				      uint32_t round, unsigned int max_rounds);

#endif
