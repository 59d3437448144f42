"""A valid, empty qcow2 (version 2) image: header, refcount table/block and L1 table.

The test bed uploads it as the amphora image: Octavia's noop compute driver never boots
it, but Glance, the image role's checksum and tag handling see a real qcow2 file.
Usage: python placeholder_qcow2.py OUT [SIZE_MIB] [SALT]  (SALT makes distinct images)."""

from __future__ import annotations

import struct
import sys

CLUSTER = 65536


def tiny_qcow2(size_mib: int = 1, salt: bytes = b"") -> bytes:
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb", 2, 0, 0, 16, size_mib * 1024 * 1024, 0, 1, 3 * CLUSTER, 2 * CLUSTER, 1, 1, 0,
    )
    refcount_block = struct.pack(">HHHH", 1, 1, 1, 1).ljust(CLUSTER, b"\0")    # cluster 1
    refcount_table = struct.pack(">Q", 1 * CLUSTER).ljust(CLUSTER, b"\0")     # cluster 2
    l1_table = b"\0" * CLUSTER                                                # cluster 3
    # bytes past the last cluster are ignored by readers: a salt makes another image
    return header.ljust(CLUSTER, b"\0") + refcount_block + refcount_table + l1_table + salt


if __name__ == "__main__":
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    salt = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    with open(out, "wb") as handle:
        handle.write(tiny_qcow2(size, salt))
