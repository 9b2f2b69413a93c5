"""score_mod / mask_mod from Python functions (traced by attn.mods) and
sink_logits: the IR they become, the errors, and every strategy against
the float64 oracle on odd shapes."""

import math

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

# The strategies that compute custom variants on attn.attention (linear
# cannot: its factorization holds no per-pair change).
# block_sparse takes them too, on ops with a mask operand (tested apart).
STRATEGIES = [None, "reference", "tiled", "split_kv", "portable"]


def _qkv(rng, b=1, hq=4, hkv=2, lq=37, lk=53, d=16):
    return (randn(rng, b, hq, lq, d), randn(rng, b, hkv, lk, d),
            randn(rng, b, hkv, lk, d))


SLOPES = (2.0 ** -np.arange(1, 5)).astype(np.float32)


def alibi(s, b, h, i, j):
    return s + SLOPES[h] * (j - i)


# --- the IR ----------------------------------------------------------------

def test_alibi_traces_to_a_region_and_a_table(rng):
    q, k, v = _qkv(rng)
    text = attn.ir(q, k, v, causal=True, score_mod=alibi)
    assert "score_mod {" in text
    assert "^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index)" in text
    assert "tensor.extract %t0_SLOPES[%h] : tensor<4xf32>" in text
    assert "%t0_SLOPES: tensor<4xf32>" in text
    # No Lq x Lk tensor anywhere: only q, k, v, the table and the result.
    assert "37x53" not in text


def test_closure_global_and_default_tables_are_captured(rng):
    q, k, v = _qkv(rng)
    seg = np.zeros((1, 53), np.int32)
    closure = attn.ir(q, k, v, mask_mod=lambda b, h, i, j: seg[b, j] == 0)
    assert "%t0_seg: tensor<1x53xi32>" in closure
    default = attn.ir(q, k, v,
                      mask_mod=lambda b, h, i, j, table=seg: table[b, j] > 0)
    assert "%t0_table: tensor<1x53xi32>" in default
    # One table read by both mods is one argument.
    both = attn.ir(q, k, v, score_mod=lambda s, b, h, i, j: s + seg[b, j],
                   mask_mod=lambda b, h, i, j: seg[b, j] == 0)
    assert both.count("tensor<1x53xi32>") == 3  # the parameter, two reads
    assert "%t1" not in both


def test_negative_index_counts_from_the_end(rng):
    q, k, v = _qkv(rng, lq=8, lk=8)
    table = np.arange(16, dtype=np.float32)
    text = attn.ir(q, k, v, score_mod=lambda s, b, h, i, j: s + table[j - i])
    assert "arith.select" in text  # the wrap of j - i < 0
    got = attn.attention(q, k, v, score_mod=lambda s, b, h, i, j:
                         s + table[j - i])
    ii, jj = np.arange(8)[:, None], np.arange(8)[None, :]
    want = oracle.attention(q, k, v, bias=table[jj - ii].astype(np.float64))
    assert_close(got, want)


