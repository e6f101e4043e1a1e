# Sourced by the lab tests whose guest counts on its console and writes
# numbered records to its disk (tests/lab/test-snapshot, mig-lib.sh): reading
# those back.  Needs: w (the test's work folder; "out" overrides it).

# The number of the last (first) whole "DISK N" or "TICK N SEC.NSEC" line
# of a console: the tty echoes what the test writes to the guest (the
# "halt"), which can land in the middle of a line the guest was writing
# ("DISK 330halt"), and a line can be split across a move.
tag_nums() {
	tr -d '\r' <"${out:-$w}/$1.out" | grep -a -E "^$2 [0-9]+( [0-9]+\.[0-9]{9})?\$" |
		awk '{ print $2 }'
}
last_num() { tag_nums "$1" "$2" | tail -n 1; }
first_num() { tag_nums "$1" "$2" | head -n 1; }

# disk_records_check IMAGE LAST: records 0..LAST whole in IMAGE; prints "ok" or
# what is missing.
disk_records_check() {
	python3 - "$1" "$2" <<'PYEOF'
import sys
with open(sys.argv[1], "rb") as f:
    last = int(sys.argv[2])
    img = f.read((last + 1) * 4096)
bad = [n for n in range(last + 1) if img[n * 4096:n * 4096 + 13] != b"REC %08d\n" % n]
print("ok" if not bad else "missing or wrong: %s" % bad[:10])
PYEOF
}
