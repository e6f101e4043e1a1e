# Sourced by the migration lab tests (tests/lab/test-migrate, test-migrate-2host):
# the guest, its credentials and the helpers that start and watch launchers.
# Needs: top, w (the test's work folder), B (the bulwark binary).
fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
. "$top/tests/lab/console-lib.sh"

# mig_guest_script OUT [DD_FLAGS]: the guest's test script.  It counts in
# memory (guest-ticker: TICK N every 200 ms), writes record N to block N of
# /dev/vda every 300 ms (dd with DD_FLAGS, default conv=sync,fsync), dirties
# memory, and on its console takes "key" (a signing key and an NV index in
# its TPM), "sign" (the key signs, the NV index reads back) and "halt".
mig_guest_script() {
	local flags=${2:-conv=sync,fsync}
	sed "s/@DDFLAGS@/$flags/" >"$1" <<'GUEST'
#!/bin/sh
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
	insmod "/lib/modules/virtio/$m.ko" || echo "GUEST-FAIL insmod $m"
done
[ -e /lib/x86_64-linux-gnu ] || ln -s /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
[ -b /dev/vda ] || echo "GUEST-FAIL no /dev/vda"
T=device:/dev/tpmrm0
/bin/guest-ticker 200 &
( n=0
  while :; do
	printf 'REC %08d\n' $n | dd of=/dev/vda bs=4096 seek=$n @DDFLAGS@ 2>/dev/null &&
		echo "DISK $n"
	n=$((n + 1))
	sleep 0.3
  done ) &
( while :; do dd if=/dev/urandom of=/tmp/mem bs=64k count=32 2>/dev/null; done ) &
echo GUEST-READY
while read -r cmd; do
	case $cmd in
	key)
		tpm2_createprimary -T $T -C o -c /tmp/p.ctx >/dev/null &&
		tpm2_create -T $T -C /tmp/p.ctx -G ecc -u /tmp/k.pub -r /tmp/k.priv >/dev/null &&
			echo "GUEST-KEY-CREATED" || echo "GUEST-FAIL create"
		printf migrated >/tmp/nv
		tpm2_nvdefine -T $T -C o -s 8 -a "ownerread|ownerwrite" 0x1500016 2>&1 | tail -n 2 &&
		tpm2_nvwrite -T $T -C o -i /tmp/nv 0x1500016 2>&1 | tail -n 2 &&
		tpm2_nvread -T $T -C o -s 8 -o /tmp/nv2 0x1500016 >/dev/null 2>&1 &&
		cmp -s /tmp/nv /tmp/nv2 && echo "GUEST-NV-WRITTEN" || echo "GUEST-FAIL nv"
		echo "a message to sign" >/tmp/msg
		echo "GUEST-TPM1-DONE" ;;
	sign)
		tpm2_createprimary -T $T -C o -c /tmp/p2.ctx >/dev/null &&
		tpm2_load -T $T -C /tmp/p2.ctx -u /tmp/k.pub -r /tmp/k.priv -c /tmp/k.ctx >/dev/null &&
		tpm2_sign -T $T -c /tmp/k.ctx -g sha256 -o /tmp/sig /tmp/msg &&
		tpm2_verifysignature -T $T -c /tmp/k.ctx -g sha256 -m /tmp/msg -s /tmp/sig &&
			echo "GUEST-SIGN-OK" || echo "GUEST-SIGN-FAILED"
		tpm2_nvread -T $T -C o -s 8 -o /tmp/nv3 0x1500016 >/dev/null 2>&1 &&
		cmp -s /tmp/nv /tmp/nv3 && echo "GUEST-NV-OK" || echo "GUEST-NV-FAILED"
		echo "GUEST-TPM2-DONE" ;;
	halt)
		sync; echo GUEST-HALT; poweroff -f ;;
	esac
done
GUEST
}

# mig_guest_files DIR SCRIPT: DIR/vmlinuz, DIR/initrd.gz (the script, the
# ticker, tpm2-tools) for the guest.
mig_guest_files() {
	"$top/tests/lab/test-virtio-initramfs" "$w/base.gz" "$2" \
		--file "$top/build/lab/guest-ticker=/bin/guest-ticker"
	"$top/tests/lab/guest-tpm-tools" "$w/tools.gz" >/dev/null
	mkdir -p "$1"
	cat "$w/base.gz" "$w/tools.gz" >"$1/initrd.gz"
	cp "$kernel" "$1/vmlinuz"
}

# mig_host_keys DIR: one CA; hosts a, b and c (c trusted by nobody), in
# DIR/keys-HOST; a and b trust each other.
mig_host_keys() {
	mkdir -p "$1"
	for h in a b c; do
		"$B" migrate-keys --out "$1/keys-$h" --cn "host-$h" --ca-dir "$1/ca" >/dev/null 2>&1 ||
			{ fail "migrate-keys host-$h"; exit 1; }
	done
	echo "cn:host-b" >"$1/keys-a/trusted-hosts"
	echo "cn:host-a" >"$1/keys-b/trusted-hosts"
	echo "cn:host-b" >"$1/keys-c/trusted-hosts"
	chmod 600 "$1"/keys-*/host.key
}
keys() { # keys HOST: the flags of that host's credentials (under $keydir, default $w)
	local d=${keydir:-$w}
	echo --migrate-cert "$d/keys-$1/host.crt" --migrate-key "$d/keys-$1/host.key" \
		--migrate-ca "$d/keys-$1/ca.crt" --migrate-trusted "$d/keys-$1/trusted-hosts"
}

# launch TAG FD COMMAND...: console input from the fifo TAG.in (fd FD),
# output to TAG.out and TAG.err, the exit status to TAG.rc (TAG.in in $w,
# the rest in $out, default $w).
launch() {
	local t=$1 fd=$2 o=${out:-$w}; shift 2
	rm -f "$w/$t.in" "$o/$t.rc"; mkfifo "$w/$t.in"
	( exec 4>&- 5>&-
	  { set +e; cat "$w/$t.in" | "$@" 2>&1 1>&3 3>&- | cat >"$o/$t.err"
	    echo "${PIPESTATUS[1]}" >"$o/$t.rc"; } 3>&1 | cat >"$o/$t.out" ) &
	eval "exec $fd>\"$w/$t.in\""
}
# listening TAG: until TAG's `run --incoming` launcher listens (its log
# says so), at most 120 s.  A fixed pause was not enough: a clean-clone CI
# run saw a target still setting up 2 s after it started (connect refused).
listening() { wait_for "$1" 'incoming: listening on' 120 err; }
wait_for() { # wait_for TAG PATTERN SECONDS [FILE-SUFFIX, default out] (TAG's files in $out, default $w)
	local end=$((SECONDS + $3)) o=${out:-$w}
	while [ "$SECONDS" -lt "$end" ]; do
		grep -aq "$2" "$o/$1.${4:-out}" 2>/dev/null && return 0
		[ -s "$o/$1.rc" ] && break
		sleep 0.5
	done
	fail "$1: no '$2' within $3 s"; tail -n 25 "$o/$1.out" "$o/$1.err"; exit 1
}
launcher_of() { # the bulwark launcher whose command line matches PATTERN
	ps -eo pid=,args= | awk -v p="$1" '$2 ~ /bulwark$/ && $0 ~ p { print $1 }' |
		sort -n | awk 'NR == 1'
}
