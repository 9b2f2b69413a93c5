"""Prefix-LM (as in T5's and UniLM's prefix language models): the first
prefix[b] positions of each sequence attend to each other in both
directions, the rest causally. A mask_mod over a per-batch prefix length,
instead of a [B, 1, L, L] boolean mask.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/prefix_lm.py
"""

import numpy as np

import attn
import example


def run(targets=("cpu",)):
    rng = np.random.default_rng(3)
    batch, heads, length = 3, 4, 90
    q, k, v = (rng.standard_normal((batch, heads, length, 32)).astype(
        np.float32) for _ in range(3))
    prefix = np.array([0, 17, 64], np.int32)

    def prefix_lm(b, h, i, j):
        return (j < prefix[b]) | (j <= i)

    i, j = np.arange(length)[:, None], np.arange(length)[None, :]
    allowed = np.stack([(j < p) | (j <= i) for p in prefix])[:, None]
    want = example.dense_attention64(q, k, v, allowed=allowed)
    return example.check(
        "prefix_lm", lambda strategy, target: attn.attention(
            q, k, v, mask_mod=prefix_lm, strategy=strategy, target=target),
        want, targets)


if __name__ == "__main__":
    example.main(run)
