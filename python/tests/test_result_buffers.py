"""Results written into the caller's arrays (out=) and result buffers
reused across calls: correct on every path (in place, copied, dynamic
sizes, several results, AOT libraries, vulkan), wrong output arrays
refused before anything runs, and no fresh memory in a steady stream of
calls."""

import pathlib
import resource

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

TWO_RESULTS = """
func.func @two(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  %a = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) {causal} -> tensor<1x2x16x8xf32>
  %b = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %a, %b : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}
"""

# Returns its argument: deallocation's copy of it is the entry's result
# allocation, so the copy goes straight into an output array.
IDENTITY = """
func.func @same(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  return %x : tensor<3x5xf32>
}
"""


LOWERED_IDENTITY = (pathlib.Path(__file__).resolve().parents[2] / "test" /
                    "Integration" / "Inputs" / "lowered-identity.mlir")


def address(array):
    return array.__array_interface__["data"][0]


VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))


@pytest.mark.parametrize("target", ["cpu", VULKAN])
def test_out_is_written_and_returned(rng, target):
    q, k, v = (randn(rng, 1, 4, 37, 16), randn(rng, 1, 2, 45, 16),
               randn(rng, 1, 2, 45, 16))
    out = np.full((1, 4, 37, 16), np.nan, np.float32)
    where = address(out)
    got = attn.attention(q, k, v, causal=True, out=out, target=target,
                         threads=2)
    assert got is out and address(out) == where
    assert_close(out, oracle.attention(q, k, v, causal=True))
    # The same array again, other inputs: overwritten, still in place.
    q2 = randn(rng, 1, 4, 37, 16)
    attn.attention(q2, k, v, causal=True, out=out, target=target, threads=2)
    assert_close(out, oracle.attention(q2, k, v, causal=True))
    assert np.array_equal(
        out, attn.attention(q2, k, v, causal=True, target=target, threads=2))


def test_out_with_dynamic_sizes_and_paged(rng):
    q = randn(rng, 1, 4, 1, 16)
    out = np.empty((1, 4, 1, 16), np.float32)
    for lk in (3, 17, 40):
        k, v = randn(rng, 1, 2, lk, 16), randn(rng, 1, 2, lk, 16)
        attn.attention(q, k, v, dynamic=("Lk",), out=out, threads=2)
        assert_close(out, oracle.attention(q, k, v))
    # A dynamic query length that differs from the output's is refused
    # after the call.
    q3 = randn(rng, 1, 4, 3, 16)
    k, v = randn(rng, 1, 2, 9, 16), randn(rng, 1, 2, 9, 16)
    with pytest.raises(RuntimeError, match="result 0 of @main is float32 "
                       r"\[1, 4, 3, 16\] but output 0 is float32 \[1, 4, 2, 16\]"):
        attn.attention(q3, k, v, dynamic=("Lq",), threads=2,
                       out=np.empty((1, 4, 2, 16), np.float32))
    # Paged decode into the caller's array.
    k_cache, v_cache = randn(rng, 6, 2, 4, 16), randn(rng, 6, 2, 4, 16)
    table = np.array([[3, 0, 5]], np.int32)
    lengths = np.array([10], np.int32)
    got = attn.paged_attention(q, k_cache, v_cache, table, lengths, out=out,
                               threads=2)
    assert got is out
    k = k_cache[table[0]].transpose(1, 0, 2, 3).reshape(1, 2, 12, 16)[:, :, :10]
    v = v_cache[table[0]].transpose(1, 0, 2, 3).reshape(1, 2, 12, 16)[:, :, :10]
    assert_close(out, oracle.attention(q, k, v))


def test_out_for_several_results_and_copies(rng):
    module = attn.compile(TWO_RESULTS, threads=2)
    q, k, v = (randn(rng, 1, 2, 16, 8) for _ in range(3))
    a, b = np.empty((1, 2, 16, 8), np.float32), np.empty((1, 2, 16, 8),
                                                          np.float32)
    got = module.two(q, k, v, out=(a, b))
    assert got[0] is a and got[1] is b
    assert_close(a, oracle.attention(q, k, v, causal=True))
    assert_close(b, oracle.attention(q, k, v))
    # lse as a second result, written through attention()'s out=.
    o, lse = np.empty((1, 2, 16, 8), np.float32), np.empty((1, 2, 16),
                                                           np.float32)
    attn.attention(q, k, v, return_lse=True, out=(o, lse), threads=2)
    want_o, want_lse = attn.attention(q, k, v, return_lse=True, threads=2)
    assert np.array_equal(o, want_o) and np.array_equal(lse, want_lse)
    same = attn.compile(IDENTITY)
    x = randn(rng, 3, 5)
    y = np.zeros((3, 5), np.float32)
    assert same.same(x, out=y) is y and np.array_equal(x, y)
    # IR lowered elsewhere returns its argument's own memory: the runtime
    # copies it into the output and leaves the argument alone.
    lowered = attn.compile(LOWERED_IDENTITY)
    x = randn(rng, 7)
    want = x.copy()
    y = np.zeros(7, np.float32)
    assert lowered.identity(x, out=y) is y
    assert np.array_equal(y, want) and np.array_equal(x, want)


