"""Error paths: CompileError carries the MLIR diagnostics, bad arguments
raise ValueError naming the argument (checked before any IR is built), and
a failed compile leaves nothing behind."""

import numpy as np
import pytest

import attn
from conftest import randn


@pytest.fixture
def arrays(rng):
    return (randn(rng, 1, 4, 6, 8), randn(rng, 1, 2, 9, 8),
            randn(rng, 1, 2, 9, 8))


def test_compile_error_carries_diagnostics():
    with pytest.raises(attn.CompileError) as error:
        attn.compile("func.func @main( {")
    assert "<source>:1:" in str(error.value) and "error:" in str(error.value)
    bad_heads = """
func.func @main(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32> {
  %init = tensor.empty() : tensor<1x3x4x8xf32>
  %o = attn.attention ins(%q, %k, %k : tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
                      outs(%init : tensor<1x3x4x8xf32>) -> tensor<1x3x4x8xf32>
  return %o : tensor<1x3x4x8xf32>
}"""
    with pytest.raises(attn.CompileError, match="must be a multiple of 'key' "
                                                "heads 2"):
        attn.compile(bad_heads)


def test_compile_error_from_the_builder_leaves_no_cache_entry(arrays):
    q, k, v = arrays
    attn.clear_cache()
    for _ in range(2):  # nothing cached: the second call fails the same way
        with pytest.raises(attn.CompileError,
                           match="unknown strategy 'nope'"):
            attn.attention(q, k, v, strategy="nope")
        assert attn.cache_info().size == 0
    with pytest.raises(attn.CompileError, match="cannot compute this op"):
        attn.neighborhood(q, q, q, 3, strategy="split_kv")
    assert attn.cache_info().size == 0
    attn.attention(q, k, v)  # and the next compile works
    assert attn.cache_info().size == 1


def test_compile_other_errors(tmp_path):
    with pytest.raises(ValueError, match="'target'"):
        attn.compile("func.func @f() { return }", target="tpu")
    with pytest.raises(FileNotFoundError):
        attn.compile(str(tmp_path / "missing.mlir"))
    with pytest.raises(TypeError, match="unknown pipeline option 'bogus'"):
        attn.compile("func.func @f() { return }", bogus=1)
    with pytest.raises(attn.CompileError, match="no public function"):
        attn.compile("module {}")


def _has_cuda_driver():
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


@pytest.mark.skipif(_has_cuda_driver(),
                    reason="a CUDA driver is present; this checks its absence")
def test_cuda_without_driver_is_an_error():
    # Compiling for CUDA needs only the toolkit (ptxas); running needs the
    # driver, and its absence is a Python error, not a crash.
    mod = attn.compile("""
func.func @main(%q: tensor<1x8x12x16xf32>, %k: tensor<1x2x12x16xf32>,
                %v: tensor<1x2x12x16xf32>) -> tensor<1x8x12x16xf32> {
  %init = tensor.empty() : tensor<1x8x12x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x12x16xf32>,
                          tensor<1x2x12x16xf32>, tensor<1x2x12x16xf32>)
                      outs(%init : tensor<1x8x12x16xf32>) -> tensor<1x8x12x16xf32>
  return %o : tensor<1x8x12x16xf32>
}""", target="cuda")
    q = np.zeros((1, 8, 12, 16), np.float32)
    kv = np.zeros((1, 2, 12, 16), np.float32)
    with pytest.raises(RuntimeError, match="cannot load the CUDA driver"):
        mod.main(q, kv, kv)


def test_entry_argument_errors(rng):
    mod = attn.compile("""
func.func @main(%a: tensor<2x3xf32>, %b: tensor<?x3xbf16>) -> tensor<2x3xf32> {
  return %a : tensor<2x3xf32>
}""")
    a = np.zeros((2, 3), np.float32)
    b = np.zeros((5, 3), np.uint16)
    mod.main(a, b)
    with pytest.raises(ValueError, match="input 0 has dtype float64"):
        mod.main(a.astype(np.float64), b)
    with pytest.raises(ValueError, match="bfloat16 travels as uint16"):
        mod.main(a, b.astype(np.float16))
    with pytest.raises(ValueError, match=r"input 0 has shape \(3, 2\)"):
        mod.main(a.T.copy(), b)
    with pytest.raises(ValueError, match="takes 2 arrays, got 1"):
        mod.main(a)
    with pytest.raises(KeyError, match="no entry @other"):
        mod["other"]
    with pytest.raises(AttributeError, match="no entry @other"):
        mod.other


def test_dynamic_sizes_checked_at_run_time(rng):
    mod = attn.compile("""
func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %l = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %init = tensor.empty(%l) : tensor<1x2x?x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
                      outs(%init : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}""")
    q, k = randn(rng, 1, 2, 4, 8), randn(rng, 1, 2, 6, 8)
    with pytest.raises(ValueError, match="lengths of 'key' and 'value'"):
        mod.main(q, k, randn(rng, 1, 2, 5, 8))


