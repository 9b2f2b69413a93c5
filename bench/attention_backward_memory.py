"""Memory of the causal backward beyond its inputs and outputs: f32, B=1,
H=8, D=64, L=32768 (or $L), 2 threads (or $THREADS). The target asks for
at most 256 MiB.

The backward is compiled with run-time sizes (dynamic=True) and warmed up
on a short sequence first, so that compilation is not measured. Then the
process's peak resident set is reset (/proc/self/clear_refs, "5") and the
backward runs once on the long sequence: its extra memory is the new peak
minus the resident set before the call minus the three gradients it
returns. The forward (for out and the LSE) runs before, outside the
measurement.

With SCORE=elu1 (or relu, taylor2) it measures causal linear attention's
backward instead (the `linear` strategy's chunked backward; no LSE).

    PYTHONPATH=build/python /usr/bin/python3 bench/attention_backward_memory.py

Not part of the test run.
"""

import gc
import os
import time

import numpy as np

import attn

L = int(os.environ.get("L", "32768"))
THREADS = int(os.environ.get("THREADS", "2"))
SCORE = os.environ.get("SCORE", "softmax")
B, H, D = 1, 8, 64


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def main():
    rng = np.random.default_rng(0)

    def inputs(length):
        return [rng.standard_normal((B, H, length, D)).astype(np.float32)
                for _ in range(4)]

    kw = dict(causal=True, dynamic=True, threads=THREADS)
    if SCORE != "softmax":
        kw["score"] = SCORE

    def forward(q, k, v):
        if SCORE != "softmax":
            return attn.attention(q, k, v, **kw), None
        return attn.attention(q, k, v, return_lse=True, **kw)

    def backward(q, k, v, do, out, lse):
        return attn.attention_backward(q, k, v, out, do, lse, **kw)

    # Warm-up: compiles the forward and the backward for run-time sizes.
    q, k, v, do = inputs(256)
    out, lse = forward(q, k, v)
    backward(q, k, v, do, out, lse)

    q, k, v, do = inputs(L)
    out, lse = forward(q, k, v)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_kib("VmRSS")
    start = time.perf_counter()
    grads = backward(q, k, v, do, out, lse)
    seconds = time.perf_counter() - start
    peak = status_kib("VmHWM")
    outputs = sum(g.nbytes for g in grads) / 1024
    extra = (peak - before - outputs) / 1024
    inputs_mib = sum(x.nbytes for x in (q, k, v, do, out, lse)
                     if x is not None) / 2**20
    print(f"causal backward ({SCORE}), f32, B={B} H={H} L={L} D={D}, "
          f"{THREADS} threads: "
          f"{seconds:.1f} s")
    print(f"  resident before {before / 1024:.1f} MiB, peak during "
          f"{peak / 1024:.1f} MiB")
    print(f"  inputs {inputs_mib:.0f} MiB, gradients {outputs / 1024:.0f} MiB, "
          f"peak beyond both: {extra:.1f} MiB (the target asks for <= 256)")


if __name__ == "__main__":
    main()