@pytest.mark.parametrize("fn, message", [
    (lambda s, b, h, i, j: s if i > j else 0.0, "no truth value"),
    (lambda s, b, h, i, j: s + max(i, j), "no truth value"),
    (lambda s, b, h, i, j: s + math.exp(i), "not a Python number"),
    (lambda s, b, h, i, j: np.sin(s), "np.sin is not traced"),
    (lambda s, b, h, i, j: s + SLOPES[h + 2], r"'SLOPES' index 0 may fall "
                                             r"outside \[-4, 4\)"),
    (lambda s, b, h, i, j: s + SLOPES[(s * 4).astype(int)],
     r"lies in \[unbounded, unbounded\]"),
    (lambda s, b, h, i, j: s + SLOPES[s], "is a float; convert it"),
    (lambda s, b, h, i, j: s + SLOPES[h, j], "index it with 1 integer"),
    (lambda s, b, h, i, j: s + SLOPES[:2], "must be an integer"),
    (lambda s, b, h, i, j: s + i // j, "nonzero integer constant divisor"),
    (lambda s, b, h, i, j: i > j, "must return a number"),
    (lambda s, b, h: s, r"must take 5 positional arguments \(s, b, h, i, j\)"),
    (lambda s, b, h, i, j: np.cumsum(s), "np.cumsum is not traced"),
])
def test_untraceable_score_mod_is_a_clear_error(rng, fn, message):
    q, k, v = _qkv(rng)
    with pytest.raises(attn.ModTraceError, match="score_mod.*" + message):
        attn.ir(q, k, v, score_mod=fn)


def test_mask_mod_errors(rng):
    q, k, v = _qkv(rng)
    with pytest.raises(attn.ModTraceError, match="must return a boolean"):
        attn.ir(q, k, v, mask_mod=lambda b, h, i, j: i - j)
    wide = np.zeros(53, np.float64)
    with pytest.raises(attn.ModTraceError,
                       match="'wide' has dtype float64; tables must be"):
        attn.ir(q, k, v, mask_mod=lambda b, h, i, j: wide[j] > 0)
    with pytest.raises(attn.ModTraceError, match="'and', 'or'|no truth"):
        attn.ir(q, k, v, mask_mod=lambda b, h, i, j: i > 2 and j > 2)


def test_argument_errors(rng):
    q, k, v = _qkv(rng)
    with pytest.raises(ValueError, match=r"'sink_logits' must be float32 of "
                                         r"shape \(4,\)"):
        attn.ir(q, k, v, sink_logits=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="'sink_logits' applies to score "
                                         "'softmax' only"):
        attn.ir(q, k, v, score="softplus", sink_logits=np.zeros(4,
                                                                 np.float32))
    with pytest.raises(ValueError, match="'score_mod' cannot apply to score "
                                         "'elu1'"):
        attn.ir(q, k, v, score="elu1", score_mod=alibi)
    with pytest.raises(attn.ModTraceError, match="must be a function"):
        attn.ir(q, k, v, score_mod=3)


# --- numbers against float64 ---------------------------------------------

@pytest.mark.parametrize("strategy", STRATEGIES)
def test_alibi_causal_gqa(rng, strategy):
    q, k, v = _qkv(rng)
    got = attn.attention(q, k, v, causal=True, score_mod=alibi,
                         strategy=strategy)
    want = oracle.attention(q, k, v, causal=True, score_mod=alibi)
    assert_close(got, want)


def _documents(rng, length, count):
    cuts = np.sort(rng.choice(np.arange(1, length), count - 1,
                              replace=False))
    return np.searchsorted(cuts, np.arange(length), side="right").astype(
        np.int32)[None]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_documents_with_empty_rows_and_sinks(rng, strategy):
    # Packed documents, causal within each; rows i % 7 == 3 see no key at all
    # (zeros, also with sink logits).
    q, k, v = _qkv(rng, lq=53, lk=53)
    seg = _documents(rng, 53, 5)
    sink_logits = randn(rng, 4)

    def documents(b, h, i, j):
        return (seg[b, i] == seg[b, j]) & (j <= i) & (i % 7 != 3)

    got = attn.attention(q, k, v, mask_mod=documents, sink_logits=sink_logits,
                         strategy=strategy)
    want = oracle.attention(q, k, v, mask_mod=documents,
                            sink_logits=sink_logits)
    assert np.all(want[:, :, 3::7] == 0)
    assert_close(got, want)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_softcap_as_score_mod_matches_the_attribute(rng, strategy):
    q, k, v = _qkv(rng)
    q *= 4
    got = attn.attention(q, k, v, window=(9, 3),
                         score_mod=lambda s, b, h, i, j: 5.0 * np.tanh(s / 5.0),
                         strategy=strategy)
    want = oracle.attention(q, k, v, window=(9, 3), softcap=5.0)
    assert_close(got, want)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_relative_table_prefix_and_where(rng, strategy):
    # Music-Transformer-style table by j - i, a prefix-LM mask, and a score
    # that where() sends to -inf beyond a distance (rows keep a finite key).
    q, k, v = _qkv(rng, b=2)
    lq, lk = 37, 53
    rel = randn(rng, 4, lq + lk - 1)

    def score_mod(s, b, h, i, j):
        return np.where(i - j > 20, -np.inf, s + rel[h, j - i + lq - 1])

    def prefix_lm(b, h, i, j):
        return (j < 8) | (j <= i + (lk - lq))

    got = attn.attention(q, k, v, score_mod=score_mod, mask_mod=prefix_lm,
                         strategy=strategy)
    want = oracle.attention(q, k, v, score_mod=score_mod, mask_mod=prefix_lm)
    assert_close(got, want)


def test_block_sparse_with_mask_and_mods(rng):
    q, k, v = _qkv(rng, lq=70, lk=70)
    mask = rng.random((1, 1, 70, 70)) < 0.3
    sink_logits = randn(rng, 4)

    def band(b, h, i, j):
        return np.abs(i - j) < 40

    got = attn.attention(q, k, v, mask=mask, score_mod=alibi, mask_mod=band,
                         sink_logits=sink_logits, strategy="block_sparse")
    want = oracle.attention(q, k, v, mask=mask, score_mod=alibi,
                            mask_mod=band, sink_logits=sink_logits)
    assert_close(got, want)


def test_dynamic_lk_needs_bounded_indices(rng):
    q, k, v = _qkv(rng)
    table = np.zeros(64, np.float32)
    with pytest.raises(attn.ModTraceError, match="'table' index 0 may fall "
                                                 "outside"):
        attn.ir(q, k, v, dynamic=("Lk",),
                score_mod=lambda s, b, h, i, j: s + table[j])
    table = randn(rng, 64)

    def clipped(s, b, h, i, j):
        return s + table[np.clip(j, 0, 63)]

    got = attn.attention(q, k, v, dynamic=("Lk",), score_mod=clipped)
    assert_close(got, oracle.attention(q, k, v, score_mod=clipped))


def test_neighborhood_relative_positional_bias(rng):
    q, k, v = (randn(rng, 1, 2, 9, 11, 8) for _ in range(3))
    kernel = (3, 5)
    rpb = randn(rng, 2, 2 * kernel[0] - 1, 2 * kernel[1] - 1)

    def score_mod(s, b, h, qx, qy, kx, ky):
        return s + rpb[h, kx - qx + kernel[0] - 1, ky - qy + kernel[1] - 1]

    got = attn.neighborhood(q, k, v, kernel, score_mod=score_mod)
    want = oracle.neighborhood(q, k, v, kernel, score_mod=score_mod)
    assert_close(got, want)
    # The table's bounds come from the window: dilation widens them.
    with pytest.raises(attn.ModTraceError, match="'rpb' index 1 may fall"):
        attn.ir(q, k, v, kernel=kernel, dilation=2, score_mod=score_mod)


VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("options", [
    dict(), dict(dilation=(2, 1)), dict(causal=(True, False)),
    dict(stride=(2, 3)), dict(kernel=(5, 3), dilation=(1, 3))])
def test_neighborhood_kernel_computes_the_mods(rng, options, target):
    # The neighborhood strategy fuses both mods (the CPU kernel and the GPU
    # flash kernel): a relative bias read at the window's offsets, plus a
    # mask_mod that empties some rows.
    options = dict(options)
    kernel = options.pop("kernel", (3, 5))
    q, k, v = (randn(rng, 1, 2, 9, 11, 8) for _ in range(3))
    rpb = randn(rng, 2, 2 * 9 - 1, 2 * 11 - 1)

    def score_mod(s, b, h, qx, qy, kx, ky):
        return s + rpb[h, kx - qx + 8, ky - qy + 10]

    def mask_mod(b, h, qx, qy, kx, ky):
        return (qx != 4) & ((kx + ky + h) % 4 != 1)

    got = attn.neighborhood(q, k, v, kernel, score_mod=score_mod,
                            mask_mod=mask_mod, strategy="neighborhood",
                            target=target, **options)
    want = oracle.neighborhood(q, k, v, kernel, score_mod=score_mod,
                               mask_mod=mask_mod, **options)
    assert np.all(want[:, :, 4] == 0)
    assert_close(got, want)


def test_neighborhood_kernel_reads_offset_tables_in_bounds(rng):
    # A table of exactly the window's offsets (2k - 1 per axis): the kernel
    # moves keys outside a query's window to its edge before the mod reads.
    q, k, v = (randn(rng, 1, 3, 16, 8) for _ in range(3))
    rpb = randn(rng, 3, 2 * 5 - 1)

    def score_mod(s, b, h, qx, kx):
        return s + rpb[h, kx - qx + 4]

    runs = [("neighborhood", "cpu"), ("reference", "cpu")]
    if attn.vulkan_available():
        runs.append(("neighborhood", "vulkan"))
    for strategy, target in runs:
        got = attn.neighborhood(q, k, v, 5, score_mod=score_mod,
                                strategy=strategy, target=target)
        assert_close(got, oracle.neighborhood(q, k, v, 5,
                                              score_mod=score_mod))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_rows_whose_scores_are_all_minus_infinity_are_zero(rng, strategy):
    # score_mod may send every allowed score of a row to -inf: the row has
    # no weight anywhere and outputs zeros, as a row with no allowed key.
    q, k, v = _qkv(rng)

    def drop_rows(s, b, h, i, j):
        return np.where(i % 5 == 0, -np.inf, s)

    got = attn.attention(q, k, v, causal=True, score_mod=drop_rows,
                         strategy=strategy)
    want = oracle.attention(q, k, v, causal=True, score_mod=drop_rows)
    assert np.all(want[:, :, ::5] == 0)
    assert_close(got, want)
