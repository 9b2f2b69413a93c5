"""Learnable attention sinks (as in gpt-oss): a per-head logit that joins
every row's softmax normalization and carries no value, so a head can put
weight "nowhere". Together with a sliding window of 32 keys, as such models
use it. Not expressible as a score_mod: it is the `sink_logits` operand.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/sink_logits.py
"""

import numpy as np

import attn
import example


def run(targets=("cpu",)):
    rng = np.random.default_rng(6)
    q = rng.standard_normal((1, 8, 100, 64)).astype(np.float32)
    k, v = (rng.standard_normal((1, 2, 100, 64)).astype(np.float32)
            for _ in range(2))
    sinks = (2 * rng.standard_normal(8)).astype(np.float32)
    i, j = np.arange(100)[:, None], np.arange(100)[None, :]
    want = example.dense_attention64(q, k, v, allowed=(j <= i) & (j >= i - 32),
                                     sink_logits=sinks)
    return example.check(
        "sink_logits", lambda strategy, target: attn.attention(
            q, k, v, causal=True, window=32, sink_logits=sinks,
            strategy=strategy, target=target), want, targets)


if __name__ == "__main__":
    example.main(run)
