/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's escape key (core/launch/console_esc.h).  Bytes from the
 * operator's terminal, never from the guest; the output is never longer
 * than the input, so the filter works in place.
 */
#include "core/launch/console_esc.h"

unsigned int console_esc_filter(struct console_esc *e, uint8_t *buf, size_t *n)
{
	unsigned int quits = 0;
	size_t out = 0;

	for (size_t i = 0; i < *n; i++) {
		uint8_t c = buf[i];

		if (!e->armed) {
			if (c == CONSOLE_ESC_KEY)
				e->armed = true;
			else
				buf[out++] = c;
			continue;
		}
		e->armed = false;
		if (c == 'q' || c == 'Q')
			quits++;
		else
			buf[out++] = c;   /* Ctrl-] Ctrl-], or another key: sent alone */
	}
	*n = out;
	return quits;
}
