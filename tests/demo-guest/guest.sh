#!/bin/sh
# The demo guest (tests/demo): says it is up, shows its TPM, then waits for
# the host's "poweroff" line on its console and returns (the initramfs's
# init then powers the guest off).  SIGTERM to `bulwark run` powers it off
# too: the initramfs's acpid (tests/lab/mkinitramfs) handles the ACPI power
# button.
echo "demo-guest: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU(s)"
if [ -c /dev/tpm0 ]; then
	echo "demo-guest: /dev/tpm0 present (TPM 2.0 version $(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null))"
else
	echo "demo-guest: no /dev/tpm0"
fi
echo "BULWARK-DEMO-GUEST-UP"
while read -r line; do
	[ "$line" = poweroff ] && break
done
echo "demo-guest: powering off"
