"""mask_mod tile classes: the CPU flash kernel skips the (query block, key
tile) pairs a mask_mod leaves empty and runs the ones it allows completely
without per-element tests, from an interval evaluation of the mod
(ModTileClasses.cpp). A wrong class is a wrong answer, so every mod here
runs with blocks small enough that all three classes occur, on tiled and
split_kv, and is compared with the float64 oracle: position-only mods
(classified at compile time, and at run time when the lengths are dynamic),
mods on tables read at i and j (block summaries), mods the evaluation can
only call partial, and rows with no allowed key."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

# Blocks of 8 or 12 rows in micro-tiles of 3 or 4 (groups that do and do
# not divide the block; with two query heads per KV head, micro-tiles that
# wrap from one head's rows into the next), tiles of 16 or 32 keys.
STRATEGIES = [
    ("tiled", {"block_q": 8, "block_k": 16, "micro_q": 3}),
    ("tiled", {"block_q": 12, "block_k": 32, "micro_q": 4}),
    ("split_kv", {"block_q": 8, "block_k": 16, "micro_q": 4, "splits": 3}),
]
IDS = ["tiled-8x16x3", "tiled-12x32x4", "split_kv-8x16x4x3"]


def _qkv(rng, b=2, hq=4, hkv=2, lq=97, lk=97, d=16):
    return (randn(rng, b, hq, lq, d), randn(rng, b, hkv, lk, d),
            randn(rng, b, hkv, lk, d))


def _documents(rng, batch, length, count):
    """Sorted segment ids [batch, length]: `count` documents per row."""
    rows = []
    for _ in range(batch):
        cuts = np.sort(rng.choice(np.arange(1, length), count - 1,
                                  replace=False))
        rows.append(np.searchsorted(cuts, np.arange(length), side="right"))
    return np.stack(rows).astype(np.int32)


def _check(q, k, v, strategy, **kwargs):
    got = attn.attention(q, k, v, strategy=strategy, **kwargs)
    want = oracle.attention(q, k, v, **kwargs)
    assert_close(got, want)
    return want


# --- tables read at i and j: classified at run time ------------------------

@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_documents_causal(rng, strategy):
    q, k, v = _qkv(rng)
    seg = _documents(rng, 2, 97, 4)
    _check(q, k, v, strategy, causal=True,
           mask_mod=lambda b, h, i, j: seg[b, i] == seg[b, j])


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_documents_strict_with_key_padding_and_empty_rows(rng, strategy):
    # Not causal: each document's first row sees no key (j < i), nor do the
    # rows whose keys are all padding (a boolean table read at j).
    q, k, v = _qkv(rng)
    seg = _documents(rng, 2, 97, 3)
    valid = np.ones((2, 97), bool)
    valid[1, 60:] = False

    def mod(b, h, i, j):
        return (seg[b, i] == seg[b, j]) & (j < i) & valid[b, j]

    want = _check(q, k, v, strategy, mask_mod=mod)
    assert np.all(want[:, :, 0] == 0)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_routing_clusters_per_head(rng, strategy):
    # Routing Transformer: content clusters per (batch, head, position),
    # unsorted, so little is skipped; the mod reads h (classes per head).
    q, k, v = _qkv(rng)
    clusters = rng.integers(0, 3, (2, 4, 97)).astype(np.int32)
    clusters[0, 1, :40] = 7  # a long run: some tiles are full or empty

    def mod(b, h, i, j):
        return clusters[b, h, i] == clusters[b, h, j]

    _check(q, k, v, strategy, causal=True, mask_mod=mod)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_per_batch_prefix_lengths(rng, strategy):
    q, k, v = _qkv(rng, lq=50, lk=83)
    prefix = np.array([5, 61], np.int32)

    def mod(b, h, i, j):
        return (j < prefix[b]) | (j <= i + 33)

    _check(q, k, v, strategy, mask_mod=mod)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_float_table_is_partial_everywhere_and_still_right(rng, strategy):
    q, k, v = _qkv(rng)
    seg = _documents(rng, 2, 97, 4).astype(np.float32)
    _check(q, k, v, strategy,
           mask_mod=lambda b, h, i, j: seg[b, i] == seg[b, j])


# --- positions only: classified at compile time ----------------------------

POSITION_MODS = {
    "prefix_lm": lambda b, h, i, j: (j <= i) | (j < 23),
    "blocks": lambda b, h, i, j: i // 16 == j // 16,
    "periodic": lambda b, h, i, j: (i - j) % 24 < 6,
    "where": lambda b, h, i, j: np.where(i < 40, j <= i, j >= i - 5),
    "band_by_head": lambda b, h, i, j: np.abs(i - j) <= 4 + 9 * h,
    "nothing": lambda b, h, i, j: i > 1000,
}


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
@pytest.mark.parametrize("name", sorted(POSITION_MODS))
def test_position_only_mods(rng, strategy, name):
    q, k, v = _qkv(rng, lq=61, lk=97)
    want = _check(q, k, v, strategy, mask_mod=POSITION_MODS[name])
    if name == "nothing":
        assert np.all(want == 0)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_position_only_with_window_and_sinks(rng, strategy):
    q, k, v = _qkv(rng)
    _check(q, k, v, strategy, window=(20, 0), sinks=3,
           mask_mod=lambda b, h, i, j: (i // 10) != (j // 10) + 1)


@pytest.mark.parametrize("strategy", STRATEGIES[:2], ids=IDS[:2])
def test_dynamic_lengths_classify_at_run_time(rng, strategy):
    q, k, v = _qkv(rng, lq=61, lk=97)
    seg = _documents(rng, 2, 97, 4)

    def mod(b, h, i, j):
        return ((j <= i + 36) | (j < 23)) & (seg[b, np.clip(j, 0, 96)] != 2)

    got = attn.attention(q, k, v, strategy=strategy, dynamic=("Lq", "Lk"),
                         mask_mod=mod)
    assert_close(got, oracle.attention(q, k, v, mask_mod=mod))



# --- the GPU kernel (Vulkan): classes per (query block, key tile) ----------

GPU_STRATEGIES = [("tiled", {"block_q": 8, "block_k": 16}),
                  ("split_kv", {"block_q": 8, "block_k": 16, "splits": 3})]


@pytest.mark.skipif(not attn.vulkan_available(),
                    reason="no Vulkan device (mesa-vulkan-drivers)")
@pytest.mark.parametrize("strategy", GPU_STRATEGIES,
                         ids=["tiled-8x16", "split_kv-8x16x3"])
@pytest.mark.parametrize("name", ["documents", "routing", "prefix_lm"])
def test_vulkan(rng, strategy, name):
    q, k, v = _qkv(rng, lq=61, lk=97)
    seg = _documents(rng, 2, 97, 4)
    clusters = rng.integers(0, 3, (2, 4, 97)).astype(np.int32)
    clusters[:, :, :50] = 5
    mods = {
        "documents": lambda b, h, i, j: (seg[b, i] == seg[b, j]) & (j <= i),
        "routing": lambda b, h, i, j: clusters[b, h, i] == clusters[b, h, j],
        "prefix_lm": POSITION_MODS["prefix_lm"],
    }
    got = attn.attention(q, k, v, strategy=strategy, target="vulkan",
                         mask_mod=mods[name])
    assert_close(got, oracle.attention(q, k, v, mask_mod=mods[name]))


# --- useful FLOPs (attn-run --bench's GFLOP/s): the pairs a mod allows -----

@pytest.mark.parametrize("name", sorted(POSITION_MODS))
def test_useful_flops_count_the_pairs_the_mod_allows(rng, name):
    """A position-only mod on static sizes: its pairs, with the window and
    the sinks, are counted exactly at compile time (2 (D + Dv) FLOPs per
    pair and query head)."""
    q, k, v = _qkv(rng, lq=61, lk=97)
    kwargs = dict(window=(20, 0), sinks=3, mask_mod=POSITION_MODS[name])
    module = attn.compile(attn.ir(q, k, v, **kwargs))
    allowed = oracle._allowed((2, 4, 61, 97), False, (20, 0), 3, None,
                              POSITION_MODS[name])
    assert module.main.useful_flops(q, k, v) == allowed.sum() * 2 * (16 + 16)


def test_useful_flops_unknown_when_the_mod_reads_call_values(rng):
    """A table passed at run time, or lengths known only at run time: the
    pairs are not counted, and the count says it is unknown (< 0) instead
    of counting every pair."""
    q, k, v = _qkv(rng, lq=61, lk=97)
    seg = _documents(rng, 2, 97, 4)
    text = attn.ir(q, k, v, causal=True,
                   mask_mod=lambda b, h, i, j: seg[b, i] == seg[b, j])
    assert attn.compile(text).main.useful_flops(q, k, v, seg) < 0
    text = attn.ir(q, k, v, dynamic=("Lq", "Lk"),
                   mask_mod=POSITION_MODS["prefix_lm"])
    assert attn.compile(text).main.useful_flops(q, k, v) < 0
    # Without a mod the rule alone is counted.
    text = attn.ir(q, k, v, causal=True)
    assert attn.compile(text).main.useful_flops(q, k, v) == \
        oracle.band(61, 97, True, None, 0).sum() * 2 * 4 * 2 * (16 + 16)
