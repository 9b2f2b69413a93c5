"""Relative attention as in Music Transformer (Huang et al.) and Shaw et
al., with a learned scalar per head and relative distance: causal attention
adds rel[h, j - i] for distances up to 63 back, and the last entry for
anything farther. The table holds 64 entries per head; the score_mod clips
the distance, reads the table, and no Lq x Lk bias exists.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/music_transformer.py
"""

import numpy as np

import attn
import example

HEADS, REACH = 4, 64


def run(targets=("cpu",)):
    rng = np.random.default_rng(2)
    length = 150
    q, k, v = (rng.standard_normal((2, HEADS, length, 32)).astype(np.float32)
               for _ in range(3))
    rel = rng.standard_normal((HEADS, REACH)).astype(np.float32)

    def relative(s, b, h, i, j):
        # rel[h, 0] is distance 0. The kernels evaluate score_mod on whole
        # tiles, masked pairs (j > i) too, so the index must stay in the
        # table there as well: clip, not just minimum (the tracer says so).
        return s + rel[h, np.clip(i - j, 0, REACH - 1)]

    i, j = np.arange(length)[:, None], np.arange(length)[None, :]
    distance = np.minimum(np.maximum(i - j, 0), REACH - 1)
    want = example.dense_attention64(q, k, v,
                                     bias=rel.astype(np.float64)[:, distance],
                                     allowed=j <= i)
    return example.check(
        "music_transformer", lambda strategy, target: attn.attention(
            q, k, v, causal=True, score_mod=relative, strategy=strategy,
            target=target), want, targets)


if __name__ == "__main__":
    example.main(run)
