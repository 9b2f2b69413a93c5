"""Sizes compiled as run-time values (one compile for a decode loop),
AOT and strategy libraries loaded from Python, GPU chip options, and
array-like objects that have only .shape and .dtype."""

import numpy as np
import pytest

import attn
import oracle
from conftest import ATTN_AOT, assert_close, randn



def test_decode_loop_compiles_once(rng):
    """Lk grows every step; with dynamic=("Lk",) one compiled function
    serves every step, and each step matches float64."""
    attn.clear_cache()
    q = randn(rng, 1, 4, 1, 16)
    k_all, v_all = randn(rng, 1, 2, 40, 16), randn(rng, 1, 2, 40, 16)
    for lk in (1, 7, 8, 23, 40):
        k, v = k_all[:, :, :lk], v_all[:, :, :lk]
        o = attn.attention(q, k, v, causal=True, dynamic=("Lk",), threads=2)
        assert_close(o, oracle.attention(q, k, v, causal=True))
    info = attn.cache_info()
    assert (info.misses, info.hits, info.size) == (1, 4, 1)
    assert "tensor<1x2x?x16xf32>" in attn.ir(q, k, v, dynamic="Lk")


def test_dynamic_everything_with_mask(rng):
    attn.clear_cache()
    for b, lq, lk in ((1, 3, 5), (2, 9, 4), (3, 1, 17)):
        q, k, v = (randn(rng, b, 2, lq, 8), randn(rng, b, 1, lk, 8),
                   randn(rng, b, 1, lk, 8))
        mask = rng.random((1, 1, lq, lk)) < 0.6
        o = attn.attention(q, k, v, mask=mask, dynamic=True, threads=2)
        assert_close(o, oracle.attention(q, k, v, mask=mask))
    assert attn.cache_info().misses == 1


@pytest.mark.parametrize("dynamic", ["Lv", ("Lk", "D"), 3, ["B", None]])
def test_dynamic_names_checked(rng, dynamic):
    q = randn(rng, 1, 2, 4, 8)
    with pytest.raises(ValueError, match="'dynamic' must be True or a "
                       "collection of 'B', 'Lq', 'Lk'"):
        attn.ir(q, q, q, dynamic=dynamic)


class ShapeAndDtype:
    """Like jax.ShapeDtypeStruct: no .ndim, no data."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, np.dtype(dtype)


def test_ir_checks_target_and_threads():
    """ir() takes attention()'s target and threads (the IR is the same for
    all) but refuses values attention() would refuse."""
    q = np.empty((1, 2, 4, 8), np.float32)
    assert attn.ir(q, q, q, target="vulkan", threads=2) == attn.ir(q, q, q)
    with pytest.raises(ValueError, match="tpu"):
        attn.ir(q, q, q, target="tpu")
    with pytest.raises(ValueError):
        attn.ir(q, q, q, threads=-1)


def test_ir_and_explain_take_shape_dtype_objects():
    q = ShapeAndDtype((1, 4, 32, 16), np.float32)
    kv = ShapeAndDtype((1, 2, 48, 16), np.float32)
    mask = ShapeAndDtype((32, 48), np.bool_)
    text = attn.ir(q, kv, kv, causal=True, mask=mask)
    assert "tensor<1x4x32x16xf32>" in text and "tensor<1x1x32x48xi1>" in text
    assert any(c.chosen for c in attn.explain(q, kv, kv, causal=True))


def test_cuda_chip_checked_before_compiling():
    assert "sm_90" in attn.supported_gpu_chips()
    with pytest.raises(ValueError, match="'chip' must be one of .*got 'sm_70'"):
        attn.compile("func.func @f() { return }", target="cuda", chip="sm_70")
    with pytest.raises(ValueError, match="'chip' applies to a GPU target"):
        attn.compile("func.func @f() { return }", target="cpu", chip="sm_80")


def test_cuda_chip_reaches_the_kernels():
    """chip= selects the PTX target the kernels are compiled for (this
    machine has ptxas but no driver: the module compiles, and running it
    would need a GPU)."""
    text = attn.ir(np.empty((1, 2, 16, 8), np.float32),
                   np.empty((1, 2, 16, 8), np.float32),
                   np.empty((1, 2, 16, 8), np.float32))
    try:
        module = attn.compile(text, target="cuda", chip="sm_80")
    except attn.CompileError as error:
        pytest.fail(f"cuda compile failed: {error}")
    assert '#nvvm.target<chip = "sm_80"' in module.lowered_ir()


def test_load_library_runs_and_checks(aot_library, rng):
    module = attn.load_library(aot_library)
    assert module.entries == ["main"]
    q = randn(rng, 1, 4, 1, 16)
    for lk in (5, 30, 61):
        k, v = randn(rng, 1, 2, lk, 16), randn(rng, 1, 2, lk, 16)
        assert_close(module.main(q, k, v),
                     oracle.attention(q, k, v, causal=True))
    # K and V lengths that differ are refused before any compiled code runs.
    with pytest.raises(ValueError):
        module.main(q, randn(rng, 1, 2, 30, 16), randn(rng, 1, 2, 10, 16))


def test_load_library_refuses_truncated_and_foreign_files(aot_library,
                                                           tmp_path):
    truncated = tmp_path / "truncated.so"
    truncated.write_bytes(aot_library.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated"):
        attn.load_library(truncated)
    text = tmp_path / "text.so"
    text.write_text("not a library\n")
    with pytest.raises(ValueError):
        attn.load_library(text)
    with pytest.raises(ValueError):
        attn.load_library(tmp_path / "missing.so")


def test_strategy_library_from_python(rng):
    """A third-party strategy library (test/lib/ExampleStrategy) registers
    `decomposed` in this process; modules compiled with it match float64."""
    library = ATTN_AOT.parents[1] / "lib" / "AttnExampleStrategy.so"
    assert library.exists(), f"example strategy not built at {library}"
    attn.load_strategy_library(library)
    q, k, v = (randn(rng, 1, 2, 12, 8) for _ in range(3))
    text = attn.ir(q, k, v)
    report = attn.explain_source(text, strategy="decomposed")[0]
    assert report.chosen.parameters == '#attn.strategy<"decomposed">'
    module = attn.compile(text, strategy="decomposed", threads=2)
    assert_close(module.main(q, k, v), oracle.attention(q, k, v))
    with pytest.raises(ValueError, match="cannot load strategy library"):
        attn.load_strategy_library(library.parent / "missing.so")
