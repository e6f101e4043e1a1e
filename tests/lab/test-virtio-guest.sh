#!/bin/sh
# Runs inside the nested test guest (see tests/lab/test-virtio-blk and test-virtio-net): loads the
# stock virtio modules, then does what bulwark.mode= on the command line says.
# Prints GUEST-* markers for the host to check.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
	 virtio_blk virtio-rng failover net_failover virtio_net; do
	insmod "/lib/modules/virtio/$m.ko" || echo "GUEST-FAIL insmod $m"
done
mode=$(sed -n 's/.*bulwark.mode=\([a-z-]*\).*/\1/p' /proc/cmdline)
i=0
while [ ! -e /sys/block/vdb ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
pattern() { yes bulwark-virtio-blk-pattern-0123456789 | head -c 1048576; }

case "$mode" in
write)
	[ "$(cat /sys/block/vda/size)" = 131072 ] && [ "$(cat /sys/block/vdb/size)" = 32768 ] &&
		echo GUEST-DISKS-OK
	[ "$(cat /sys/block/vda/serial 2>/dev/null)" = disk-a ] && echo GUEST-SERIAL-OK
	[ "$(cat /sys/block/vdb/ro)" = 1 ] && [ "$(cat /sys/block/vda/ro)" = 0 ] && echo GUEST-RO-OK
	n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
	grep -q virtio /sys/class/misc/hw_random/rng_current && [ "$n" = 64 ] && echo GUEST-RNG-OK
	pattern >/tmp/p
	dd if=/tmp/p of=/dev/vda bs=65536 conv=fsync 2>/dev/null && echo GUEST-WRITE-OK
	# The readonly disk: the block layer refuses, and so would the device.
	if dd if=/tmp/p of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; then
		echo GUEST-FAIL wrote to the readonly disk
	else
		echo GUEST-RO-WRITE-REFUSED
	fi
	;;
read)
	pattern >/tmp/p
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/vda of=/tmp/r bs=65536 count=16 2>/dev/null
	cmp /tmp/p /tmp/r && echo GUEST-READBACK-OK
	;;
net-a|net-b)
	# Two guests on one bridge: a answers, b pings it.
	i=0
	while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	me=1; peer=2
	[ "$mode" = net-b ] && me=2 && peer=1
	ip link set lo up
	ip addr add "10.99.0.$me/24" dev eth0 && ip link set eth0 up && echo GUEST-NET-UP
	if [ "$mode" = net-a ]; then
		sleep "${NET_A_WAIT:-240}"     # the host stops this guest once b is done
	else
		i=0
		while [ $i -lt 30 ]; do
			ping -c 3 -W 5 "10.99.0.$peer" && { echo GUEST-PING-OK; break; }
			i=$((i + 1))
		done
	fi
	;;
*)
	echo "GUEST-FAIL unknown mode '$mode'"
	;;
esac
grep -i virtio /proc/interrupts | awk '{ print "GUEST-IRQ", $0 }' | head -4
