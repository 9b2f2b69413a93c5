"""attn.paged_attention: each request attends to its own keys in a paged
KV cache, against float64 math on the gathered keys; f32, int8 and
float8_e4m3fn caches; decode and chunked prefill; every strategy that
computes it, and vulkan; errors for bad tables and lengths."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn
from test_quantized_kv import dequantized, quantize_f8

VULKAN = pytest.mark.skipif(not attn.vulkan_available(),
                            reason="no Vulkan device")


def make_cache(rng, b, hkv, pages, page_size, d, dv, lengths, table_width):
    """Caches of random pages, a table of distinct pages per request."""
    k = randn(rng, pages, hkv, page_size, d)
    v = randn(rng, pages, hkv, page_size, dv)
    table = rng.permutation(pages)[:b * table_width].reshape(
        b, table_width).astype(np.int32)
    return k, v, table, np.asarray(lengths, dtype=np.int32)


def gather(cache, table, length):
    """Request keys [1, Hkv, length, ...] from a cache (or i8 scales)."""
    page_size = cache.shape[2]
    t = np.arange(length)
    return np.moveaxis(cache[table[t // page_size], :, t % page_size], 0, 1)[
        None]


def paged_oracle_statistics(q, k, v, table, lengths, **options):
    """(out, lse) of each request's attention over its own keys in float64:
    zeros and -inf for a request without keys."""
    out = np.zeros(q.shape[:3] + (v.shape[-1],))
    lse = np.full(q.shape[:3], -np.inf)
    for b, length in enumerate(lengths):
        if length:
            out[b:b + 1], lse[b:b + 1], _ = oracle.attention(
                q[b:b + 1].astype(np.float64),
                gather(k, table[b], length).astype(np.float64),
                gather(v, table[b], length).astype(np.float64),
                statistics=True, **options)
    return out, lse


def paged_oracle(q, k, v, table, lengths, **options):
    return paged_oracle_statistics(q, k, v, table, lengths, **options)[0]


STRATEGIES = ["reference", "tiled", "split_kv",
              ("split_kv", {"splits": 3, "block_k": 16, "micro_q": 3}),
              ("tiled", {"block_q": 5, "block_k": 16, "micro_q": 3})]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("lq", [1, 7])
def test_paged_matches_float64(rng, strategy, lq):
    # GQA, pages of 8, lengths: full, 1 (fewer than the queries), 0 and 29
    # (no page or tile divides it).
    q = randn(rng, 4, 6, lq, 16)
    k, v, table, lengths = make_cache(rng, 4, 2, 30, 8, 16, 24,
                                      [40, 1, 0, 29], 5)
    got = attn.paged_attention(q, k, v, table, lengths, causal=True,
                               strategy=strategy)
    assert_close(got, paged_oracle(q, k, v, table, lengths, causal=True))
    assert not got[2].any()


@pytest.mark.parametrize("strategy", ["tiled", "split_kv", "reference"])
def test_paged_window_softcap(rng, strategy):
    q = randn(rng, 2, 4, 5, 32)
    k, v, table, lengths = make_cache(rng, 2, 4, 20, 16, 32, 32, [70, 33], 6)
    options = dict(window=(19, 0), softcap=15.0, scale=0.3)
    got = attn.paged_attention(q, k, v, table, lengths, strategy=strategy,
                               causal=True, **options)
    assert_close(got, paged_oracle(q, k, v, table, lengths, causal=True,
                                   **options))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("lq", [1, 6])
def test_paged_window_sinks(rng, strategy, lq):
    """StreamingLLM over a paged cache: each request's own first keys stay
    visible beside its window (the reference's contiguous copies put them
    at other positions for every request). Lengths shorter than the sinks,
    shorter than the queries, and 0."""
    q = randn(rng, 5, 4, lq, 16)
    k, v, table, lengths = make_cache(rng, 5, 2, 40, 8, 16, 16,
                                      [61, 37, 2, 4, 0], 8)
    for options in (dict(window=(7, 0), sinks=3, causal=True),
                    dict(window=(5, 2), sinks=9)):
        got = attn.paged_attention(q, k, v, table, lengths, strategy=strategy,
                                   **options)
        assert_close(got, paged_oracle(q, k, v, table, lengths, **options))


@VULKAN
@pytest.mark.parametrize("strategy", ["tiled", "split_kv"])
def test_paged_window_sinks_vulkan(rng, strategy):
    q = randn(rng, 3, 4, 2, 16)
    k, v, table, lengths = make_cache(rng, 3, 2, 24, 8, 16, 16, [45, 3, 20],
                                      6)
    options = dict(window=(6, 0), sinks=4, causal=True)
    got = attn.paged_attention(q, k, v, table, lengths, strategy=strategy,
                               target="vulkan", **options)
    assert_close(got, paged_oracle(q, k, v, table, lengths, **options))


@pytest.mark.parametrize("strategy", ["tiled", "split_kv", "reference"])
def test_paged_int8(rng, strategy):
    q = randn(rng, 3, 4, 2, 16)
    k, v, table, lengths = make_cache(rng, 3, 2, 24, 8, 16, 16, [64, 9, 30],
                                      8)
    kscale = (np.abs(k).max(axis=-1) / 127).astype(np.float32)
    vscale = (np.abs(v).max(axis=-1) / 127).astype(np.float32)
    ki = np.clip(np.rint(k / kscale[..., None]), -127, 127).astype(np.int8)
    vi = np.clip(np.rint(v / vscale[..., None]), -127, 127).astype(np.int8)
    got = attn.paged_attention(q, ki, vi, table, lengths, k_scale=kscale,
                               v_scale=vscale, causal=True,
                               strategy=strategy)
    kd, vd = ki * kscale[..., None].astype(np.float64), \
        vi * vscale[..., None].astype(np.float64)
    assert_close(got, paged_oracle(q, kd, vd, table, lengths, causal=True))


@pytest.mark.parametrize("strategy", ["split_kv", "reference"])
def test_paged_f8(rng, strategy):
    q = randn(rng, 2, 8, 1, 32)
    k, v, table, lengths = make_cache(rng, 2, 2, 16, 16, 32, 32, [100, 57],
                                      7)
    kb, kscale = quantize_f8(k)
    vb, vscale = quantize_f8(v)
    got = attn.paged_attention(q, kb, vb, table, lengths, k_scale=kscale,
                               v_scale=vscale, strategy=strategy)
    assert_close(got, paged_oracle(q, dequantized(kb, kscale),
                                   dequantized(vb, vscale), table, lengths))


@pytest.mark.parametrize("hq,hkv,lq,d,dv,params", [
    # One query head per KV head: each micro-tile of 2 rows holds a padding
    # row.
    (8, 8, 1, 24, 40, {"splits": 2, "block_k": 16, "micro_q": 2}),
    # Two query heads x 3 queries per KV head: 6 rows of state per head,
    # padded to 8.
    (16, 8, 3, 24, 40, {"splits": 3, "block_k": 32, "micro_q": 4}),
    (12, 4, 1, 24, 40, {"splits": 1, "block_k": 16, "micro_q": 3}),
    # State too large for the stack budget: one KV head per task.
    (64, 64, 1, 512, 512, {"splits": 2, "block_k": 16, "micro_q": 2}),
])
def test_paged_split_kv_heads_per_tile(rng, hq, hkv, lq, d, dv, params):
    """Paged decode visits every KV head in each key tile, their rows of
    state side by side: each head must see its own keys and no other's,
    with and without splits, and with one head per task where the heads'
    state exceeds the stack budget."""
    q = randn(rng, 4, hq, lq, d)
    k, v, table, lengths = make_cache(rng, 4, hkv, 20, 16, d, dv,
                                      [64, 0, 37, 5], 4)
    got = attn.paged_attention(q, k, v, table, lengths, causal=True,
                               strategy=("split_kv", params))
    assert_close(got, paged_oracle(q, k, v, table, lengths, causal=True))
    assert not got[1].any()


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("lq", [1, 6])
def test_paged_sink_logits_and_lse(rng, strategy, lq):
    # Sink logits in every row's denominator and each row's LSE, per
    # request: full, 1 key (rows before it see none), none, and 29 keys.
    q = randn(rng, 4, 6, lq, 16)
    k, v, table, lengths = make_cache(rng, 4, 2, 30, 8, 16, 24,
                                      [40, 1, 0, 29], 5)
    sinks = rng.normal(size=6).astype(np.float32)
    got, lse = attn.paged_attention(q, k, v, table, lengths, causal=True,
                                    sink_logits=sinks, return_lse=True,
                                    strategy=strategy)
    want, want_lse = paged_oracle_statistics(q, k, v, table, lengths,
                                             causal=True, sink_logits=sinks)
    assert_close(got, want)
    assert lse.dtype == np.float32 and lse.shape == (4, 6, lq)
    assert np.array_equal(np.isinf(lse), np.isinf(want_lse))
    assert_close(np.where(np.isinf(lse), 0, lse),
                 np.where(np.isinf(want_lse), 0, want_lse))
    assert np.all(lse[2] == -np.inf) and not got[2].any()


@pytest.mark.parametrize("strategy", ["split_kv", "tiled", "reference"])
def test_paged_lse_merges_a_shared_prefix(rng, strategy):
    # Cascade attention: a prefix of 3 pages that all 3 requests share, and
    # each request's own pages; the two parts' states merge into attention
    # over all of a request's keys. int8 caches, a window and a softcap.
    page, d = 8, 32
    q = randn(rng, 3, 8, 1, d)
    k, v, table, lengths = make_cache(rng, 3, 4, 30, page, d, d,
                                      [70, 57, 33], 9)
    kscale = (np.abs(k).max(axis=-1) / 127).astype(np.float32)
    vscale = (np.abs(v).max(axis=-1) / 127).astype(np.float32)
    ki = np.clip(np.rint(k / kscale[..., None]), -127, 127).astype(np.int8)
    vi = np.clip(np.rint(v / vscale[..., None]), -127, 127).astype(np.int8)
    table[:, :3] = table[0, :3]
    prefix = 3 * page
    options = dict(k_scale=kscale, v_scale=vscale, softcap=20.0,
                   strategy=strategy)
    shared = attn.paged_attention(
        q, ki, vi, np.ascontiguousarray(table[:, :3]),
        np.full(3, prefix, np.int32), return_lse=True, **options)
    own = attn.paged_attention(
        q, ki, vi, np.ascontiguousarray(table[:, 3:]),
        (lengths - prefix).astype(np.int32), return_lse=True, **options)
    merged, merged_lse = attn.merge_states([shared, own])
    whole, whole_lse = attn.paged_attention(q, ki, vi, table, lengths,
                                            return_lse=True, **options)
    assert_close(merged, whole)
    assert_close(merged_lse, whole_lse)
    kd, vd = ki * kscale[..., None].astype(np.float64), \
        vi * vscale[..., None].astype(np.float64)
    want, want_lse = paged_oracle_statistics(q, kd, vd, table, lengths,
                                             softcap=20.0)
    assert_close(whole, want)
    assert_close(whole_lse, want_lse)


@VULKAN
@pytest.mark.parametrize("strategy", ["tiled", "split_kv"])
def test_paged_sink_logits_and_lse_vulkan(rng, strategy):
    q = randn(rng, 3, 4, 2, 16)
    k, v, table, lengths = make_cache(rng, 3, 2, 20, 8, 16, 16, [33, 0, 16],
                                      5)
    sinks = rng.normal(size=4).astype(np.float32)
    got, lse = attn.paged_attention(q, k, v, table, lengths, causal=True,
                                    sink_logits=sinks, return_lse=True,
                                    strategy=strategy, target="vulkan")
    want, want_lse = paged_oracle_statistics(q, k, v, table, lengths,
                                             causal=True, sink_logits=sinks)
    assert_close(got, want)
    assert np.array_equal(np.isinf(lse), np.isinf(want_lse))
    assert_close(np.where(np.isinf(lse), 0, lse),
                 np.where(np.isinf(want_lse), 0, want_lse))


def test_paged_dynamic_compiles_once(rng):
    # A decode loop: the table grows and requests change; one compile.
    attn.clear_cache()
    for b, width, pages in ((2, 3, 10), (3, 5, 20), (1, 2, 4)):
        q = randn(rng, b, 4, 1, 16)
        k, v, table, _ = make_cache(rng, b, 1, pages, 4, 16, 16, [0] * b,
                                    width)
        lengths = rng.integers(0, width * 4 + 1, size=b).astype(np.int32)
        got = attn.paged_attention(q, k, v, table, lengths, causal=True,
                                   dynamic=True)
        assert_close(got, paged_oracle(q, k, v, table, lengths, causal=True))
    assert attn.cache_info().misses == 1


@VULKAN
@pytest.mark.parametrize("strategy", ["tiled", "split_kv"])
def test_paged_vulkan(rng, strategy):
    q = randn(rng, 3, 4, 3, 16)
    k, v, table, lengths = make_cache(rng, 3, 2, 24, 8, 16, 16, [48, 2, 17],
                                      6)
    got = attn.paged_attention(q, k, v, table, lengths, causal=True,
                               strategy=strategy, target="vulkan")
    assert_close(got, paged_oracle(q, k, v, table, lengths, causal=True))


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(key_lengths=np.array([41, 3], np.int32)),
     r"'key_lengths'\[0\] is 41, outside \[0, 40\]"),
    (lambda a: a.update(key_lengths=np.array([-1, 3], np.int32)),
     r"'key_lengths'\[0\] is -1"),
    (lambda a: a["page_table"].__setitem__((1, 0), 99),
     r"'page_table'\[1, 0\] is 99, not a page of the cache's 12"),
    (lambda a: a.update(page_table=a["page_table"].astype(np.int64)),
     r"'page_table' must be int32 of shape \(2, T\)"),
    (lambda a: a.update(key_lengths=np.array([1], np.int32)),
     r"'key_lengths' must be int32 of shape \(2,\)"),
    (lambda a: a.update(k_scale=np.ones((12, 2, 8), np.float32)),
     r"'k_scale' needs a quantized 'k_cache'"),
    (lambda a: a.update(v_cache=a["v_cache"][:6]),
     r"'v_cache' pages, heads and page size"),
    (lambda a: a.update(sink_logits=np.zeros(3, np.float32)),
     r"'sink_logits' must be float32 of shape \(4,\)"),
    (lambda a: a.update(return_lse=1),
     r"'return_lse' must be a bool, got 1"),
    (lambda a: a.update(sinks=2),
     r"'sinks' exempts keys from a window; it needs 'window'"),
    (lambda a: a.update(sinks=-1, window=4),
     r"'sinks' must be"),
])
def test_paged_errors(rng, change, message):
    args = dict(q=randn(rng, 2, 4, 1, 16), k_cache=randn(rng, 12, 2, 8, 16),
                v_cache=randn(rng, 12, 2, 8, 16),
                page_table=np.arange(10, dtype=np.int32).reshape(2, 5),
                key_lengths=np.array([40, 3], np.int32))
    change(args)
    with pytest.raises(ValueError, match=message):
        attn.paged_attention(**args)


@pytest.mark.parametrize("options", [dict(causal=True),
                                     dict(window=(5, 0), sinks=3)])
def test_paged_useful_flops(rng, options):
    """attn-run --bench's FLOP count of a paged op: each request's allowed
    pairs from its key_lengths value, 2 (D + Dv) per pair and query head,
    with dynamic sizes too."""
    from attn.builder import _paged_plan
    q = randn(rng, 4, 6, 3, 16)
    k, v, table, lengths = make_cache(rng, 4, 2, 30, 8, 16, 24,
                                      [40, 1, 0, 29], 5)
    want = sum(oracle.band(3, int(n), options.get("causal", False),
                           options.get("window"), options.get("sinks", 0)
                           ).sum() for n in lengths) * 6 * 2 * (16 + 24)
    for dynamic in (None, True):
        text, arrays = _paged_plan(q, k, v, table, lengths, dynamic=dynamic,
                                   **options)
        entry = attn.compile(text).main
        assert entry.useful_flops(*arrays) == want
