#!/usr/bin/env python3
"""Where a call's result lives, measured: fresh memory every call (what
every call paid before results could be reused), the module's reused
result buffers, and the caller's output array (out=), in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/result_buffers.py \\
        [--threads 2] [--runs 10] [--rounds 3]

The case is the one that showed the cost: causal sliding-window attention,
window 256, B = 1, H = 4, D = 64, f32, at L = 16384 and 65536 (a 16 and a
64 MiB result). Three ways to call it:
  fresh      every result is kept alive, so each call's result is fresh
             memory whose pages fault in as the kernel writes them
  returned   o = f(q, k, v) in a loop: each result is released before the
             next call, whose result then reuses its buffer
  out=       f(q, k, v, out=o): the kernel writes into the caller's array
Each round runs every way --runs times, interleaved; the table gives the
median over rounds of each way's median call time, the minor page faults
per call (getrusage) and the speed relative to fresh.
"""

import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "build", "python"))
import attn  # noqa: E402

H, D, WINDOW = 4, 64, 256


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(call, runs):
    """Median milliseconds and faults per call of `runs` calls."""
    times = []
    before = minor_faults()
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), (minor_faults() - before) / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.threads < 1 or args.runs < 1 or args.rounds < 1:
        parser.error("--threads, --runs and --rounds must be positive")

    rng = np.random.default_rng(0)
    print(f"threads={args.threads} runs={args.runs} rounds={args.rounds}")
    print(f"{'L':>6} {'way':>9} {'median_ms':>10} {'faults/call':>12} "
          f"{'vs fresh':>9}")
    for length in (16384, 65536):
        shape = (1, H, length, D)
        q, k, v = (rng.standard_normal(shape, dtype=np.float32)
                   for _ in range(3))
        kwargs = dict(causal=True, window=WINDOW, threads=args.threads)
        out = attn.attention(q, k, v, **kwargs)
        kept = []

        def fresh():
            kept.append(attn.attention(q, k, v, **kwargs))

        def returned():
            attn.attention(q, k, v, **kwargs)

        def into():
            attn.attention(q, k, v, out=out, **kwargs)

        ways = {"fresh": fresh, "returned": returned, "out=": into}
        results = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, call in ways.items():
                results[name].append(measure(call, args.runs))
                kept.clear()
        base = statistics.median(ms for ms, _ in results["fresh"])
        for name in ways:
            ms = statistics.median(m for m, _ in results[name])
            faults = statistics.median(f for _, f in results[name])
            print(f"{length:>6} {name:>9} {ms:>10.2f} {faults:>12.0f} "
                  f"{base / ms:>8.2f}x")
        # The three ways compute the same result.
        assert np.array_equal(out, attn.attention(q, k, v, **kwargs))


if __name__ == "__main__":
    main()
