"""attn.neighborhood() against the float64 oracle: 1-D, 2-D and 3-D, with
dilation, causality, stride and grouped heads."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn


def test_1d_dilation(rng):
    q, k, v = (randn(rng, 1, 2, 13, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, 3, dilation=2)
    assert_close(out, oracle.neighborhood(q, k, v, 3, dilation=2))


def test_1d_causal_even_kernel(rng):
    q, k, v = (randn(rng, 2, 2, 11, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, 4, causal=True)
    assert_close(out, oracle.neighborhood(q, k, v, 4, causal=True))


def test_2d_dilation_causal_per_axis(rng):
    q, k, v = (randn(rng, 1, 2, 7, 9, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, (3, 3), dilation=(2, 1),
                            causal=(False, True))
    assert_close(out, oracle.neighborhood(q, k, v, [3, 3], [2, 1],
                                          causal=[False, True]))


def test_2d_stride_gqa_value_dim(rng):
    q = randn(rng, 1, 4, 6, 7, 8)
    k = randn(rng, 1, 2, 6, 7, 8)
    v = randn(rng, 1, 2, 6, 7, 4)
    out = attn.neighborhood(q, k, v, (3, 5), stride=(1, 2), scale=0.2)
    assert out.shape == (1, 4, 6, 7, 4)
    assert_close(out, oracle.neighborhood(q, k, v, [3, 5], stride=[1, 2],
                                          scale=0.2))


def test_2d_causal_stride(rng):
    q, k, v = (randn(rng, 1, 1, 8, 9, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, 3, causal=True, stride=2)
    assert_close(out, oracle.neighborhood(q, k, v, 3, stride=2,
                                          causal=True))


def test_3d(rng):
    q, k, v = (randn(rng, 1, 2, 4, 5, 4, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, (3, 3, 2), dilation=(1, 1, 2))
    assert_close(out, oracle.neighborhood(q, k, v, [3, 3, 2], [1, 1, 2]))


def test_ints_broadcast_to_every_axis(rng):
    q = randn(rng, 1, 1, 6, 6, 4, 8)
    text = attn.ir(q, q, q, kernel=3, dilation=1, causal=True, stride=2)
    assert "kernel = [3, 3, 3]" in text
    assert "causal = [true, true, true]" in text
    assert "stride = [2, 2, 2]" in text
    assert "dilation" not in text


def test_explicit_strategy_and_explain(rng):
    q, k, v = (randn(rng, 1, 2, 5, 6, 8) for _ in range(3))
    out = attn.neighborhood(q, k, v, 3, causal=(True, False),
                            strategy="reference")
    assert_close(out, oracle.neighborhood(q, k, v, 3,
                                          causal=[True, False]))
    for strategy in ("neighborhood", "tiled"):
        out = attn.neighborhood(q, k, v, 3, causal=(True, False),
                                strategy=strategy)
        assert_close(out, oracle.neighborhood(q, k, v, 3,
                                              causal=[True, False]))
    candidates = {c.strategy: c for c in attn.explain(q, k, v, kernel=3)}
    for name in ("reference", "neighborhood", "tiled"):
        assert candidates[name].applicable
    assert not candidates["split_kv"].applicable
    assert "attn.paged_attention only" in candidates["split_kv"].reason


def test_float16(rng):
    q, k, v = (randn(rng, 1, 2, 9, 8, dtype=np.float16) for _ in range(3))
    out = attn.neighborhood(q, k, v, 5, dilation=1)
    assert out.dtype == np.float16
    assert_close(out, oracle.neighborhood(q, k, v, 5), low_precision=True)
