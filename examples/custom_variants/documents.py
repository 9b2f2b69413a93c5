"""Document masking of packed sequences: several documents of random
lengths share one row of length L, and each token attends causally within
its own document. The mask_mod compares segment ids; the compiled op reads
the [B, L] ids, where a materialized mask would be [B, 1, L, L].

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/documents.py
"""

import numpy as np

import attn
import example


def segment_ids(rng, length, documents):
    """[length] int32: document k covers one run of positions."""
    cuts = np.sort(rng.choice(np.arange(1, length), documents - 1,
                              replace=False))
    return np.searchsorted(cuts, np.arange(length), side="right").astype(
        np.int32)


def run(targets=("cpu",)):
    rng = np.random.default_rng(4)
    batch, heads, kv_heads, length = 2, 8, 2, 211
    q = rng.standard_normal((batch, heads, length, 32)).astype(np.float32)
    k, v = (rng.standard_normal((batch, kv_heads, length, 32)).astype(
        np.float32) for _ in range(2))
    seg = np.stack([segment_ids(rng, length, 8) for _ in range(batch)])

    def same_document(b, h, i, j):
        return seg[b, i] == seg[b, j]

    allowed = seg[:, None, :, None] == seg[:, None, None, :]
    causal = np.tril(np.ones((length, length), bool))
    want = example.dense_attention64(q, k, v, allowed=allowed & causal)
    return example.check(
        "documents", lambda strategy, target: attn.attention(
            q, k, v, causal=True, mask_mod=same_document, strategy=strategy,
            target=target), want, targets)


if __name__ == "__main__":
    example.main(run)
