"""bf16 attention on the CPU through AVX512-BF16 dot products (vdpbf16ps):
the flash kernel's bf16_dot path against float64 math, against the reference
strategy and against the same kernel widened to f32 (bf16_dot = 0), on odd
shapes and every feature that reaches its micro-tiles. The path exists only
where the CPU has AVX512-BF16; elsewhere these tests are skipped (the
lowering is checked by test/Strategies/tiled-bf16-dot.mlir on any machine)."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close


def _host_has_bf16_dot():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags and "avx512vl" in flags


pytestmark = pytest.mark.skipif(not _host_has_bf16_dot(),
                                reason="this CPU has no AVX512-BF16")

DOT = ("tiled", {"bf16_dot": 1})
WIDENED = ("tiled", {"bf16_dot": 0})


def bf16_inputs(rng, hq, hkv, lq, lk, d, dv):
    """bf16 (uint16 bit patterns) q, k, v, and their values as float64."""
    q = oracle.to_bf16(rng.standard_normal((2, hq, lq, d)).astype(np.float32))
    k = oracle.to_bf16(rng.standard_normal((2, hkv, lk, d)).astype(np.float32))
    v = oracle.to_bf16(rng.standard_normal((2, hkv, lk, dv)).astype(np.float32))
    return (q, k, v), tuple(oracle.from_bf16(x) for x in (q, k, v))


# (hq, hkv, lq, lk, d, dv): lengths no tile divides, GQA and MQA, a head
# dimension of 9 pairs (no unrolling divides it), Dv that is not a whole
# number of vectors, one query row.
SHAPES = [
    (4, 2, 77, 131, 64, 64),
    (3, 1, 50, 50, 18, 24),
    (2, 2, 1, 200, 32, 40),
    (2, 1, 130, 70, 128, 16),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("causal", [False, True])
def test_matches_float64_and_the_widened_kernel(rng, shape, causal):
    (q, k, v), (q64, k64, v64) = bf16_inputs(rng, *shape)
    want = oracle.attention(q64, k64, v64, causal=causal)
    got = attn.attention(q, k, v, causal=causal, strategy=DOT)
    assert got.dtype == np.uint16
    assert_close(oracle.from_bf16(got), want, low_precision=True)
    widened = attn.attention(q, k, v, causal=causal, strategy=WIDENED)
    reference = attn.attention(q, k, v, causal=causal, strategy="reference")
    for other in (widened, reference):
        assert_close(oracle.from_bf16(got), oracle.from_bf16(other),
                     low_precision=True)
    # tiled's default on this CPU is the dot-product path.
    assert np.array_equal(
        attn.attention(q, k, v, causal=causal, strategy="tiled"), got)


def test_error_is_that_of_bf16_rounding(rng):
    # Against float64 of the same bf16 inputs, the output's error before its
    # own rounding to bf16 stays within a few bf16 ulps: P is rounded once.
    (q, k, v), (q64, k64, v64) = bf16_inputs(rng, 8, 8, 256, 256, 64, 64)
    want = oracle.attention(q64, k64, v64, causal=True)
    got = oracle.from_bf16(attn.attention(q, k, v, causal=True,
                                          strategy=DOT, return_lse=True)[0])
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < 3 * 2.0 ** -8, err


def test_rows_without_keys_and_masks(rng):
    (q, k, v), (q64, k64, v64) = bf16_inputs(rng, 4, 2, 40, 90, 32, 32)
    mask = rng.random((2, 1, 40, 90)) < 0.7
    mask[:, :, 5, :] = False  # a row with no allowed key: zeros
    mask[:, :, 7:9, :64] = True  # a full tile
    kw = dict(mask=mask, window=(20, 3), sinks=4)
    want = oracle.attention(q64, k64, v64, **kw)
    got = oracle.from_bf16(attn.attention(q, k, v, strategy=DOT, **kw))
    assert_close(got, want, low_precision=True)
    assert np.all(got[:, :, 5] == 0)


def test_bias_softcap_score_mod_sinks_and_lse(rng):
    (q, k, v), (q64, k64, v64) = bf16_inputs(rng, 4, 2, 33, 100, 64, 48)
    bias = rng.standard_normal((1, 4, 33, 100)).astype(np.float32)
    sinks = rng.standard_normal(4).astype(np.float32)
    slopes = np.array([0.5, 0.25, 0.125, 0.0625], np.float32)

    def alibi(s, b, h, i, j):
        return s + slopes[h] * (j - i)

    kw = dict(causal=True, bias=bias, softcap=20.0, sink_logits=sinks)
    want, want_lse, _ = oracle.attention(q64, k64, v64, score_mod=alibi,
                                         statistics=True, **kw)
    got, lse = attn.attention(q, k, v, score_mod=alibi, return_lse=True,
                              strategy=DOT, **kw)
    assert_close(oracle.from_bf16(got), want, low_precision=True)
    assert_close(lse, want_lse, low_precision=True)


def test_dynamic_sizes(rng):
    (q, k, v), (q64, k64, v64) = bf16_inputs(rng, 2, 1, 45, 67, 64, 64)
    want = oracle.attention(q64, k64, v64, causal=True)
    got = attn.attention(q, k, v, causal=True, strategy=DOT,
                         dynamic=True)
    assert_close(oracle.from_bf16(got), want, low_precision=True)


def test_paged_prefill(rng):
    # Chunked prefill over a paged bf16 cache: the packing reads each key
    # through the page table; lengths of 0, 1 and no tile's multiple.
    from test_paged_attention import make_cache, paged_oracle
    k, v, table, lengths = make_cache(rng, 4, 2, 40, 16, 32, 32,
                                      [150, 1, 0, 97], 10)
    q = oracle.to_bf16(rng.standard_normal((4, 4, 9, 32)).astype(np.float32))
    k, v = oracle.to_bf16(k), oracle.to_bf16(v)
    want = paged_oracle(oracle.from_bf16(q), oracle.from_bf16(k),
                        oracle.from_bf16(v), table, lengths, causal=True)
    got = attn.paged_attention(q, k, v, table, lengths, causal=True,
                               strategy=DOT)
    assert_close(oracle.from_bf16(got), want, low_precision=True)
    assert not oracle.from_bf16(got)[2].any()
