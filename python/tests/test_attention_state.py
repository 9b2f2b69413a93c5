"""Attention state as values: the LSE and entropy results of
attn.attention on every strategy and target that computes them, and
attn.merge_states, each against float64."""

import importlib
import os
import sys

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))

# Lengths no tile divides, GQA (4 query heads over 2 KV heads).
LQ, LK = 37, 53

# (name, strategy, targets): split_kv with several splits of small tiles, so
# that attn.merge_states of the splits carries the LSE and entropy too.
STRATEGIES = [
    ("reference", "reference"),
    ("tiled", "tiled"),
    ("split_kv", ("split_kv", {"splits": 3, "block_k": 16})),
    ("portable", ("portable", {"block_q": 16, "block_k": 16, "splits": 2})),
]


def _qkv(rng, lq=LQ, lk=LK, dtype=np.float32):
    return (randn(rng, 1, 4, lq, 16, dtype=dtype),
            randn(rng, 1, 2, lk, 16, dtype=dtype),
            randn(rng, 1, 2, lk, 16, dtype=dtype))


def assert_lse_close(got, want):
    """-inf exactly where float64 has it, the rest within f32 rounding."""
    assert got.dtype == np.float32 and got.shape == want.shape
    empty = np.isneginf(want)
    assert np.array_equal(np.isneginf(got), empty)
    assert_close(got[~empty], want[~empty])


def _cases(rng):
    """Variants of the problem: causal; window with sink keys and sink
    logits; a mask with rows that allow no key; a score_mod."""
    sink_logits = randn(rng, 4)
    mask = rng.random((1, 1, LQ, LK)) < 0.6
    mask[:, :, 5] = False
    mask[:, :, 20] = False
    return {
        "causal": dict(causal=True),
        "window_sinks": dict(window=(6, 2), sinks=3, sink_logits=sink_logits),
        "masked_rows": dict(mask=mask),
        "score_mod": dict(causal=True,
                          score_mod=lambda s, b, h, i, j: s + 0.1 * (j - i)),
    }


def _runs():
    """(strategy, target) pairs: portable lowers on the host (CPU only)."""
    no_vulkan = pytest.mark.skipif(not attn.vulkan_available(),
                                   reason="no Vulkan device")
    for name, strategy in STRATEGIES:
        yield pytest.param(strategy, "cpu", id=f"{name}-cpu")
        if name != "portable":
            yield pytest.param(strategy, "vulkan", id=f"{name}-vulkan",
                               marks=no_vulkan)


@pytest.mark.parametrize("case", ["causal", "window_sinks", "masked_rows",
                                  "score_mod"])
@pytest.mark.parametrize("strategy,target", list(_runs()))
def test_statistics_match_float64(rng, case, strategy, target):
    # The LSE and the entropy, in the same pass as the output.
    q, k, v = _qkv(rng)
    options = _cases(rng)[case]
    out, lse, entropy = attn.attention(q, k, v, return_lse=True,
                                       return_entropy=True,
                                       strategy=strategy, target=target,
                                       **options)
    want_out, want_lse, want_entropy = oracle.attention(
        q, k, v, statistics=True, **options)
    assert_close(out, want_out)
    assert_lse_close(lse, want_lse)
    assert_close(entropy, want_entropy)
    if case == "masked_rows":
        assert np.isneginf(lse[:, :, [5, 20]]).all()
        assert np.all(entropy[:, :, [5, 20]] == 0)


