#!/usr/bin/env python3
"""Decode over a paged KV cache against the same decode over contiguous
K/V, with the machine's measured triad bandwidth beside them, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/paged_decode.py \\
        [--threads 2] [--runs 20] [--rounds 3] [--page-size 16]

One decode step (Lq = 1) of Hq = 32 query heads over Hkv = 8 KV heads,
Lk = 32768 keys, D = 128, f32, split_kv (the strategy the cost model picks
for decode) in three forms:
  contiguous   attn.attention over [1, Hkv, Lk, D]
  paged        attn.paged_attention, pages of --page-size keys in a
               shuffled order (what a serving cache holds after a while)
  paged-i8     the same with an int8 cache and per-key scales
Each round runs every case once, interleaved (attn-run --bench, which
reuses its buffers); the table gives the median over rounds of each run's
median time, the bytes of K/V read per second, that as a share of the triad
bandwidth (bench/peak/triad.c), and each case's speed relative to
contiguous f32 decode (target for paged f32: >= 0.9x).
"""

import argparse
import os
import sys

import numpy as np

from quantized_kv_decode import report, tensor_type

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(ROOT, "build", "bench-paged-decode")

HQ, HKV, LK, D = 32, 8, 32768, 128


def contiguous_mlir():
    qt = tensor_type((1, HQ, 1, D), "f32")
    kt = tensor_type((1, HKV, LK, D), "f32")
    return f"""func.func @main(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.attention ins(%q, %k, %v : {qt}, {kt}, {kt}) outs(%init : {qt}) -> {qt}
  return %o : {qt}
}}
"""


def paged_mlir(page_size, element):
    pages = LK // page_size
    qt = tensor_type((1, HQ, 1, D), "f32")
    ct = tensor_type((pages, HKV, page_size, D), element)
    tt, lt = tensor_type((1, pages), "i32"), tensor_type((1,), "i32")
    args = [f"%q: {qt}", f"%k: {ct}", f"%v: {ct}", f"%t: {tt}", f"%l: {lt}"]
    clauses = ""
    if element == "i8":
        st = tensor_type((pages, HKV, page_size), "f32")
        args += [f"%ks: {st}", f"%vs: {st}"]
        clauses = f" k_scale(%ks : {st}) v_scale(%vs : {st})"
    return f"""func.func @main({", ".join(args)}) -> {qt} {{
  %init = tensor.empty() : {qt}
  %o = attn.paged_attention ins(%q, %k, %v, %t, %l : {qt}, {ct}, {ct}, {tt}, {lt}){clauses} outs(%init : {qt}) -> {qt}
  return %o : {qt}
}}
"""


def save(tag, name, make):
    path = os.path.join(WORK, f"{tag}-{name}.npy")
    if not os.path.exists(path):
        np.save(path, make())
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=16)
    args = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    rng = np.random.default_rng(0)
    ps = args.page_size
    if LK % ps:
        raise SystemExit(f"--page-size must divide {LK}")
    pages = LK // ps
    q = save("all", "q", lambda: rng.standard_normal((1, HQ, 1, D),
                                                     dtype=np.float32))
    cases = []
    path = os.path.join(WORK, "contiguous.mlir")
    with open(path, "w") as f:
        f.write(contiguous_mlir())
    kv = [save("contiguous", n, lambda: rng.standard_normal(
        (1, HKV, LK, D), dtype=np.float32)) for n in ("k", "v")]
    cases.append(("contiguous", path, [q] + kv, 2 * HKV * LK * D * 4))
    table = save(f"p{ps}", "table", lambda: rng.permutation(pages).astype(
        np.int32)[None])
    lengths = save("all", "klen", lambda: np.array([LK], np.int32))
    for kind, element in (("paged", "f32"), ("paged-i8", "i8")):
        path = os.path.join(WORK, f"{kind}-p{ps}.mlir")
        with open(path, "w") as f:
            f.write(paged_mlir(ps, element))
        shape = (pages, HKV, ps, D)
        if element == "f32":
            caches = [save(f"{kind}-p{ps}", n, lambda: rng.standard_normal(
                shape, dtype=np.float32)) for n in ("k", "v")]
            nbytes = 2 * HKV * LK * D * 4
        else:
            caches = [save(f"{kind}-p{ps}", n, lambda: rng.integers(
                -127, 128, shape, dtype=np.int8)) for n in ("k", "v")]
            caches += [save(f"{kind}-p{ps}", n, lambda: (0.01 * (
                1 + rng.random(shape[:3]))).astype(np.float32))
                for n in ("ks", "vs")]
            nbytes = 2 * HKV * LK * (D + 4)
        inputs = [q] + caches[:2] + [table, lengths] + caches[2:]
        cases.append((kind, path, inputs, nbytes))
    report(cases, "split_kv", args,
           f"split_kv; decode Hq={HQ} Hkv={HKV} Lk={LK} D={D}, q f32, pages "
           f"of {ps} keys in shuffled order", "contiguous")

if __name__ == "__main__":
    sys.exit(main())
