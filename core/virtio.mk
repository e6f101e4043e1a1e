# core/ virtio devices (the virtio issue): queues, devices, PCI transport.
VIRTIO_QUEUE := core/virtio_queue.c core/log.c
VIRTIO_DEVS := core/virtio_blk.c core/virtio_rng.c $(VIRTIO_QUEUE)

UNIT_TESTS += test_virtq
test_virtq_SRCS := tests/unit/test_virtq.c $(VIRTIO_QUEUE)
test_virtq_PKGS := cmocka
