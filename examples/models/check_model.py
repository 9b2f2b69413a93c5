#!/usr/bin/env python3
"""Compares attn-run outputs of a model with its float64 numpy block (and
with each other): prints the max abs error of each and exits 1 when one is
above the tolerance.

    check_model.py gpt|encoder WEIGHTS_DIR OUT.npy [OUT2.npy ...] [--bench]
        [--atol 1e-3]"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocks  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("model", choices=sorted(blocks.BLOCKS))
parser.add_argument("weights")
parser.add_argument("outputs", nargs="+")
parser.add_argument("--bench", action="store_true")
parser.add_argument("--atol", type=float, default=1e-3)
args = parser.parse_args()
config = (blocks.BENCH_CONFIGS if args.bench else blocks.CONFIGS)[args.model]
arrays = {}
for name in blocks.make_arrays(args.model, config):
    arrays[name] = np.load(os.path.join(args.weights, name + ".npy"))
expected = blocks.BLOCKS[args.model](arrays, config)
ok = True
outs = [np.load(p).astype(np.float64) for p in args.outputs]
for path, out in zip(args.outputs, outs):
    err = float(np.max(np.abs(out - expected)))
    good = out.shape == expected.shape and np.isfinite(out).all() and err <= args.atol
    ok &= good
    print(f"{os.path.basename(path)}: max_abs_err={err:.3g} vs float64 numpy "
          f"{'PASS' if good else 'FAIL'}")
for a, b in zip(outs, outs[1:]):
    err = float(np.max(np.abs(a - b)))
    good = err <= args.atol
    ok &= good
    print(f"outputs agree: max_abs_diff={err:.3g} {'PASS' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
