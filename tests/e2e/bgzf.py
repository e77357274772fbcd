#!/usr/bin/env python3
"""Writes IN as a BGZF file OUT (what bgzip writes: gzip members with the "BC" extra subfield
holding each member's size), cut at the given decoded offsets and otherwise every --block bytes
(at most 65280, BGZF's limit), ending with bgzip's empty EOF member.

usage: bgzf.py IN OUT [--block N] [--cuts A,B,...]
"""
import struct
import sys
import zlib


def member(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    size = 12 + 6 + len(body) + 8  # header, BC subfield, deflate data, CRC32 + ISIZE
    header = struct.pack("<4BIBBH2sHH", 0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, b"BC", 2, size - 1)
    return header + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def main() -> None:
    args = sys.argv[1:]
    block, cuts = 65280, []
    if "--block" in args:
        block = int(args[args.index("--block") + 1])
    if "--cuts" in args:
        cuts = [int(c) for c in args[args.index("--cuts") + 1].split(",") if c]
    data = open(args[0], "rb").read()
    bounds = sorted(set([0, len(data)] + [c for c in cuts if 0 < c < len(data)]))
    with open(args[1], "wb") as out:
        for a, b in zip(bounds, bounds[1:]):
            for at in range(a, b, block):
                out.write(member(data[at:min(b, at + block)]))
        out.write(member(b""))


if __name__ == "__main__":
    main()
