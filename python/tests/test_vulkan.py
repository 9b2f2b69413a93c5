"""target="vulkan": the same GPU kernels as CUDA, run on a Vulkan device
(Mesa's lavapipe on a machine without a GPU), against the float64 oracle."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_close, randn

pytestmark = pytest.mark.skipif(not attn.vulkan_available(),
                                reason="no Vulkan device")

SOURCE = """
func.func @main(%q: tensor<1x4x20x16xf32>, %k: tensor<1x2x33x16xf32>, %v: tensor<1x2x33x16xf32>) -> tensor<1x4x20x16xf32> {
  %init = tensor.empty() : tensor<1x4x20x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x20x16xf32>, tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32>)
                      outs(%init : tensor<1x4x20x16xf32>) {causal, window = #attn.window<left = 9, right = 0>, sinks = 2 : i64} -> tensor<1x4x20x16xf32>
  return %o : tensor<1x4x20x16xf32>
}
"""


@pytest.mark.parametrize("strategy", [None, "tiled", "split_kv"])
def test_vulkan_matches_float64(rng, strategy):
    module = attn.compile(SOURCE, target="vulkan", strategy=strategy)
    q, k, v = randn(rng, 1, 4, 20, 16), randn(rng, 1, 2, 33, 16), \
        randn(rng, 1, 2, 33, 16)
    want = oracle.attention(q, k, v, causal=True, window=(9, 0), sinks=2)
    assert_close(module.main(q, k, v), want)


def test_vulkan_f16(rng):
    source = SOURCE.replace("xf32", "xf16")
    module = attn.compile(source, target="vulkan")
    q = randn(rng, 1, 4, 20, 16).astype(np.float16)
    k = randn(rng, 1, 2, 33, 16).astype(np.float16)
    v = randn(rng, 1, 2, 33, 16).astype(np.float16)
    want = oracle.attention(q.astype(np.float64), k.astype(np.float64),
                            v.astype(np.float64), causal=True, window=(9, 0),
                            sinks=2)
    got = module.main(q, k, v)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float64), want, atol=2e-2 *
                               np.abs(want).max(), rtol=0)


def _with_target(source, target):
    return ("module attributes {attn.target = " + target + "} {" + source +
            "}\n")


def test_vulkan_module_shared_memory(rng):
    # A module's own shared_memory (below the device's) is what kernels are
    # planned and checked for, instead of being an error.
    source = _with_target(
        SOURCE, '#attn.target<kind = "gpu", shared_memory = 16384>')
    module = attn.compile(source, target="vulkan")
    q, k, v = randn(rng, 1, 4, 20, 16), randn(rng, 1, 2, 33, 16), \
        randn(rng, 1, 2, 33, 16)
    want = oracle.attention(q, k, v, causal=True, window=(9, 0), sinks=2)
    assert_close(module.main(q, k, v), want)


def test_vulkan_module_shared_memory_beyond_device():
    source = _with_target(
        SOURCE, '#attn.target<kind = "gpu", shared_memory = 1073741824>')
    with pytest.raises(attn.CompileError,
                       match="shared_memory = 1073741824 exceeds this Vulkan "
                             "device's maxComputeSharedMemorySize"):
        attn.compile(source, target="vulkan")


CHAIN = """
func.func @main(%q: tensor<1x4x20x16xf32>, %k: tensor<1x2x33x16xf32>, %v: tensor<1x2x33x16xf32>,
                %k2: tensor<1x4x20x16xf32>) -> tensor<1x4x20x16xf32> {
  %i0 = tensor.empty() : tensor<1x4x20x16xf32>
  %o1 = attn.attention ins(%q, %k, %v : tensor<1x4x20x16xf32>, tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32>)
                       outs(%i0 : tensor<1x4x20x16xf32>) {causal} -> tensor<1x4x20x16xf32>
  %i1 = tensor.empty() : tensor<1x4x20x16xf32>
  %o2 = attn.attention ins(%o1, %k2, %o1 : tensor<1x4x20x16xf32>, tensor<1x4x20x16xf32>, tensor<1x4x20x16xf32>)
                       outs(%i1 : tensor<1x4x20x16xf32>) -> tensor<1x4x20x16xf32>
  %two = arith.addf %o2, %o1 : tensor<1x4x20x16xf32>
  return %two : tensor<1x4x20x16xf32>
}
"""


@pytest.mark.parametrize("strategy", ["tiled", "split_kv"])
def test_vulkan_chained_ops(rng, strategy):
    # The first op's result feeds the second op's kernel on the device and
    # the host's addition after it (attn-gpu-device-buffers keeps it on the
    # device between the kernels and copies it back once).
    module = attn.compile(CHAIN, target="vulkan", strategy=strategy)
    q, k, v = randn(rng, 1, 4, 20, 16), randn(rng, 1, 2, 33, 16), \
        randn(rng, 1, 2, 33, 16)
    k2 = randn(rng, 1, 4, 20, 16)
    o1 = oracle.attention(q, k, v, causal=True)
    want = oracle.attention(o1, k2, o1) + o1
    assert_close(module.main(q, k, v, k2), want)
