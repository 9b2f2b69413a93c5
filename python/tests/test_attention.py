"""attn.attention() against the float64 oracle: every builder argument."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn


def qkv(rng, b=1, hq=2, hkv=None, lq=8, lk=None, d=8, dv=None,
        dtype=np.float32):
    hkv = hkv or hq
    lk = lk or lq
    return (randn(rng, b, hq, lq, d, dtype=dtype),
            randn(rng, b, hkv, lk, d, dtype=dtype),
            randn(rng, b, hkv, lk, dv or d, dtype=dtype))


def test_default_softmax(rng):
    q, k, v = qkv(rng, b=2, lq=9, lk=13, dv=4)
    out = attn.attention(q, k, v)
    assert out.dtype == np.float32 and out.shape == (2, 2, 9, 4)
    assert_close(out, oracle.attention(q, k, v))


def test_scale(rng):
    q, k, v = qkv(rng)
    assert_close(attn.attention(q, k, v, scale=0.3),
                 oracle.attention(q, k, v, scale=0.3))


@pytest.mark.parametrize("lq,lk", [(6, 11), (11, 6), (7, 7)])
def test_causal(rng, lq, lk):
    q, k, v = qkv(rng, lq=lq, lk=lk)
    assert_close(attn.attention(q, k, v, causal=True),
                 oracle.attention(q, k, v, causal=True))


@pytest.mark.parametrize("window,bounds", [
    ((3, 1), (3, 1)),
    (4, (4, 0)),            # an int w means (w, 0)
    ((None, 2), (None, 2)),
    ((2, None), (2, None)),
])
def test_window(rng, window, bounds):
    q, k, v = qkv(rng, lq=10, lk=14)
    assert_close(attn.attention(q, k, v, window=window),
                 oracle.attention(q, k, v, window=bounds))


def test_window_sinks_causal(rng):
    q, k, v = qkv(rng, lq=16)
    out = attn.attention(q, k, v, causal=True, window=(3, None), sinks=2)
    assert_close(out, oracle.attention(q, k, v, causal=True,
                                       window=(3, None), sinks=2))


def test_softcap_and_bias(rng):
    q, k, v = qkv(rng, lq=8, lk=10)
    q *= 4
    bias = randn(rng, 1, 1, 8, 10)
    out = attn.attention(q, k, v, softcap=2.5, bias=bias)
    assert_close(out, oracle.attention(q, k, v, softcap=2.5, bias=bias))


@pytest.mark.parametrize("score", attn.SCORES)
def test_every_score(rng, score):
    q, k, v = qkv(rng, lq=7, lk=9)
    assert_close(attn.attention(q, k, v, score=score, causal=True),
                 oracle.attention(q, k, v, score=score, causal=True))


@pytest.mark.parametrize("score", ["elu1", "taylor2", "identity", "sigmoid"])
def test_kernel_scores_unnormalized(rng, score):
    q, k, v = qkv(rng, lq=6, lk=8)
    out = attn.attention(q, k, v, score=score, normalize=False)
    assert_close(out, oracle.attention(q, k, v, score=score,
                                       normalize=False))


def test_mask_broadcast_and_fully_masked_row(rng):
    q, k, v = qkv(rng, b=2, hq=4, hkv=2, lq=6, lk=9)
    mask = rng.random((1, 4, 6, 9)) < 0.6
    mask[0, 1, 3] = False           # head 1, query 3: no key at all
    out = attn.attention(q, k, v, mask=mask)
    assert np.all(out[:, 1, 3] == 0)
    assert_close(out, oracle.attention(q, k, v, mask=mask))


def test_mask_2d_gets_leading_ones(rng):
    q, k, v = qkv(rng, lq=5, lk=7)
    mask = rng.random((5, 7)) < 0.5
    mask[2] = False
    assert "mask(%mask : tensor<1x1x5x7xi1>)" in attn.ir(q, k, v, mask=mask)
    out = attn.attention(q, k, v, mask=mask, causal=True)
    assert_close(out, oracle.attention(q, k, v, mask=mask, causal=True))


@pytest.mark.parametrize("shape", [(1, 4, 6, 8), (2, 1, 6, 8)])
def test_bias_broadcast(rng, shape):
    q, k, v = qkv(rng, b=2, hq=4, hkv=2, lq=6, lk=8)
    bias = randn(rng, *shape)
    assert_close(attn.attention(q, k, v, bias=bias),
                 oracle.attention(q, k, v, bias=bias))


@pytest.mark.parametrize("hkv", [2, 1])
def test_grouped_and_multi_query(rng, hkv):
    q, k, v = qkv(rng, hq=6, hkv=hkv, lq=5, lk=7)
    assert_close(attn.attention(q, k, v, causal=True),
                 oracle.attention(q, k, v, causal=True))


def test_float16(rng):
    q, k, v = qkv(rng, lq=8, lk=12, dtype=np.float16)
    out = attn.attention(q, k, v, causal=True)
    assert out.dtype == np.float16
    assert_close(out, oracle.attention(q, k, v, causal=True),
                 low_precision=True)


def test_bfloat16_as_uint16(rng):
    q32, k32, v32 = qkv(rng, lq=8, lk=12)
    q, k, v = (oracle.to_bf16(x) for x in (q32, k32, v32))
    assert "xbf16>" in attn.ir(q, k, v)
    out = attn.attention(q, k, v, causal=True)
    assert out.dtype == np.uint16
    want = oracle.attention(*(oracle.from_bf16(x) for x in (q, k, v)),
                            causal=True)
    assert_close(oracle.from_bf16(out), want, low_precision=True)


@pytest.mark.parametrize("strategy", [
    "reference", "tiled", "split_kv",
    ("tiled", {"block_q": 2, "block_k": 16}),
    # The tile op through upstream tiling, and split into partial states.
    "portable",
    ("portable", {"block_q": 2, "block_k": 7, "splits": 3}),
])
def test_explicit_strategies(rng, strategy):
    q, k, v = qkv(rng, hq=4, hkv=2, lq=3, lk=40)
    text = attn.ir(q, k, v, causal=True, strategy=strategy)
    name = strategy if isinstance(strategy, str) else strategy[0]
    assert f'strategy = #attn.strategy<"{name}"' in text
    out = attn.attention(q, k, v, causal=True, strategy=strategy)
    assert_close(out, oracle.attention(q, k, v, causal=True))


def test_ir_written_forms(rng):
    q, k, v = qkv(rng)
    text = attn.ir(q, k, v, scale=0.125, causal=True, window=(16, 0),
                   sinks=4, softcap=5.0, score="identity", normalize=False)
    for form in ["scale = 0.125 : f32", "causal",
                 "window = #attn.window<left = 16, right = 0>",
                 "sinks = 4 : i64", "softcap = 5.0 : f32",
                 "score = #attn.score<kernel<identity>, normalize = false>"]:
        assert form in text
    assert "score = #attn.score<softplus>" in attn.ir(q, k, v,
                                                        score="softplus")
    assert "#attn.score<kernel<elu1>>" in attn.ir(q, k, v, score="elu1")
    assert "{" not in attn.ir(q, k, v).split("outs")[1].split("->")[0]
