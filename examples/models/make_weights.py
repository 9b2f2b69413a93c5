#!/usr/bin/env python3
"""Writes a model's inputs and parameters as .npy files (fixed seed, scaled
like an initialized model; nothing is downloaded) and prints them as a
comma-separated list in argument order, for attn-run --inputs.

    make_weights.py gpt|encoder OUT_DIR [--bench]"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocks  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("model", choices=sorted(blocks.BLOCKS))
parser.add_argument("out")
parser.add_argument("--bench", action="store_true")
args = parser.parse_args()
config = (blocks.BENCH_CONFIGS if args.bench else blocks.CONFIGS)[args.model]
os.makedirs(args.out, exist_ok=True)
paths = []
for name, value in blocks.make_arrays(args.model, config).items():
    path = os.path.join(args.out, name + ".npy")
    np.save(path, value)
    paths.append(path)
print(",".join(paths))