ATTENTION_CASES = [
    # (what to change, expected argument named in the message)
    (dict(q=lambda a: a[0]), "'q' must have the layout"),
    (dict(q=lambda a: a.astype(np.float64)), "'q' has dtype float64"),
    (dict(k=lambda a: a.astype(np.float16)), "'k' has dtype float16"),
    (dict(k=lambda a: a[:, :, :, :4]), "'k' head dimension 4"),
    (dict(k=lambda a: a[:, :1], v=lambda a: a[:, :1], q=lambda a: a[:, :3]),
     None),  # MQA with Hq = 3 is fine
    (dict(k=lambda a: np.concatenate([a, a[:, :1]], 1),
          v=lambda a: np.concatenate([a, a[:, :1]], 1)),
     "'q' heads 4 must be a multiple of 'k' heads 3"),
    (dict(v=lambda a: a[:, :1]), "'v' heads 1 must equal 'k' heads 2"),
    (dict(v=lambda a: a[:, :, :5]), "'v' positions"),
    (dict(k=lambda a: np.concatenate([a, a], 0)), "'k' batch size 2"),
    (dict(q=lambda a: a[:, :, :0]), "'q' has an empty dimension"),
]


@pytest.mark.parametrize("change,message", ATTENTION_CASES)
def test_attention_shape_and_dtype_errors(arrays, change, message):
    q, k, v = arrays
    q, k, v = (change.get(n, lambda a: a)(a)
               for n, a in zip("qkv", (q, k, v)))
    if message is None:
        attn.ir(q, k, v)
        return
    with pytest.raises(ValueError, match=message):
        attn.attention(q, k, v)


@pytest.mark.parametrize("kwargs,message", [
    (dict(mask=np.ones((1, 4, 6, 8), bool)), "'mask' has shape"),
    (dict(mask=np.ones((3, 1, 6, 9), bool)), "'mask' has shape"),
    (dict(mask=np.ones((6, 9), np.float32)), "'mask' has dtype float32"),
    (dict(mask=np.ones((1, 1, 1, 6, 9), bool)), "'mask' must have at most"),
    (dict(bias=np.ones((1, 2, 6, 9), np.float32)), "'bias' has shape"),
    (dict(bias=np.ones((6, 9), np.float64)), "'bias' has dtype float64"),
    (dict(bias=np.ones((6, 9), np.float32), score="elu1"), "'bias' cannot"),
    (dict(softcap=-1.0), "'softcap' must be positive"),
    (dict(softcap=3.0, score="relu"), "'softcap' cannot"),
    (dict(scale=float("nan")), "'scale' must be finite"),
    (dict(scale="big"), "'scale' must be a number"),
    (dict(window=(1, 2, 3)), "'window' must be"),
    (dict(window=(-1, None)), "'window' must be an int >= 0"),
    (dict(sinks=2), "'sinks' exempts keys from a window"),
    (dict(sinks=-1, window=2), "'sinks' must be an int >= 0"),
    (dict(score="sparsemax"), "'score' must be one of"),
    (dict(normalize=False), "'normalize' = False applies to kernel"),
    (dict(causal="yes"), "'causal' must be a bool"),
    (dict(strategy=("tiled", {"block-q": 4})), "'strategy' parameter names"),
    (dict(strategy=3), "'strategy' must be"),
    (dict(target="tpu"), "'target' must be one of"),
    (dict(threads=-1), "'threads' must be"),
])
def test_attention_argument_errors(arrays, kwargs, message):
    attn.clear_cache()
    with pytest.raises(ValueError, match=message):
        attn.attention(*arrays, **kwargs)
    assert attn.cache_info().misses == 0  # rejected before any IR


@pytest.mark.parametrize("shape,kwargs,message", [
    ((1, 2, 9, 8), dict(kernel=5, dilation=2), "'kernel' 5 \\* 'dilation' 2"),
    ((1, 2, 9, 8), dict(kernel=3, stride=4), "'stride' 4 on axis 0"),
    ((1, 2, 9, 8), dict(kernel=0), "'kernel' must be an int >= 1"),
    ((1, 2, 6, 6, 8), dict(kernel=(3, 3, 3)), "'kernel' must be an int or 2"),
    ((1, 2, 6, 6, 8), dict(kernel=3, causal=(True,)), "'causal' must be a "
                                                       "bool or 2 bools"),
    ((1, 2, 6, 6, 8), dict(kernel=3, dilation=(1, 0)), "'dilation' must be "
                                                       "an int >= 1"),
    ((1, 2, 2, 2, 2, 2, 8), dict(kernel=1), "'q' must have the layout"),
])
def test_neighborhood_argument_errors(rng, shape, kwargs, message):
    q = randn(rng, *shape)
    with pytest.raises(ValueError, match=message):
        attn.neighborhood(q, q, q, **kwargs)


def test_neighborhood_spatial_mismatch(rng):
    q, k = randn(rng, 1, 2, 6, 6, 8), randn(rng, 1, 2, 6, 5, 8)
    with pytest.raises(ValueError, match="'k' spatial shape"):
        attn.neighborhood(q, k, k, 3)
