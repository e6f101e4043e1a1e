/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-disk-io DEVICE MIB OPS: runs inside a benchmark guest (linked
 * statically into its initramfs by tests/bench/bench-disk).  On DEVICE, with
 * O_DIRECT so the guest's page cache is out of the picture: sequential write
 * and read of MIB MiB in 1 MiB requests, then OPS random 4 KiB reads and OPS
 * random 4 KiB writes over the same span (fixed seed: both VMMs see the same
 * offsets).  Prints one "BENCH name value unit" line per measure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RND_BLOCK 4096u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int seq(int fd, uint8_t *buf, uint64_t mib, int write)
{
	double t0 = now(), dt;

	for (uint64_t i = 0; i < mib; i++) {
		ssize_t r = write ? pwrite(fd, buf, SEQ_BLOCK, (off_t)(i * SEQ_BLOCK)) :
				    pread(fd, buf, SEQ_BLOCK, (off_t)(i * SEQ_BLOCK));

		if (r != SEQ_BLOCK)
			return -1;
	}
	if (write && fdatasync(fd))
		return -1;
	dt = now() - t0;
	printf("BENCH seq_%s %.1f MiB/s\n", write ? "write" : "read", (double)mib / dt);
	return 0;
}

static int rnd(int fd, uint8_t *buf, uint64_t mib, uint64_t ops, int write)
{
	uint64_t blocks = mib * (SEQ_BLOCK / RND_BLOCK), x = 0x2545F4914F6CDD1DULL;
	double t0 = now(), dt;

	for (uint64_t i = 0; i < ops; i++) {
		off_t off;
		ssize_t r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = (off_t)((x % blocks) * RND_BLOCK);
		r = write ? pwrite(fd, buf, RND_BLOCK, off) : pread(fd, buf, RND_BLOCK, off);
		if (r != RND_BLOCK)
			return -1;
	}
	if (write && fdatasync(fd))
		return -1;
	dt = now() - t0;
	printf("BENCH rand_%s %.0f IOPS\n", write ? "write" : "read", (double)ops / dt);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib, ops;
	uint8_t *buf;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-disk-io DEVICE MIB OPS\n");
		return 2;
	}
	mib = strtoull(argv[2], NULL, 10);
	ops = strtoull(argv[3], NULL, 10);
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || mib == 0 || ops == 0 || posix_memalign((void **)&buf, 4096, SEQ_BLOCK)) {
		fprintf(stderr, "bench-disk-io: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(buf, 0x5a, SEQ_BLOCK);
	if (seq(fd, buf, mib, 1) || seq(fd, buf, mib, 0) || rnd(fd, buf, mib, ops, 0) ||
	    rnd(fd, buf, mib, ops, 1)) {
		fprintf(stderr, "bench-disk-io: I/O failed: %s\n", strerror(errno));
		return 1;
	}
	free(buf);
	close(fd);
	return 0;
}
