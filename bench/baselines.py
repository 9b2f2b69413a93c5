"""Naive attention baselines, timed in-process: numpy on OpenBLAS and
PyTorch (Debian's python3-torch). Both materialize the score matrix.

Usage: python3 baselines.py numpy|torch B Hq Hkv Lq Lk D causal threads runs
Prints `median_ms=<float> peak_rss_mib=<float>`.
"""

import os
import resource
import sys
import time


def numpy_attention(np, q, k, v, causal):
    scale = 1.0 / np.sqrt(q.shape[-1])
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k = np.repeat(k, group, axis=1)
        v = np.repeat(v, group, axis=1)
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * np.float32(scale)
    if causal:
        lq, lk = s.shape[-2:]
        s = s + np.triu(np.full((lq, lk), -np.inf, dtype=np.float32),
                        1 + lk - lq)
    s = s - s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return np.matmul(s, v)


def torch_attention(torch, q, k, v, causal):
    scale = 1.0 / (q.shape[-1] ** 0.5)
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    if causal:
        lq, lk = s.shape[-2:]
        s = s + torch.triu(torch.full((lq, lk), float("-inf")), 1 + lk - lq)
    return torch.matmul(torch.softmax(s, dim=-1), v)


def main():
    kind = sys.argv[1]
    b, hq, hkv, lq, lk, d = (int(x) for x in sys.argv[2:8])
    causal = sys.argv[8] == "1"
    threads, runs = int(sys.argv[9]), int(sys.argv[10])
    import numpy as np
    rng = np.random.default_rng(0)
    q = rng.standard_normal((b, hq, lq, d), dtype=np.float32)
    k = rng.standard_normal((b, hkv, lk, d), dtype=np.float32)
    v = rng.standard_normal((b, hkv, lk, d), dtype=np.float32)
    if kind == "numpy":
        run = lambda: numpy_attention(np, q, k, v, causal)
    else:
        import torch
        torch.set_num_threads(threads)
        tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
        run = lambda: torch_attention(torch, tq, tk, tv, causal)
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"median_ms={times[len(times) // 2]:.4f} peak_rss_mib={rss:.1f}")


if __name__ == "__main__":
    main()
