# core/ virtio devices (the virtio issue): queues, devices, PCI transport.
VIRTIO_QUEUE := core/vmm/virtio_queue.c core/log.c
VIRTIO_DEVS := core/vmm/virtio_blk.c core/vmm/virtio_rng.c core/vmm/virtio_net.c core/devopts.c $(VIRTIO_QUEUE)

UNIT_TESTS += test_virtq
test_virtq_SRCS := tests/unit/test_virtq.c $(VIRTIO_QUEUE)
test_virtq_PKGS := cmocka

UNIT_TESTS += test_virtio_blk
test_virtio_blk_SRCS := tests/unit/test_virtio_blk.c $(VIRTIO_DEVS)
test_virtio_blk_PKGS := cmocka

FUZZ_TARGETS += fuzz_virtq
fuzz_virtq_SRCS := tests/fuzz/fuzz_virtq.c $(VIRTIO_DEVS)

VIRTIO_PCI := core/vmm/virtio_pci.c core/vmm/virtio_pci_bar.c core/vmm/virtio_irq.c

# What bulwark-vmm links to get its virtio devices (core/vmm/virtio_setup.h).
VIRTIO_VMM_SRCS := core/vmm/virtio_setup.c $(VIRTIO_PCI) core/vmm/virtio_blk.c \
	core/vmm/virtio_rng.c core/vmm/virtio_net.c core/vmm/virtio_queue.c

UNIT_TESTS += test_virtio_pci
test_virtio_pci_SRCS := tests/unit/test_virtio_pci.c tests/unit/virtio_echo.c $(VIRTIO_PCI) $(VIRTIO_QUEUE)
test_virtio_pci_PKGS := cmocka
test_virtio_pci_LDLIBS := -lpthread

UNIT_TESTS += test_virtio_net
test_virtio_net_SRCS := tests/unit/test_virtio_net.c $(VIRTIO_DEVS)
test_virtio_net_PKGS := cmocka

# Lab: a stock guest's disks (pattern byte for byte, readonly refused, read
# back in a second boot) and two guests pinging over taps, through `bulwark
# run` (the launcher passes the disk and tap fds, core/vmm_abi.h).
LAB_TESTS += tests/lab/test-virtio-blk
# The two guests boot one after the other: booted at once they met a fault of
# the lab's emulator (QEMU 7.2 TCG's nested SVM put the lab kernel's own
# post-VMRUN RIP into a guest, which then triple-faulted), shown without
# Bulwark by tests/lab/diag-nested-svm; the test reports any triple fault
# with the lab symbol its RIP is in.
LAB_TESTS += tests/lab/test-virtio-net
# Disk throughput inside the guest, Bulwark beside QEMU (make bench).
BENCHES += tests/bench/bench-disk

# A reset or bus-master-off during 256 queued 16 MiB reads returns in < 1 s
# (real image file, real I/O thread).
UNIT_TESTS += test_virtio_reset
test_virtio_reset_SRCS := tests/unit/test_virtio_reset.c $(VIRTIO_PCI) $(VIRTIO_DEVS)
test_virtio_reset_PKGS := cmocka
test_virtio_reset_LDLIBS := -lpthread
