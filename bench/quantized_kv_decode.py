#!/usr/bin/env python3
"""Decode over quantized K/V: f32, i8 (per-token scales) and f8E4M3FN
(per-head scales) K/V at one shape, with the machine's measured triad
bandwidth beside them, all in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/quantized_kv_decode.py \\
        [--threads 2] [--runs 20] [--rounds 3] [--strategy split_kv]

One decode step (Lq = 1) of Hq = 32 query heads over Hkv = 8 KV heads,
Lk = 32768, D = 128, q f32. Each round runs every case once, interleaved
(attn-run --bench, which reuses its buffers); the table gives the median
over rounds of each run's median time, the bytes of K/V (and scales) read
per second, that as a share of the triad bandwidth (bench/peak/triad.c,
built here with gcc -O2 -fopenmp, best of 10), and each case's speed-up
over f32 K/V.
"""

import argparse
import os
import statistics
import subprocess
import sys

import numpy as np

from split_kv_decode import run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ATTN_RUN = os.path.join(ROOT, "build", "bin", "attn-run")
WORK = os.path.join(ROOT, "build", "bench-quantized-kv")

HQ, HKV, LK, D = 32, 8, 32768, 128


def tensor_type(shape, element):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + element + ">"


def decode_mlir(kind):
    qt = tensor_type((1, HQ, 1, D), "f32")
    element = {"f32": "f32", "i8": "i8", "f8": "f8E4M3FN"}[kind]
    kt = tensor_type((1, HKV, LK, D), element)
    args = [f"%q: {qt}", f"%k: {kt}", f"%v: {kt}"]
    clauses = ""
    if kind != "f32":
        st = tensor_type((1, HKV, LK) if kind == "i8" else (HKV,), "f32")
        args += [f"%ks: {st}", f"%vs: {st}"]
        clauses = f" k_scale(%ks : {st}) v_scale(%vs : {st})"
    return f"""func.func @main({", ".join(args)}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.attention ins(%q, %k, %v : {qt}, {kt}, {kt}){clauses} outs(%init : {qt}) -> {qt}
  return %o : {qt}
}}
"""


def inputs_for(kind, rng):
    """(paths of the .npy inputs, bytes of K/V and scales read per call)."""
    paths = []

    def save(name, array):
        path = os.path.join(WORK, f"{kind}-{name}.npy")
        if not os.path.exists(path):
            np.save(path, array)
        paths.append(path)
        return array.nbytes

    save("q", rng.standard_normal((1, HQ, 1, D), dtype=np.float32))
    shape = (1, HKV, LK, D)
    total = 0
    for name in ("k", "v"):
        if kind == "f32":
            total += save(name, rng.standard_normal(shape, dtype=np.float32))
        elif kind == "i8":
            total += save(name, rng.integers(-127, 128, shape, dtype=np.int8))
        else:  # finite f8E4M3FN bit patterns (0x7f / 0xff are NaN)
            total += save(name, rng.integers(0, 0x7f, shape, dtype=np.uint8)
                          | (rng.integers(0, 2, shape, dtype=np.uint8) << 7))
    if kind != "f32":
        scales = (1, HKV, LK) if kind == "i8" else (HKV,)
        for name in ("ks", "vs"):
            total += save(name, (0.01 * (1 + rng.random(scales))).astype(
                np.float32))
    return paths, total


def triad_gbs(threads):
    os.makedirs(WORK, exist_ok=True)
    binary = os.path.join(WORK, "triad")
    subprocess.run(["gcc", "-O2", "-fopenmp", "-o", binary,
                    os.path.join(HERE, "peak", "triad.c")], check=True)
    out = subprocess.run([binary, str(threads)], check=True,
                         capture_output=True, text=True).stdout
    for token in out.split():
        if token.startswith("triad_gbs="):
            return float(token.split("=", 1)[1])
    raise RuntimeError("no triad_gbs in: " + out)


def report(cases, strategy, args, header, base):
    """Runs (name, mlir path, input paths, bytes read) cases interleaved
    for args.rounds rounds, then prints each case's median time, bandwidth,
    share of the triad bandwidth and speed relative to case `base`."""
    bandwidth = triad_gbs(args.threads)
    times = {}
    for _ in range(args.rounds):
        for name, path, inputs, _ in cases:
            times.setdefault(name, []).append(
                run(ATTN_RUN, path, inputs, strategy, args.threads,
                    args.runs))
    print(f"threads={args.threads} runs={args.runs} rounds={args.rounds} "
          f"{header}; triad {bandwidth:.1f} GB/s")
    width = max(len(name) for name, _, _, _ in cases)
    print(f"{'case':{width}} {'ms':>8} {'GB/s':>7} {'% triad':>8} "
          f"{'vs ' + base:>14}")
    base_ms = statistics.median(times[base])
    for name, _, _, nbytes in cases:
        ms = statistics.median(times[name])
        gbs = nbytes / (ms * 1e-3) / 1e9
        print(f"{name:{width}} {ms:8.3f} {gbs:7.1f} "
              f"{100 * gbs / bandwidth:7.0f}% {base_ms / ms:13.2f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--strategy", default="split_kv",
                        help="the strategy forced on the op")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    rng = np.random.default_rng(0)
    cases = []
    for kind in ("f32", "i8", "f8"):
        path = os.path.join(WORK, kind + ".mlir")
        with open(path, "w") as f:
            f.write(decode_mlir(kind))
        paths, nbytes = inputs_for(kind, rng)
        cases.append((kind, path, paths, nbytes))
    report(cases, args.strategy, args,
           f"strategy={args.strategy}; decode Hq={HQ} Hkv={HKV} Lk={LK} "
           f"D={D}, q f32", "f32")

if __name__ == "__main__":
    sys.exit(main())
