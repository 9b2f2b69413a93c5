#!/usr/bin/env python3
"""split_kv at decode shapes: the strategy's time, beside `tiled` on the
same op, and (for before/after comparisons of a change) beside the same
strategy in another build's attn-run.

    PYTHONPATH=build/python /usr/bin/python3 bench/split_kv_decode.py \\
        [--threads 2] [--runs 20] [--rounds 3] [--other PATH/TO/attn-run]

Cases: one decode step (Lq = 1) of Hq = 32 query heads over Hkv = 8 KV
heads, Lk = 32768, D = 128, f32; the same with return_lse and
return_entropy; and 4 requests of 4 queries (speculative decode). Each
round runs every (case, binary, strategy) once, interleaved, and the table
gives the median over rounds of each run's median time (attn-run --bench),
the K/V bytes per time (GB/s), and the ratios to this build's split_kv.
"""

import argparse
import os
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ATTN_RUN = os.path.join(ROOT, "build", "bin", "attn-run")
WORK = os.path.join(ROOT, "build", "bench-split-kv")


def tensor_type(shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def decode_mlir(b, hq, hkv, lq, lk, d, statistics_out):
    qt = tensor_type((b, hq, lq, d))
    kt = tensor_type((b, hkv, lk, d))
    rt = tensor_type((b, hq, lq))
    flags = ", return_lse, return_entropy" if statistics_out else ""
    results = [qt] + ([rt, rt] if statistics_out else [])
    names = ["%o#0", "%o#1", "%o#2"] if statistics_out else ["%o"]
    count = ":3" if statistics_out else ""
    return f"""func.func @main(%q: {qt}, %k: {kt}, %v: {kt}) -> ({", ".join(results)}) {{
  %init = tensor.empty() : {qt}
  %o{count} = attn.attention ins(%q, %k, %v : {qt}, {kt}, {kt}) outs(%init : {qt}) {{causal{flags}}} -> {", ".join(results)}
  return {", ".join(names)} : {", ".join(results)}
}}
"""


def run(binary, path, inputs, strategy, threads, runs):
    cmd = [binary, path, "--entry", "main", "--inputs", ",".join(inputs),
           "--bench", str(runs), "--threads", str(threads),
           "--attn-strategy=" + strategy]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    for token in out.stdout.strip().splitlines()[-1].split():
        if token.startswith("median_ms="):
            return float(token.split("=", 1)[1])
    raise RuntimeError(f"no median_ms in: {out.stdout[-500:]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--other", help="another build's attn-run")
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    binaries = [("this", ATTN_RUN)]
    if args.other:
        binaries.append(("other", args.other))
    cases = [("decode Lq=1", 1, 1, False), ("decode Lq=1 lse+entropy", 1, 1, True),
             ("4 requests x Lq=4", 4, 4, False)]
    hq, hkv, lk, d = 32, 8, 32768, 128
    rng = np.random.default_rng(0)
    times = {}
    prepared = []
    for name, b, lq, stats in cases:
        tag = f"b{b}-lq{lq}-{int(stats)}"
        path = os.path.join(WORK, tag + ".mlir")
        with open(path, "w") as f:
            f.write(decode_mlir(b, hq, hkv, lq, lk, d, stats))
        inputs = []
        for arg, shape in [("q", (b, hq, lq, d)), ("k", (b, hkv, lk, d)),
                           ("v", (b, hkv, lk, d))]:
            npy = os.path.join(WORK, f"b{b}-lq{lq}-{arg}.npy")
            if not os.path.exists(npy):
                np.save(npy, rng.standard_normal(shape, dtype=np.float32))
            inputs.append(npy)
        prepared.append((name, b, path, inputs))
    runs = [(label, binary, strategy) for label, binary in binaries
            for strategy in ("split_kv", "tiled")]
    for _ in range(args.rounds):
        for name, b, path, inputs in prepared:
            for label, binary, strategy in runs:
                times.setdefault((name, label, strategy), []).append(
                    run(binary, path, inputs, strategy, args.threads,
                        args.runs))
    print(f"threads={args.threads} runs={args.runs} rounds={args.rounds}; "
          f"Hq={hq} Hkv={hkv} Lk={lk} D={d} f32, causal")
    print(f"{'case':26} {'build':6} {'strategy':9} {'ms':>8} {'GB/s':>7} "
          f"{'vs this split_kv':>17}")
    for name, b, _, _ in prepared:
        base = statistics.median(times[(name, "this", "split_kv")])
        kv_bytes = 2.0 * 4 * b * hkv * lk * d
        for label, _, strategy in runs:
            ms = statistics.median(times[(name, label, strategy)])
            print(f"{name:26} {label:6} {strategy:9} {ms:8.3f} "
                  f"{kv_bytes / (ms * 1e-3) / 1e9:7.1f} {ms / base:16.3f}x")


if __name__ == "__main__":
    sys.exit(main())
