#!/usr/bin/env python3
"""Writes a deliberately malformed .npy file for the error tests.

  write_npy.py PATH HEADER [--version N] [--data-bytes N] [--header-length N]

HEADER is the header text (a Python dict literal, or anything); the data is
--data-bytes zero bytes (default: what a (1, 2, 16, 8) float32 array needs);
--header-length overrides the length field (a header longer than the file).
"""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("header")
parser.add_argument("--version", type=int, default=1)
parser.add_argument("--data-bytes", type=int, default=1 * 2 * 16 * 8 * 4)
parser.add_argument("--header-length", type=int)
args = parser.parse_args()

header = args.header.encode("latin1")
header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
length = args.header_length if args.header_length is not None else len(header)
with open(args.path, "wb") as f:
    f.write(b"\x93NUMPY" + bytes([args.version, 0]))
    f.write(length.to_bytes(2, "little"))
    f.write(header)
    f.write(bytes(args.data_bytes))
