"""Cascade (shared-prefix) attention with attn.merge_states: requests that
share a long prompt prefix attend to it once, as one batch of queries over
the prefix's keys, and each to its own suffix causally; the two partial
states (output, LSE) merge exactly into attention over prefix + suffix.
This is FlashInfer's cascade attention, written with attn's ops.

    PYTHONPATH=build/python /usr/bin/python3 examples/attention_state/cascade.py
"""

import numpy as np

import attn

HEADS, KV_HEADS, DIM = 8, 2, 32
PREFIX, REQUESTS, SUFFIX = 96, 3, 21


def cascade(q, prefix_k, prefix_v, suffix_k, suffix_v, target="cpu",
            strategy=None):
    """q [R, H, S, D]; prefix K/V [1, Hkv, P, D], shared; suffix K/V
    [R, Hkv, S, D]. Query s of request r sees the whole prefix and suffix
    keys 0..s of its request."""
    requests = q.shape[0]
    # The prefix once: every request's queries as one batch row of queries.
    shared = q.transpose(1, 0, 2, 3).reshape(1, HEADS, -1, DIM)
    out_p, lse_p = attn.attention(shared, prefix_k, prefix_v,
                                  return_lse=True, target=target,
                                  strategy=strategy)
    out_p = out_p.reshape(HEADS, requests, -1, DIM).transpose(1, 0, 2, 3)
    lse_p = lse_p.reshape(HEADS, requests, -1).transpose(1, 0, 2)
    # Each request's own suffix, causal.
    out_s, lse_s = attn.attention(q, suffix_k, suffix_v, causal=True,
                                  return_lse=True, target=target,
                                  strategy=strategy)
    return attn.merge_states([(np.ascontiguousarray(out_p),
                               np.ascontiguousarray(lse_p)),
                              (out_s, lse_s)], target=target)


def reference64(q, prefix_k, prefix_v, suffix_k, suffix_v):
    """Attention over prefix + suffix in float64, one request at a time."""
    group = HEADS // KV_HEADS
    out = np.zeros(q.shape, np.float64)
    lse = np.zeros(q.shape[:3], np.float64)
    for r in range(q.shape[0]):
        k = np.concatenate([prefix_k[0], suffix_k[r]], axis=1)
        v = np.concatenate([prefix_v[0], suffix_v[r]], axis=1)
        k, v = (np.repeat(x.astype(np.float64), group, axis=0) for x in (k, v))
        s = q[r].astype(np.float64) @ k.swapaxes(-1, -2) / np.sqrt(DIM)
        i = np.arange(SUFFIX)[:, None]
        j = np.arange(PREFIX + SUFFIX)[None, :]
        s = np.where(j < PREFIX + i + 1, s, -np.inf)
        top = s.max(axis=-1, keepdims=True)
        w = np.exp(s - top)
        out[r] = (w @ v) / w.sum(axis=-1, keepdims=True)
        lse[r] = (top + np.log(w.sum(axis=-1, keepdims=True)))[..., 0]
    return out, lse


def run(targets=("cpu",)):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((REQUESTS, HEADS, SUFFIX, DIM)).astype(np.float32)
    prefix_k, prefix_v = (
        rng.standard_normal((1, KV_HEADS, PREFIX, DIM)).astype(np.float32)
        for _ in range(2))
    suffix_k, suffix_v = (
        rng.standard_normal((REQUESTS, KV_HEADS, SUFFIX, DIM)).astype(
            np.float32) for _ in range(2))
    want_out, want_lse = reference64(q, prefix_k, prefix_v, suffix_k,
                                     suffix_v)
    for target in targets:
        out, lse = cascade(q, prefix_k, prefix_v, suffix_k, suffix_v,
                           target=target)
        err_out = np.abs(out - want_out).max()
        err_lse = np.abs(lse - want_lse).max()
        print(f"cascade on {target}: max |out - float64| = {err_out:.2e}, "
              f"max |lse - float64| = {err_lse:.2e}")
        if not (err_out < 1e-4 and err_lse < 1e-4):
            raise AssertionError(f"cascade attention on {target} differs "
                                 f"from float64")


if __name__ == "__main__":
    run(("cpu", "vulkan") if attn.vulkan_available() else ("cpu",))
