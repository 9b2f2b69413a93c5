"""Compare attn's strategies on one problem: time against sequence length.

A notebook-style script (cells marked `# %%`). It runs causal grouped-query
self-attention (8 query heads, 2 KV heads, head dimension 64) with each
strategy forced, at growing lengths, checks every strategy against the
`reference` one, and plots measured milliseconds (and the cost model's
estimate, dashed) against length into a PNG.

    PYTHONPATH=build/python /usr/bin/python3 examples/compare_strategies.py \
        [out.png (default build/compare_strategies.png)] [--threads N]
"""

# %% Setup
import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import attn  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("output", nargs="?",
                    default=os.path.join("build", "compare_strategies.png"))
parser.add_argument("--threads", type=int, default=0, help="0: all cores")
parser.add_argument("--lengths", default="128,256,512,1024,2048")
args = parser.parse_args()

STRATEGIES = ["reference", "tiled", "split_kv"]
LENGTHS = [int(n) for n in args.lengths.split(",")]
HEADS_Q, HEADS_KV, HEAD_DIM = 8, 2, 64
rng = np.random.default_rng(0)


def problem(length):
    q = rng.standard_normal((1, HEADS_Q, length, HEAD_DIM), np.float32)
    k = rng.standard_normal((1, HEADS_KV, length, HEAD_DIM), np.float32)
    v = rng.standard_normal((1, HEADS_KV, length, HEAD_DIM), np.float32)
    return q, k, v


def median_ms(fn, budget_s=1.0, most=9):
    """Median wall time of fn() after one warm-up call (which compiles)."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < most and (len(times) < 3 or
                                 time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


# %% What the cost model expects at the longest length
q, k, v = problem(LENGTHS[-1])
print(f"candidates for L = {LENGTHS[-1]}:")
for c in attn.explain(q, k, v, causal=True, threads=args.threads):
    mark = "*" if c.chosen else " "
    cost = (f"{c.seconds * 1e3:9.3f} ms estimated" if c.applicable
            else f"rejected: {c.reason}")
    print(f" {mark} {c.strategy:10s} {cost}  {c.parameters}")

# %% Measure every strategy at every length
measured = {s: [] for s in STRATEGIES}
estimated = {s: [] for s in STRATEGIES}
for length in LENGTHS:
    q, k, v = problem(length)
    reference = attn.attention(q, k, v, causal=True, strategy="reference",
                               threads=args.threads)
    costs = {c.strategy: c for c in attn.explain(q, k, v, causal=True,
                                                 threads=args.threads)}
    for strategy in STRATEGIES:
        run = lambda: attn.attention(q, k, v, causal=True, strategy=strategy,
                                     threads=args.threads)
        error = np.abs(run() - reference).max()
        assert error < 1e-3, f"{strategy} at L={length}: error {error:.2e}"
        measured[strategy].append(median_ms(run))
        estimated[strategy].append(costs[strategy].seconds * 1e3)
    print(f"L = {length:5d}: " + "  ".join(
        f"{s} {measured[s][-1]:8.2f} ms" for s in STRATEGIES))

# %% Plot time against length
fig, ax = plt.subplots(figsize=(7, 4.5))
for i, strategy in enumerate(STRATEGIES):
    color = f"C{i}"
    ax.plot(LENGTHS, measured[strategy], "o-", color=color,
            label=f"{strategy} (measured)")
    ax.plot(LENGTHS, estimated[strategy], "--", color=color, alpha=0.6,
            label=f"{strategy} (cost model)")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("sequence length L (Lq = Lk)")
ax.set_ylabel("time per call (ms)")
ax.set_title(f"causal GQA attention, Hq={HEADS_Q}, Hkv={HEADS_KV}, "
             f"D={HEAD_DIM}, f32, threads={args.threads or 'all'}")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
fig.savefig(args.output, dpi=120)
print(f"wrote {args.output}")