def test_wrong_outputs_are_refused(rng):
    module = attn.compile(TWO_RESULTS, threads=2)
    q, k, v = (randn(rng, 1, 2, 16, 8) for _ in range(3))
    good = np.empty((1, 2, 16, 8), np.float32)
    cases = [
        (good, ValueError, "@two returns 2 results, got 1 output arrays"),
        ((good, np.empty((1, 2, 16, 8), np.float64)), ValueError,
         "output 1 has dtype float64 but @two returns"),
        ((good, np.empty((1, 2, 8, 8), np.float32)), ValueError,
         r"output 1 has shape \(1, 2, 8, 8\) but @two returns"),
        ((good, np.empty((1, 2, 8, 16), np.float32).transpose(0, 1, 3, 2)),
         ValueError, "output 1 must be a C-contiguous, writable array"),
        ((good, [[0.0]]), TypeError, "output 1 is a list, not a numpy array"),
    ]
    read_only = np.empty((1, 2, 16, 8), np.float32)
    read_only.flags.writeable = False
    cases.append(((good, read_only), ValueError,
                  "output 1 must be a C-contiguous, writable array"))
    for out, error, message in cases:
        with pytest.raises(error, match=message):
            module.two(q, k, v, out=out)


def test_released_results_are_reused(rng):
    """A result's buffer, once its array is gone, serves the next call;
    one still alive is never reused."""
    module = attn.compile(TWO_RESULTS, threads=2)
    q, k, v = (randn(rng, 1, 2, 16, 8) for _ in range(3))
    first = module.two(q, k, v)
    places = {address(first[0]), address(first[1])}
    want = (first[0].copy(), first[1].copy())
    del first
    second = module.two(q, k, v)
    assert {address(second[0]), address(second[1])} == places
    third = module.two(randn(rng, 1, 2, 16, 8), k, v)
    assert not {address(third[0]), address(third[1])} & places
    assert np.array_equal(second[0], want[0])
    assert np.array_equal(second[1], want[1])


def test_no_fresh_memory_in_a_steady_stream(rng):
    """16 MiB results: with out=, and with results released between calls,
    repeated calls fault in (almost) no pages; a fresh result would fault
    in 4096."""
    q = randn(rng, 1, 4, 16384, 64)
    k, v = randn(rng, 1, 4, 64, 64), randn(rng, 1, 4, 64, 64)
    out = np.empty_like(q)
    out.fill(0)
    attn.attention(q, k, v, out=out, threads=2)

    def faults(call):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(4):
            call()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    assert faults(lambda: attn.attention(q, k, v, out=out, threads=2)) < 1024
    result = attn.attention(q, k, v, threads=2)
    del result

    def released():
        attn.attention(q, k, v, threads=2)

    assert faults(released) < 1024
    # Results kept alive cannot be reused: past the buffers the pool held
    # (at most two here), each call faults its 4096 pages in.
    kept = []
    assert faults(lambda: kept.append(attn.attention(q, k, v, threads=2))) \
        > 7000


def test_aot_library_writes_into_out(aot_library, rng):
    module = attn.load_library(aot_library)
    q = randn(rng, 1, 4, 1, 16)
    out = np.empty((1, 4, 1, 16), np.float32)
    for lk in (5, 30, 61):
        k, v = randn(rng, 1, 2, lk, 16), randn(rng, 1, 2, lk, 16)
        assert module.main(q, k, v, out=out) is out
        assert_close(out, oracle.attention(q, k, v, causal=True))
        assert np.array_equal(out, module.main(q, k, v))
    with pytest.raises(ValueError, match="output 0 has shape"):
        module.main(q, k, v, out=np.empty((1, 4, 2, 16), np.float32))
