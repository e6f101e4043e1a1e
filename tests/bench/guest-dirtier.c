/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guest-dirtier KIB_PER_S [SPAN_MIB]: inside a benchmark guest, dirties
 * memory at a known rate: every 10 ms it writes one word into each of the
 * next KIB_PER_S / 4 / 100 pages of a SPAN_MIB (default 64) buffer, going
 * round it, so KIB_PER_S KiB of distinct pages are dirtied each second
 * while the span is larger than a second's worth.  Prints "DIRTIER
 * KIB_PER_S" once it runs.  Built static (the guest has no libc).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long kib = argc > 1 ? strtol(argv[1], NULL, 10) : 1024;
	long span = (argc > 2 ? strtol(argv[2], NULL, 10) : 64) << 20;
	long per_tick = kib / 4 / 100, pages = span / 4096, p = 0;
	struct timespec next;
	uint8_t *buf = malloc((size_t)span);

	if (!buf || kib <= 0 || span <= 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("DIRTIER %ld\n", kib);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t gen = 1;; gen++) {
		for (long i = 0; i < per_tick; i++, p = (p + 1) % pages)
			*(volatile uint64_t *)(buf + p * 4096) = gen;
		next.tv_nsec += 10000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}
