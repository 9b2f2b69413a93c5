"""The backward of causal attention on the CPU, in one run: f32, B=1,
H=8, D=64, L=4096 (or $L), 2 threads (or $THREADS). Cases:

  forward      attn.attention(..., return_lse=True), the strategy selection
               picks (tiled): the baseline the backward's target is set
               against (backward <= 2.5x forward)
  backward     attn.attention_backward, the strategy selection picks (the
               CPU flash backward of `tiled`)
  reference    attn.attention_backward with strategy="reference", only when
               $REFERENCE=1 (it materializes L x L scores: slow)
  torch        the same gradients from PyTorch's autograd of matmul,
               softmax, matmul with a causal mask, its forward included
               (autograd needs it), compared with attn's forward plus
               backward (Debian's python3-torch, a baseline only; skipped
               when it is not installed)
  torch_sdpa   the same through autograd of
               torch.nn.functional.scaled_dot_product_attention(is_causal=True),
               where the installed torch has it (2.0 and later)

With SCORE=elu1 (or relu, taylor2) the attention is causal linear attention
with that kernel score instead: the forward and backward are the `linear`
strategy's (the backward takes no LSE), and torch computes the same
gradients through autograd of the masked quadratic form (phi(q) phi(k)^T
masked, times v, over its row sums); torch_sdpa does not apply.
SCORE=softplus is causal softplus attention (softplus(s) over its row sums):
its backward takes no LSE either, and is the CPU flash backward of `tiled`,
which forms each row's normalizer in a first sweep; torch differentiates
the masked, normalized softplus weights.

Each case runs $RUNS times (default 5) after one warm-up call; the median is
printed, with its ratio to the forward. The machines are noisy: rounds are
interleaved ($ROUNDS, default 3) and the ratios are medians over rounds.

    PYTHONPATH=build/python /usr/bin/python3 bench/attention_backward.py

Not part of the test run.
"""

import os
import statistics
import time

import numpy as np

import attn

L = int(os.environ.get("L", "4096"))
THREADS = int(os.environ.get("THREADS", "2"))
RUNS = int(os.environ.get("RUNS", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SCORE = os.environ.get("SCORE", "softmax")
B, H, D = 1, 8, 64


def median_seconds(call):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    rng = np.random.default_rng(0)
    q, k, v, do = (rng.standard_normal((B, H, L, D)).astype(np.float32)
                   for _ in range(4))
    kernel = SCORE != "softmax"
    kw = dict(causal=True, threads=THREADS)
    if kernel:
        kw["score"] = SCORE
        out, lse = attn.attention(q, k, v, **kw), None
        forward_kw = kw
    else:
        forward_kw = dict(kw, return_lse=True)
        out, lse = attn.attention(q, k, v, **forward_kw)
    cases = {
        "forward": lambda: attn.attention(q, k, v, **forward_kw),
        "backward": lambda: attn.attention_backward(q, k, v, out, do, lse,
                                                    **kw),
    }
    if os.environ.get("REFERENCE") == "1":
        cases["reference"] = lambda: attn.attention_backward(
            q, k, v, out, do, lse, strategy="reference", **kw)
    try:
        import torch
        torch.set_num_threads(THREADS)
        tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
        tdo = torch.tensor(do)
        causal = torch.ones(L, L, dtype=torch.bool).tril()

        def features(x):
            if SCORE == "elu1":
                return torch.nn.functional.elu(x) + 1
            return torch.relu(x)

        def torch_backward():
            if kernel and SCORE in ("elu1", "relu"):
                w = features(tq / np.sqrt(D)) @ features(tk).transpose(-1, -2)
            elif SCORE == "softplus":
                s = (tq @ tk.transpose(-1, -2)) / np.sqrt(D)
                w = torch.nn.functional.softplus(s)
            elif kernel:  # taylor2
                s = (tq @ tk.transpose(-1, -2)) / np.sqrt(D)
                w = 1 + s + 0.5 * s * s
            else:
                s = (tq @ tk.transpose(-1, -2)) / np.sqrt(D)
                s = s.masked_fill(~causal, float("-inf"))
                w = torch.softmax(s, dim=-1)
            if kernel:
                w = w.masked_fill(~causal, 0.0)
                w = w / w.sum(dim=-1, keepdim=True)
            o = w @ tv
            for x in (tq, tk, tv):
                x.grad = None
            o.backward(tdo)

        cases["torch"] = torch_backward

        def torch_sdpa_backward():
            o = torch.nn.functional.scaled_dot_product_attention(
                tq, tk, tv, is_causal=True)
            for x in (tq, tk, tv):
                x.grad = None
            o.backward(tdo)

        # Since torch 2.0; Debian 12 ships 1.13.
        if not kernel and hasattr(torch.nn.functional,
                                  "scaled_dot_product_attention"):
            cases["torch_sdpa"] = torch_sdpa_backward
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        print("torch: not installed (apt-get install python3-torch), skipped")
    for call in cases.values():
        call()
    ratios = {name: [] for name in cases}
    seconds = {name: [] for name in cases}
    for _ in range(ROUNDS):
        measured = {name: median_seconds(call) for name, call in cases.items()}
        for name, t in measured.items():
            seconds[name].append(t)
            ratios[name].append(t / measured["forward"])
    flops = 4.0 * B * H * D * L * (L + 1) / 2  # causal forward FLOPs
    print(f"causal attention ({SCORE}), f32, B={B} H={H} L={L} D={D}, "
          f"{THREADS} threads, {ROUNDS} rounds of {RUNS} calls")
    for name in cases:
        t = statistics.median(seconds[name])
        r = statistics.median(ratios[name])
        print(f"  {name:9s} {t * 1e3:9.1f} ms  {r:6.2f}x the forward"
              f"{f'  ({flops / t / 1e9:.0f} forward-GFLOP/s)' if name == 'forward' and not kernel else ''}")
    for baseline in ("torch", "torch_sdpa"):
        if baseline not in cases:
            continue
        r = statistics.median(
            t / (f + b) for f, b, t in zip(seconds["forward"],
                                           seconds["backward"],
                                           seconds[baseline]))
        print(f"  {baseline} / (attn forward + backward): {r:.2f}x "
              f"(the target asks for >= 3x)")


if __name__ == "__main__":
    main()