@pytest.mark.parametrize("target", ["cpu", VULKAN])
def test_statistics_of_f16_and_block_sparse(rng, target):
    # Half-precision inputs (the statistics are f32 all the same) and the
    # block_sparse strategy, which needs a mask.
    q, k, v = _qkv(rng, dtype=np.float16)
    mask = np.zeros((1, 1, LQ, LK), bool)
    mask[:, :, :, 16:40] = True
    mask[:, :, 30:] = False
    for strategy in ["tiled", "block_sparse"]:
        out, lse, entropy = attn.attention(
            q, k, v, mask=mask, return_lse=True, return_entropy=True,
            strategy=strategy, target=target)
        want_out, want_lse, want_entropy = oracle.attention(
            q, k, v, mask=mask, statistics=True)
        assert_close(out, want_out, low_precision=True)
        assert_lse_close(lse, want_lse)
        assert_close(entropy, want_entropy)


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("score", ["elu1", "softplus", "sigmoid"])
def test_entropy_of_other_normalized_scores(rng, score, target):
    # Weights that are not exp(s): kernel scores (no running maximum) and
    # softplus (a maximum that is not the row's largest score), with a row
    # that a mask_mod empties.
    q, k, v = _qkv(rng)
    options = dict(causal=True, mask_mod=lambda b, h, i, j: i != 7)
    want_out, _, want_entropy = oracle.attention(
        q, k, v, score=score, statistics=True, **options)
    strategies = ["reference", ("tiled", {"block_k": 16})]
    if score == "softplus":
        # Kernel scores have no log-sum-exp to merge splits by.
        strategies.append(("split_kv", {"splits": 3, "block_k": 16}))
    if target == "cpu":
        strategies.append(STRATEGIES[-1][1])  # portable, with splits
    for strategy in strategies:
        out, entropy = attn.attention(q, k, v, score=score,
                                      return_entropy=True, strategy=strategy,
                                      target=target, **options)
        assert_close(out, want_out)
        assert_close(entropy, want_entropy)
        assert np.all(entropy[:, :, 7] == 0)


def test_split_kv_declines_kernel_scores(rng):
    # Its splits merge by their log-sum-exp (attn.merge_states); kernel
    # weights have none.
    q, k, v = _qkv(rng)
    with pytest.raises(attn.CompileError,
                       match="kernel scores have no log-sum-exp by which "
                             "attn.merge_states could merge the splits"):
        attn.attention(q, k, v, score="elu1", strategy="split_kv")


def test_linear_attention_has_no_entropy(rng):
    q, k, v = _qkv(rng)
    with pytest.raises(attn.CompileError,
                       match="return_entropy sums w ln w over each"):
        attn.attention(q, k, v, score="elu1", return_entropy=True,
                       strategy="linear")


def test_flags_are_checked():
    q = np.zeros((1, 2, 4, 8), np.float32)
    with pytest.raises(ValueError, match="'return_lse' applies to score "
                                         "'softmax' only"):
        attn.ir(q, q, q, score="elu1", return_lse=True)
    with pytest.raises(ValueError, match="'return_entropy' must be a bool"):
        attn.ir(q, q, q, return_entropy=1)
    assert "{return_lse}" in attn.ir(q, q, q, return_lse=True)


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("strategy", ["tiled", "reference"])
def test_merge_of_key_splits_is_attention_over_all_keys(rng, strategy,
                                                        target):
    # Attention over disjoint key sets, merged, equals attention over their
    # union: three uneven blocks of keys, causal (so the last block leaves
    # early rows without keys: LSE -inf there).
    q, k, v = _qkv(rng)
    cuts = [0, 11, 30, LK]
    # Bottom-right causal over all keys: query i sees keys j <= i + LK - LQ.
    allowed = oracle.band(LQ, LK, causal=True)
    states = []
    for lo, hi in zip(cuts, cuts[1:]):
        out, lse = attn.attention(q, k[:, :, lo:hi], v[:, :, lo:hi],
                                  mask=allowed[None, None, :, lo:hi],
                                  return_lse=True, strategy=strategy,
                                  target=target)
        states.append((out, lse))
    assert np.isneginf(states[-1][1][:, :, 0]).all()
    out, lse = attn.merge_states(states, target=target)
    want_out, want_lse, _ = oracle.attention(q, k, v, causal=True,
                                             statistics=True)
    assert_close(out, want_out)
    assert_lse_close(lse, want_lse)


