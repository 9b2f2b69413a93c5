"""Logit softcapping (Gemma 2, Grok) written as a score_mod,
s -> c * tanh(s / c), with c = 50 on scores made large enough to bend. It
matches both a float64 reference and the op's built-in `softcap` attribute.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/softcap.py
"""

import numpy as np

import attn
import example

CAP = 50.0


def softcap(s, b, h, i, j):
    return CAP * np.tanh(s / CAP)


def run(targets=("cpu",)):
    rng = np.random.default_rng(5)
    q = 12 * rng.standard_normal((1, 4, 61, 64)).astype(np.float32)
    k, v = (rng.standard_normal((1, 4, 61, 64)).astype(np.float32)
            for _ in range(2))
    scale = float(np.float32(1 / 8))
    s = scale * q.astype(np.float64) @ k.astype(np.float64).swapaxes(-1, -2)
    want = example.dense_attention64(q, k, v,
                                     bias=CAP * np.tanh(s / CAP) - s,
                                     allowed=np.tri(61, dtype=bool))
    worst = example.check(
        "softcap", lambda strategy, target: attn.attention(
            q, k, v, causal=True, score_mod=softcap, strategy=strategy,
            target=target), want, targets)
    example.check(
        "softcap attribute", lambda strategy, target: attn.attention(
            q, k, v, causal=True, softcap=CAP, strategy=strategy,
            target=target), want, targets)
    return worst


if __name__ == "__main__":
    example.main(run)
