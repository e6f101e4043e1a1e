/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The unit tests' virtio device (tests/unit/virtio_echo.c): every chain it
 * pops comes back with 'Z' in its first writable byte, one byte used.  Its
 * dev pointer is a struct virtq_chain the test owns.  Shared by
 * test_virtio_pci and test_snapshot_virtio; each test builds its own
 * virtio_device_ops around these two (config space differs).
 */
#ifndef BULWARK_TESTS_VIRTIO_ECHO_H
#define BULWARK_TESTS_VIRTIO_ECHO_H

#include <stdint.h>

#include "core/vmm/virtio_queue.h"

#define ECHO_FEATURES (1ULL << 5)

int echo_process(void *dev, uint16_t qi, struct virtq *q, const struct gmem *m);
uint64_t echo_features(void *dev);

#endif
