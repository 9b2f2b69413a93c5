"""ALiBi (Press et al., "Train Short, Test Long"): each head adds
slope_h * (j - i) to its scores, with geometric slopes 2^(-8k/H). Written as
a score_mod, the compiled op reads one slope per head and never forms the
Lq x Lk bias that a `bias=` operand would need.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/alibi.py
"""

import numpy as np

import attn
import example

HEADS = 8
SLOPES = (2.0 ** (-8.0 * np.arange(1, HEADS + 1) / HEADS)).astype(np.float32)


def alibi(s, b, h, i, j):
    return s + SLOPES[h] * (j - i)


def run(targets=("cpu",)):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, HEADS, 77, 32)).astype(np.float32)
               for _ in range(3))
    i, j = np.arange(77)[:, None], np.arange(77)[None, :]
    bias = SLOPES.astype(np.float64)[:, None, None] * (j - i)
    want = example.dense_attention64(q, k, v, bias=bias, allowed=j <= i)
    return example.check(
        "alibi", lambda strategy, target: attn.attention(
            q, k, v, causal=True, score_mod=alibi, strategy=strategy,
            target=target), want, targets)


if __name__ == "__main__":
    example.main(run)
