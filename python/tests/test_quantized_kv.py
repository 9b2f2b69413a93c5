"""Quantized K/V: int8 with per-(batch, KV head, key) scales and
float8_e4m3fn (uint8 bits) with per-head scales, on every strategy that
computes softmax attention and on vulkan, against float64 math."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

VULKAN = pytest.mark.skipif(not attn.vulkan_available(),
                            reason="no Vulkan device")


def f8_values():
    """The float64 value of each of the 256 float8_e4m3fn bit patterns
    (written from the format: 1 sign, 4 exponent bits of bias 7, 3 mantissa
    bits, subnormals at exponent 0, NaN at S.1111.111, no infinity)."""
    bits = np.arange(256)
    exponent, mantissa = (bits >> 3) & 0xF, bits & 0x7
    magnitude = np.where(exponent == 0, mantissa / 8 * 2.0 ** -6,
                         (1 + mantissa / 8) * 2.0 ** (exponent - 7.0))
    value = np.where(bits & 0x80, -magnitude, magnitude)
    value[(bits & 0x7F) == 0x7F] = np.nan
    return value


def quantize_i8(x):
    """Symmetric int8 per (b, h, key): (ints, float32 scales [B, H, L])."""
    scale = (np.abs(x).max(axis=-1) / 127).astype(np.float32)
    scale = np.maximum(scale, np.float32(1e-8))
    ints = np.clip(np.rint(x / scale[..., None]), -127, 127).astype(np.int8)
    return ints, scale


def quantize_f8(x):
    """float8_e4m3fn per KV head: (uint8 bits, float32 scales [H])."""
    scale = (np.abs(x).max(axis=(0, 2, 3)) / 448).astype(np.float32)
    scaled = x / scale[None, :, None, None]
    # Patterns 0x00..0x7e are the non-negative values in increasing order:
    # the nearest is one of the two around |x|.
    table = f8_values()[:0x7F]
    magnitude = np.abs(scaled)
    above = np.clip(np.searchsorted(table, magnitude), 1, 0x7E)
    nearer_below = magnitude - table[above - 1] <= table[above] - magnitude
    bits = np.where(nearer_below, above - 1, above).astype(np.uint8)
    return np.where(scaled < 0, bits | 0x80, bits).astype(np.uint8), scale


def dequantized(stored, scale):
    if stored.dtype == np.int8:
        return stored.astype(np.float64) * scale[..., None]
    return f8_values()[stored] * scale[None, :, None, None].astype(np.float64)


QUANTIZERS = {"i8": quantize_i8, "f8": quantize_f8}


def quantized_attention(q, k, v, kind, **options):
    """attn.attention over k and v quantized as `kind`; returns the output
    and the dequantized k and v (float64) that the float64 oracle takes."""
    ks, kscale = QUANTIZERS[kind](k)
    vs, vscale = QUANTIZERS[kind](v)
    got = attn.attention(q, ks, vs, k_scale=kscale, v_scale=vscale, **options)
    return got, dequantized(ks, kscale), dequantized(vs, vscale)


STRATEGIES = ["reference", "tiled", "split_kv", "portable", "block_sparse"]


@pytest.mark.parametrize("kind", ["i8", "f8"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_quantized_kv_matches_float64(rng, kind, strategy):
    # GQA, causal, a mask with a fully masked row, 45 keys (no tile
    # divides them), Dv != D.
    q = randn(rng, 2, 4, 9, 16)
    k, v = randn(rng, 2, 2, 45, 16), randn(rng, 2, 2, 45, 24)
    mask = rng.random((2, 1, 9, 45)) < 0.6
    mask[:, :, 4] = False
    got, kd, vd = quantized_attention(q, k, v, kind, causal=True, mask=mask,
                                      strategy=strategy)
    want = oracle.attention(q, kd, vd, causal=True, mask=mask)
    assert not want[:, :, 4].any()
    assert_close(got, want)


@pytest.mark.parametrize("kind,tolerance", [("i8", 2e-2), ("f8", 6e-2)])
@pytest.mark.parametrize("strategy", ["tiled", "split_kv"])
def test_quantization_error_is_within_target(rng, kind, tolerance, strategy):
    # Decode (Hq = 32, Hkv = 8, D = 128) against the unquantized K/V: the
    # error that quantization itself makes, relative to max |out|. It is
    # the format's: the same float64 math over the dequantized K/V gives
    # about 1.2% (i8) and 4.4% (f8) here, and 6-7% for f8 on some shorter
    # shapes (3 mantissa bits).
    q = randn(rng, 1, 32, 1, 128)
    k, v = randn(rng, 1, 8, 4096, 128), randn(rng, 1, 8, 4096, 128)
    got, _, _ = quantized_attention(q, k, v, kind, strategy=strategy)
    want = oracle.attention(q, k, v)
    error = np.abs(got - want).max() / np.abs(want).max()
    assert error < tolerance


def test_every_f8_pattern_decodes_exactly(rng):
    # Row i may see key i only, so out[i] = v[i]: each of the 254 non-NaN
    # patterns (subnormals, both zeros) times the head's scale.
    patterns = np.array([b for b in range(256) if (b & 0x7F) != 0x7F],
                        np.uint8)
    n = len(patterns)
    v = np.repeat(patterns[:, None], 16, axis=1).reshape(1, 1, n, 16)
    k = np.full((1, 1, n, 16), 0x38, np.uint8)  # 1.0
    q = randn(rng, 1, 1, n, 16)
    mask = np.eye(n, dtype=bool).reshape(1, 1, n, n)
    scale = np.array([0.5], np.float32)
    for strategy in ("tiled", "reference"):
        got = attn.attention(q, k, v, k_scale=scale, v_scale=scale, mask=mask,
                             strategy=strategy)
        want = f8_values()[patterns] * 0.5
        np.testing.assert_array_equal(got[0, 0, :, 3], want.astype(np.float32))


def test_f8_nan_pattern_is_nan(rng):
    v = np.zeros((1, 1, 4, 16), np.uint8)
    v[0, 0, 2, 5] = 0x7F
    k = np.zeros((1, 1, 4, 16), np.uint8)
    one = np.array([1.0], np.float32)
    got = attn.attention(randn(rng, 1, 1, 1, 16), k, v, k_scale=one,
                         v_scale=one, strategy="tiled")
    assert np.isnan(got[0, 0, 0, 5]) and not np.isnan(got[0, 0, 0, 4])


def test_only_values_quantized(rng):
    q, k, v = randn(rng, 1, 2, 7, 8), randn(rng, 1, 2, 19, 8), \
        randn(rng, 1, 2, 19, 8)
    vs, vscale = quantize_i8(v)
    got = attn.attention(q, k, vs, v_scale=vscale, strategy="tiled")
    assert_close(got, oracle.attention(q, k, dequantized(vs, vscale)))


def test_quantized_dynamic_lengths_compile_once(rng):
    q = randn(rng, 1, 4, 1, 32)
    for lk in (5, 77):
        k, v = randn(rng, 1, 1, lk, 32), randn(rng, 1, 1, lk, 32)
        ks, kscale = quantize_i8(k)
        vs, vscale = quantize_i8(v)
        got = attn.attention(q, ks, vs, k_scale=kscale, v_scale=vscale,
                             dynamic="Lk", strategy="split_kv")
        want = oracle.attention(q, dequantized(ks, kscale),
                                dequantized(vs, vscale))
        assert_close(got, want)


@VULKAN
@pytest.mark.parametrize("kind", ["i8", "f8"])
def test_quantized_kv_on_vulkan(rng, kind):
    q = randn(rng, 1, 4, 11, 16)
    k, v = randn(rng, 1, 2, 29, 16), randn(rng, 1, 2, 29, 16)
    got, kd, vd = quantized_attention(q, k, v, kind, causal=True,
                                      target="vulkan")
    want = oracle.attention(q, kd, vd, causal=True)
    assert_close(got, want)


def test_quantized_argument_errors(rng):
    q, k = randn(rng, 1, 2, 3, 8), randn(rng, 1, 1, 5, 8)
    ks, kscale = quantize_i8(k)
    with pytest.raises(ValueError, match="'k' has dtype int8, a quantized "
                                         "type: it needs 'k_scale'"):
        attn.attention(q, ks, k)
    with pytest.raises(ValueError, match=r"'k_scale' must be float32 of "
                                         r"shape \(1, 1, 5\)"):
        attn.attention(q, ks, k, k_scale=kscale[..., :4])
    with pytest.raises(ValueError, match="'v_scale' needs a quantized 'v'"):
        attn.attention(q, k, k, v_scale=kscale)


def test_quantized_kv_in_an_aot_library(tmp_path, rng):
    # f8 K (uint8 bits) and i8 V through attn-aot and load_library, Lk
    # dynamic: the f8 dtype travels through the library's ABI.
    import pathlib
    import subprocess
    aot = pathlib.Path(attn.__file__).resolve().parents[2] / "bin" / "attn-aot"
    source = tmp_path / "model.mlir"
    source.write_text(attn.ir(
        np.empty((1, 4, 1, 16), np.float32), np.empty((1, 2, 30, 16), np.uint8),
        np.empty((1, 2, 30, 16), np.int8),
        k_scale=np.empty((2,), np.float32),
        v_scale=np.empty((1, 2, 30), np.float32), dynamic=("Lk",)))
    library = tmp_path / "libmodel.so"
    subprocess.run([str(aot), str(source), "-o", str(library)], check=True)
    module = attn.load_library(library)
    q = randn(rng, 1, 4, 1, 16)
    for lk in (7, 40):
        ks, kscale = quantize_f8(randn(rng, 1, 2, lk, 16))
        vs, vscale = quantize_i8(randn(rng, 1, 2, lk, 16))
        want = oracle.attention(q, dequantized(ks, kscale),
                                dequantized(vs, vscale))
        assert_close(module.main(q, ks, vs, kscale, vscale), want)


@pytest.mark.parametrize("kind", ["i8", "f8"])
@pytest.mark.parametrize("strategy,target", [
    ("tiled", "cpu"), ("linear", "cpu"),
    pytest.param("tiled", "vulkan", marks=VULKAN),
    pytest.param("linear", "vulkan", marks=VULKAN)])
def test_quantized_kv_with_feature_map_scores(rng, kind, strategy, target):
    # elu1 applies phi to each dequantized key: the flash kernels dequantize
    # whole elements there (no folded scale), linear reads copies.
    q = randn(rng, 1, 4, 19, 16)
    k, v = randn(rng, 1, 2, 23, 16), randn(rng, 1, 2, 23, 16)
    got, kd, vd = quantized_attention(q, k, v, kind, score="elu1",
                                      strategy=strategy, target=target)
    want = oracle.attention(q, kd, vd, score="elu1")
    assert_close(got, want)
