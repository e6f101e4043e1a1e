#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds of fuzz_snapshot's migration mode (first byte 0x40 | vCPUs - 1 |
0x80 for 4 GiB): whole streams and one of each refusal, written to
tests/fuzz/corpus/fuzz_snapshot/mig-*.  Run from the top of the tree."""
import hashlib, struct, sys

MIG, PAGE = b"BWVMMG\0\1", 4096
META, VCPU, IRQCHIP, PIT, CLOCK, DEV, MEM, END, PAGES, ROUND_END = range(1, 11)
MEMB = 64 << 20


def rec(t, i, p=b""):
    return struct.pack("<IIQ", t, i, len(p)) + p


def pages(r, gpa, n, fill=1):
    return rec(PAGES, r, struct.pack("<Q", gpa) + bytes([fill]) * (n * PAGE))


def state(nvcpus=1, mem=MEMB):
    meta = b"\0" * 32 + struct.pack("<IIQ", nvcpus, 0, mem)
    out = rec(META, 0, meta)
    for i in range(nvcpus):
        out += rec(VCPU, i, b"\0" * 64)
    return out + rec(IRQCHIP, 0, b"\0" * 64) + rec(PIT, 0, b"\0" * 16) + \
        rec(CLOCK, 0, b"\0" * 48) + rec(END, 0)


def rounds(*rs):
    out = b""
    for r, body in enumerate(rs):
        out += body + rec(ROUND_END, r)
    return out


seeds = {
    "whole": 0x40, "whole-2vcpu": 0x41, "whole-4g-high": 0xC0,
}
streams = {
    "whole": rounds(pages(0, 0, 2) + pages(0, 0x100000, 1), pages(1, 0, 1, 0)) + state(),
    "whole-2vcpu": rounds(pages(0, 0x1000, 1), b"", pages(2, 0, 1)) + state(2),
    "whole-4g-high": rounds(pages(0, 0, 1) + pages(0, 1 << 32, 1), pages(1, 1 << 32, 1))
    + state(1, 4 << 30),
    "skipped-round": rounds(pages(0, 0, 1)) + pages(2, 0, 1) + rec(ROUND_END, 2) + state(),
    "repeated-round": rounds(pages(0, 0, 1)) + rec(ROUND_END, 0) + state(),
    "pages-after-meta": rounds(pages(0, 0, 1)) + state()[:-16] + pages(1, 0, 1) + rec(END, 0),
    "mem-in-mig": rounds(pages(0, 0, 1)) + rec(MEM, 0, struct.pack("<Q", 0) + b"\1" * PAGE)
    + state(),
    "no-round": state(),
    "gpa-decreasing": rounds(pages(0, 0x2000, 1) + pages(0, 0x1000, 1)) + state(),
    "gpa-outside": rounds(pages(0, MEMB, 1)) + state(),
    "round-unended": pages(0, 0, 1) + state(),
    "65-rounds": rounds(*[pages(r, 0, 1) for r in range(65)]) + state(),
    "64-rounds": rounds(*[pages(r, 0, 1) for r in range(64)]) + state(),
    "truncated": (rounds(pages(0, 0, 2)) + state())[:PAGE],
}
for name, body in streams.items():
    first = seeds.get(name, 0x40)
    with open(f"tests/fuzz/corpus/fuzz_snapshot/mig-{name}", "wb") as f:
        f.write(bytes([first]) + MIG + body)
print(f"{len(streams)} seeds", file=sys.stderr)
