/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's escape (core/launch/console_esc.c).  When `bulwark run`'s
 * stdin is a terminal, every key goes to the guest (^C included), so
 * leaving takes an escape, as in other consoles: Ctrl-] then q presses the
 * guest's power button, as SIGTERM does; pressed again a second or more
 * later, it stops the guest hard, as a second SIGTERM does.  Ctrl-] Ctrl-]
 * sends one Ctrl-]; Ctrl-] then any other key sends that key alone.
 */
#ifndef BULWARK_CONSOLE_ESC_H
#define BULWARK_CONSOLE_ESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESC_KEY 0x1d   /* Ctrl-] */

struct console_esc {
	bool armed;            /* the last key was Ctrl-] */
};

/*
 * Filters BUF[0..*N) in place: each escape and its command key are
 * removed, *N becomes the number of bytes for the guest.  Returns how many
 * times Ctrl-] q was typed.  The state carries an escape split across two
 * reads.
 */
unsigned int console_esc_filter(struct console_esc *e, uint8_t *buf, size_t *n);

#endif
