#!/usr/bin/env python3
"""A decode loop from Python: attn.attention(..., dynamic=("Lk",)) against
the same steps on one module compiled from hand-written dynamic IR, in one
run on this machine.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_decode.py [--steps 20] [--threads 2]

Each step attends one new query (B=1, Hq=8, Hkv=2, D=64) to a key/value
cache that grows by one position (Lk = 1024 + step). The builder path writes
the IR for each call, finds the compiled function in its cache (compiled at
the first step) and runs it; the baseline compiles its IR once before the
loop and calls the entry directly. Both loops include the first compile
(the builder's is inside its first step). Prints the seconds of each, the
ratio builder/baseline, the builder's cache counters, and the ratio of the
static-shape builder (one compile per length, as before dynamic sizes) for
reference. Not part of the test run.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "build", "python"))

import attn  # noqa: E402

HAND_WRITTEN = """
func.func @main(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x?x64xf32>,
                %v: tensor<1x2x?x64xf32>) -> tensor<1x8x1x64xf32> {
  %init = tensor.empty() : tensor<1x8x1x64xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x1x64xf32>,
                          tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
                      outs(%init : tensor<1x8x1x64xf32>) {causal}
                      -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--static", action="store_true",
                        help="also time the static-shape builder")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be >= 1")

    rng = np.random.default_rng(0)
    lk_max = 1024 + args.steps
    q = rng.standard_normal((1, 8, 1, 64), dtype=np.float32)
    k = rng.standard_normal((1, 2, lk_max, 64), dtype=np.float32)
    v = rng.standard_normal((1, 2, lk_max, 64), dtype=np.float32)
    steps = [1024 + s for s in range(args.steps)]

    start = time.perf_counter()
    module = attn.compile(HAND_WRITTEN, threads=args.threads)
    baseline_out = [module.main(q, np.ascontiguousarray(k[:, :, :lk]),
                                np.ascontiguousarray(v[:, :, :lk]))
                    for lk in steps]
    baseline = time.perf_counter() - start

    attn.clear_cache()
    start = time.perf_counter()
    builder_out = [attn.attention(q, np.ascontiguousarray(k[:, :, :lk]),
                                  np.ascontiguousarray(v[:, :, :lk]),
                                  causal=True, dynamic=("Lk",),
                                  threads=args.threads)
                   for lk in steps]
    builder = time.perf_counter() - start
    info = attn.cache_info()
    worst = max(float(np.abs(a - b).max())
                for a, b in zip(builder_out, baseline_out))

    print(f"steps={args.steps} Lk={steps[0]}..{steps[-1]} threads={args.threads}")
    print(f"hand-written dynamic IR (compile once + calls): {baseline:.3f} s")
    print(f"attn.attention(dynamic=('Lk',)):                {builder:.3f} s  "
          f"ratio {builder / baseline:.2f}x  (cache misses {info.misses}, "
          f"hits {info.hits}; max |diff| {worst:.1e})")
    if args.static:
        attn.clear_cache()
        start = time.perf_counter()
        for lk in steps:
            attn.attention(q, np.ascontiguousarray(k[:, :, :lk]),
                           np.ascontiguousarray(v[:, :, :lk]), causal=True,
                           threads=args.threads)
        static = time.perf_counter() - start
        print(f"attn.attention (static shapes, a compile per Lk): "
              f"{static:.3f} s  ratio {static / baseline:.2f}x")


if __name__ == "__main__":
    main()