@pytest.mark.parametrize("target", ["cpu", VULKAN])
def test_merge_with_entropy_is_entropy_over_all_keys(rng, target):
    # (out, lse, entropy) of three disjoint key sets, merged: the entropy of
    # attention over all keys, with rows that some sets (or all) leave
    # without keys.
    q, k, v = _qkv(rng)
    mask = rng.random((1, 1, LQ, LK)) < 0.5
    mask[:, :, 4] = False
    mask[:, :, 9, :30] = False
    cuts = [0, 13, 30, LK]
    states = [attn.attention(q, k[:, :, lo:hi], v[:, :, lo:hi],
                             mask=mask[:, :, :, lo:hi], return_lse=True,
                             return_entropy=True, target=target)
              for lo, hi in zip(cuts, cuts[1:])]
    out, lse, entropy = attn.merge_states(states, target=target)
    want_out, want_lse, want_entropy = oracle.attention(
        q, k, v, mask=mask, statistics=True)
    assert_close(out, want_out)
    assert_lse_close(lse, want_lse)
    assert_close(entropy, want_entropy)
    assert np.all(entropy[:, :, 4] == 0) and np.all(out[:, :, 4] == 0)


def test_merge_states_edge_cases(rng):
    # Rows where every state is empty: zeros and -inf. One state: itself.
    # f16 outputs, read as f32. Any rank.
    o1, o2 = randn(rng, 3, 5, 8), randn(rng, 3, 5, 8)
    l1, l2 = randn(rng, 3, 5), randn(rng, 3, 5)
    l1[1, 2] = l2[1, 2] = -np.inf
    l1[0, 0] = -np.inf
    out, lse = attn.merge_states([(o1, l1), (o2, l2)])
    want_lse = np.logaddexp(l1.astype(np.float64), l2)
    with np.errstate(invalid="ignore"):
        want = (np.exp(l1 - want_lse)[..., None] * o1 +
                np.exp(l2 - want_lse)[..., None] * o2)
    want[1, 2] = 0
    assert_close(out, want)
    assert_lse_close(lse, want_lse)
    assert np.all(out[1, 2] == 0)
    alone, alone_lse = attn.merge_states([(o1, l1)])
    assert_close(alone, np.where(np.isneginf(l1)[..., None], 0.0, o1))
    assert_lse_close(alone_lse, l1.astype(np.float64))
    half, _ = attn.merge_states([(o1.astype(np.float16), l1),
                                 (o2.astype(np.float16), l2)])
    assert half.dtype == np.float16
    assert_close(half, want, low_precision=True)


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("shape", [(8,), (2, 3, 4, 5)])
def test_merge_states_of_any_rank(rng, shape, target):
    # O of rank 1 (its LSE and entropy 0-d) and of rank 4, with entropies,
    # against float64.
    o1, o2 = randn(rng, *shape), randn(rng, *shape)
    l1 = rng.standard_normal(shape[:-1]).astype(np.float32)
    l2 = rng.standard_normal(shape[:-1]).astype(np.float32)
    h1, h2 = np.abs(l1), np.abs(l2)
    out, lse, entropy = attn.merge_states([(o1, l1, h1), (o2, l2, h2)],
                                          target=target)
    want_lse = np.logaddexp(l1.astype(np.float64), l2)
    w1, w2 = np.exp(l1 - want_lse), np.exp(l2 - want_lse)
    assert_close(out, w1[..., None] * o1 + w2[..., None] * o2)
    assert_lse_close(lse, want_lse)
    assert_close(entropy, w1 * (h1 - np.log(w1)) + w2 * (h2 - np.log(w2)))


def test_merge_states_checks_its_arguments(rng):
    o, lse = randn(rng, 2, 4, 8), randn(rng, 2, 4)
    with pytest.raises(ValueError, match="at least one"):
        attn.merge_states([])
    with pytest.raises(ValueError, match="lse must be float32 of shape"):
        attn.merge_states([(o, lse[:, :3])])
    with pytest.raises(ValueError, match="state 1: out is"):
        attn.merge_states([(o, lse), (o[:, :3], lse[:, :3])])
    with pytest.raises(ValueError, match="state 1 must be a triple"):
        attn.merge_states([(o, lse, lse), (o, lse)])
    with pytest.raises(ValueError, match="state 0: entropy must be float32"):
        attn.merge_states([(o, lse, lse[:, :3])])


def test_cascade_example():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "examples", "attention_state"))
    cascade = importlib.import_module("cascade")
    cascade.run(("cpu", "vulkan") if attn.vulkan_available() else ("cpu",))
