"""T5's relative position buckets (Raffel et al.): the offset j - i falls
into one of 32 buckets, exact for short distances and logarithmic up to 128,
separately for keys before and after the query; each head learns one bias
per bucket. The bucket function is the usual numpy code; traced as a
score_mod, it runs per score inside the kernel, and only the 8 x 32 table
reaches the compiled op.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/t5_buckets.py
"""

import math

import numpy as np

import attn
import example

HEADS, BUCKETS, MAX_DISTANCE = 8, 32, 128


def relative_bucket(offset, buckets=BUCKETS, max_distance=MAX_DISTANCE):
    """Bidirectional T5 bucket of key offset j - i (numpy or traced)."""
    half = buckets // 2
    bucket = (offset > 0) * half
    n = np.abs(offset)
    exact = half // 2
    large = exact + (np.log(np.maximum(n, 1) / exact) /
                     math.log(max_distance / exact) *
                     (half - exact)).astype(int)
    large = np.minimum(large, half - 1)
    return np.clip(bucket + np.where(n < exact, n, large), 0, buckets - 1)


def bucket_by_hand(offset):
    """The same buckets with Python integers and math.log, one offset at a
    time: the check does not trust the numpy function it traces."""
    half = BUCKETS // 2
    base = half if offset > 0 else 0
    n = abs(offset)
    exact = half // 2
    if n < exact:
        return base + n
    large = exact + int(math.log(n / exact) / math.log(MAX_DISTANCE / exact)
                        * (half - exact))
    return base + min(large, half - 1)


def run(targets=("cpu",)):
    rng = np.random.default_rng(1)
    lq, lk = 70, 300
    q = rng.standard_normal((1, HEADS, lq, 32)).astype(np.float32)
    k, v = (rng.standard_normal((1, HEADS, lk, 32)).astype(np.float32)
            for _ in range(2))
    table = rng.standard_normal((HEADS, BUCKETS)).astype(np.float32)

    def t5_bias(s, b, h, i, j):
        return s + table[h, relative_bucket(j - i)]

    buckets = np.array([[bucket_by_hand(j - i) for j in range(lk)]
                        for i in range(lq)])
    want = example.dense_attention64(q, k, v,
                                     bias=table.astype(np.float64)[:, buckets])
    return example.check(
        "t5_buckets", lambda strategy, target: attn.attention(
            q, k, v, score_mod=t5_bias, strategy=strategy, target=target),
        want, targets)


if __name__ == "__main__":
    example.main(run)
