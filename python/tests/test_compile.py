"""attn.compile() on MLIR text and files, entries, zero-copy arrays, the
builder's cache, threads (libomp from a Python host), and explain()."""

import ctypes
import os

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

SOURCE = """
func.func @main(%q: tensor<1x2x6x8xf32>, %k: tensor<1x2x10x8xf32>, %v: tensor<1x2x10x8xf32>) -> tensor<1x2x6x8xf32> {
  %init = tensor.empty() : tensor<1x2x6x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x6x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>)
                      outs(%init : tensor<1x2x6x8xf32>) {scale = 0.125 : f32, causal} -> tensor<1x2x6x8xf32>
  return %o : tensor<1x2x6x8xf32>
}

func.func @dynamic(%q: tensor<?x2x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x2x?x8xf32>
  %l = tensor.dim %q, %c2 : tensor<?x2x?x8xf32>
  %init = tensor.empty(%b, %l) : tensor<?x2x?x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>)
                      outs(%init : tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
"""


@pytest.fixture(scope="module")
def module():
    return attn.compile(SOURCE, threads=2)


def inputs(rng, lq=6, lk=10):
    return (randn(rng, 1, 2, lq, 8), randn(rng, 1, 2, lk, 8),
            randn(rng, 1, 2, lk, 8))


def test_compile_text_entries(module, rng):
    q, k, v = inputs(rng)
    assert module.entries == ["main", "dynamic"]
    want = oracle.attention(q, k, v, scale=0.125, causal=True)
    assert_close(module.main(q, k, v), want)
    assert_close(module["main"](q, k, v), want)
    assert "main" in module and "llvm.func @main" in module.lowered_ir()


def test_dynamic_entry_several_shapes(module, rng):
    for lq, lk in [(3, 5), (9, 4)]:
        q, k, v = inputs(rng, lq, lk)
        assert_close(module.dynamic(q, k, v), oracle.attention(q, k, v))


def test_compile_path(tmp_path, rng):
    path = tmp_path / "model.mlir"
    path.write_text(SOURCE)
    q, k, v = inputs(rng)
    want = oracle.attention(q, k, v, scale=0.125, causal=True)
    for source in (path, str(path)):
        assert_close(attn.compile(source).main(q, k, v), want)


def test_forced_and_override_strategy(rng):
    q, k, v = inputs(rng)
    want = oracle.attention(q, k, v, scale=0.125, causal=True)
    assert_close(attn.compile(SOURCE, strategy="reference").main(q, k, v),
                 want)
    mod = attn.compile(SOURCE, override_strategy="tiled", vector_width=256,
                       opt_level=2)
    assert_close(mod.main(q, k, v), want)


def test_no_copies(module, rng):
    q, k, v = inputs(rng)
    out = module.main(q, k, v)
    # The result owns the compiled code's buffer through a capsule.
    assert not out.flags.owndata and type(out.base).__name__ == "PyCapsule"
    assert out.flags.c_contiguous and out.flags.writeable
    # Non-contiguous inputs are copied once into C order; same numbers.
    qt = np.ascontiguousarray(q.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    assert not qt.flags.c_contiguous
    np.testing.assert_array_equal(module.main(qt, k, v), out)


def test_inputs_are_never_written(rng):
    mod = attn.compile("""
func.func @fill(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant 7.0 : f32
  %r = linalg.fill ins(%c : f32) outs(%a : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @identity(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}""")
    a = np.arange(4, dtype=np.float32)
    a.flags.writeable = False
    np.testing.assert_array_equal(mod.fill(a), np.full(4, 7, np.float32))
    np.testing.assert_array_equal(a, np.arange(4))
    same = mod.identity(a)
    np.testing.assert_array_equal(same, a)
    assert same.ctypes.data != a.ctypes.data


def test_builder_cache(rng):
    attn.clear_cache()
    q, k, v = inputs(rng)
    first = attn.attention(q, k, v, causal=True)
    for _ in range(3):
        np.testing.assert_array_equal(attn.attention(q, k, v, causal=True),
                                      first)
    info = attn.cache_info()
    assert (info.misses, info.hits, info.size) == (1, 3, 1)
    threads = len(os.listdir("/proc/self/task"))
    attn.attention(q, k, v, causal=False)          # another signature
    attn.attention(q[:, :, :3], k, v, causal=True)  # another shape
    assert attn.cache_info().size == 3
    # Cached modules keep no compiler worker threads alive.
    assert len(os.listdir("/proc/self/task")) == threads


def test_threads_and_libomp_from_python(rng):
    # Python loaded the extension (and libomp) with RTLD_LOCAL; the facade
    # makes libomp global so that the JIT finds __kmpc_fork_call.
    q, k, v = inputs(rng, lq=64, lk=64)
    one = attn.attention(q, k, v, threads=1)
    two = attn.attention(q, k, v, threads=2)
    assert hasattr(ctypes.CDLL(None), "__kmpc_fork_call")
    assert_close(one, oracle.attention(q, k, v))
    np.testing.assert_allclose(one, two, rtol=1e-6, atol=1e-6)
    assert attn.compile(SOURCE, threads=2).threads == 2
    attn.set_num_threads(1)
    try:
        assert_close(attn.attention(q, k, v), oracle.attention(q, k, v))
    finally:
        attn.set_num_threads(0)


def test_explain_data(rng):
    q, k, v = (randn(rng, 1, 4, 1, 16), randn(rng, 1, 2, 256, 16),
               randn(rng, 1, 2, 256, 16))
    candidates = attn.explain(q, k, v, causal=True)
    names = [c.strategy for c in candidates]
    assert {"reference", "tiled", "split_kv"} <= set(names)
    assert sum(c.chosen for c in candidates) == 1
    best = candidates[0]
    assert best.chosen and best.applicable and best.reason == ""
    assert best.seconds > 0 and best.flops > 0 and best.bytes > 0
    assert best.parallelism >= 1 and best.extra_bytes >= 0
    assert best.parameters.startswith(f'#attn.strategy<"{best.strategy}"')
    applicable = [c for c in candidates if c.applicable]
    assert [c.seconds for c in applicable] == sorted(c.seconds
                                                     for c in applicable)
    forced = attn.explain(q, k, v, causal=True, strategy="reference")
    assert [c.strategy for c in forced if c.chosen] == ["reference"]
    rejected = [c for c in attn.explain(q, k, v, score="elu1")
                if not c.applicable]
    assert all(c.reason for c in rejected)


def test_explain_source():
    reports = attn.explain_source(SOURCE, threads=2)
    assert [r.op for r in reports] == ["attn.attention"] * 2
    assert reports[0].location.startswith("<source>:")
    assert reports[0].chosen is not None and reports[0].written == ""
    forced = attn.explain_source(SOURCE, strategy="reference")
    assert all(r.chosen.strategy == "reference" for r in forced)
