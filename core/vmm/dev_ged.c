/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACPI Generic Event Device's status register (one byte at
 * PORT_ACPI_GED) and its interrupt (IRQ_GED, level, active high): the
 * guest's power button.  The DSDT's \_SB.GED0._EVT (core/acpi.c) reads the
 * pending events, writes the same bits back to acknowledge them, and turns
 * ACPI_GED_PWR_BUTTON into Notify(\_SB.PWRB, 0x80).
 *
 * The line is high exactly while an event is pending, so:
 *   - a press while the guest handles the previous one is not lost: the
 *     line stays (or goes) high and evged runs _EVT again;
 *   - presses the guest has not acknowledged are one press;
 *   - a guest that never acknowledges only keeps its own interrupt
 *     asserted; the VMM never waits for it (ged_power_button() only sets a
 *     bit and raises the line), and the launcher's stop timeout ends it.
 * Reads do not clear (a stray read loses nothing); writes of other widths
 * or unknown bits are ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/acpi.h"
#include "core/vmm/devices.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/vmm/snap.h"

struct ged {
	struct vm *vm;
	pthread_mutex_t lock;       /* status and line, changed together */
	uint8_t status;             /* pending events: ACPI_GED_* bits */
	int line;                   /* the level last given to IRQ_GED */
};

/* With the lock held: the line follows the pending events. */
static int ged_update_line(struct ged *g)
{
	int level = g->status != 0, rc;

	if (level == g->line)
		return 0;
	rc = vm_irq_line(g->vm, IRQ_GED, level);
	if (rc) {
		log_err("IRQ %u to %d: %s", IRQ_GED, level, strerror(-rc));
		return rc;
	}
	g->line = level;
	return 0;
}

static void ged_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct ged *g = opaque;

	memset(data, 0, len);
	if (off != 0)
		return;
	pthread_mutex_lock(&g->lock);
	data[0] = g->status;
	pthread_mutex_unlock(&g->lock);
}

static void ged_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct ged *g = opaque;

	if (off != 0 || len != 1)
		return;
	pthread_mutex_lock(&g->lock);
	g->status &= (uint8_t)~data[0];       /* write 1 to clear */
	ged_update_line(g);
	pthread_mutex_unlock(&g->lock);
}

int ged_power_button(struct ged *g)
{
	int rc, pending;

	pthread_mutex_lock(&g->lock);
	pending = g->status & ACPI_GED_PWR_BUTTON;
	g->status |= ACPI_GED_PWR_BUTTON;
	rc = ged_update_line(g);
	pthread_mutex_unlock(&g->lock);
	if (!rc)
		log_info("power button pressed%s", pending ?
			 " (the previous press is not acknowledged yet)" : "");
	return rc;
}

static const struct bus_ops ged_ops = { .read = ged_read, .write = ged_write };

static int ged_init(struct vm *vm, void **state)
{
	struct ged *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	g->vm = vm;
	pthread_mutex_init(&g->lock, NULL);
	rc = bus_register(&vm->pio, PORT_ACPI_GED, 1, "acpi-ged", &ged_ops, g);
	if (rc) {
		pthread_mutex_destroy(&g->lock);
		free(g);
		return rc;
	}
	*state = g;
	return 0;
}

static void ged_fini(void *state)
{
	struct ged *g = state;

	if (!g)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Snapshot: the pending events (a press not yet acknowledged); the line
 * follows from them at restore. */
static int ged_save(void *state, struct snap_buf *b)
{
	struct ged *g = state;
	uint8_t s;

	pthread_mutex_lock(&g->lock);
	s = g->status;
	pthread_mutex_unlock(&g->lock);
	b->len = 0;
	return snap_buf_put(b, &s, 1);
}

static int ged_restore(void *state, const uint8_t *p, size_t len)
{
	struct ged *g = state;
	int rc;

	if (len != 1 || (p[0] & ~ACPI_GED_PWR_BUTTON))
		return -EBADMSG;
	if (!g)
		return 0;
	pthread_mutex_lock(&g->lock);
	g->status = p[0];
	g->line = 0;
	rc = ged_update_line(g);
	pthread_mutex_unlock(&g->lock);
	return rc;
}

const struct vm_device dev_ged = { "acpi-ged", ged_init, ged_fini, ged_save, ged_restore };
