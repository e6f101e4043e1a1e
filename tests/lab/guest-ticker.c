/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guest-ticker [MS]: inside a test guest, prints "TICK N SEC.NSEC" (its own
 * CLOCK_MONOTONIC) every MS milliseconds (100), forever.  test-control reads
 * the ticks on the console: none while the guest is paused, and the clock
 * of the first tick after resume advanced by less than the pause.
 * Built static (the guest has no libc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	struct timespec d = { ms / 1000, (ms % 1000) * 1000000L }, t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long n = 0;; n++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		printf("TICK %lu %lld.%09ld\n", n, (long long)t.tv_sec, t.tv_nsec);
		nanosleep(&d, NULL);
	}
}
