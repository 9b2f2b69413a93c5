"""attn.neighborhood_backward and attn.neighborhood's return_lse: the
gradients of neighborhood attention in 1-D, 2-D and 3-D against float64,
two ways: an analytic numpy gradient (oracle.neighborhood_backward) and
central differences of the float64 forward, which also checks the analytic
one. Extents that no tile divides, dilation, causal axes, strides, GQA, a
differentiated relative positional bias and a mask_mod; on the CPU
(reference strategy) and on the Vulkan device (the GPU kernel)."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_gradient_close, randn

RPB = np.random.default_rng(11).standard_normal((2, 5, 5)).astype(np.float32)


def _rpb(s, b, h, qx, qy, kx, ky):
    # NATTEN's relative positional bias for a 3 x 3 kernel (offsets from -2
    # to 2 per axis), and a softcap-like tanh so that the derivative is
    # not 1.
    return 3.0 * np.tanh(s / 3.0) + RPB[h, kx - qx + 2, ky - qy + 2]


def _rpb_grad(s, b, h, qx, qy, kx, ky):
    return 1.0 - np.tanh(s / 3.0) ** 2


# name: (q shape, Hkv, Dv, keyword arguments)
CASES = {
    "1d_dilated": ((1, 2, 23, 8), 2, 8, dict(kernel=5, dilation=2)),
    "1d_causal_gqa": ((2, 4, 19, 8), 2, 4, dict(kernel=4, causal=True)),
    "2d_dilation_stride": ((1, 2, 9, 11, 8), 1, 8, dict(
        kernel=(3, 5), dilation=(2, 1), stride=(1, 2))),
    "2d_rpb": ((1, 2, 7, 8, 8), 2, 8, dict(
        kernel=3, score_mod=_rpb)),
    "2d_causal_axis_mask_mod": ((1, 2, 6, 7, 4), 2, 4, dict(
        kernel=3, causal=(True, False),
        mask_mod=lambda b, h, qx, qy, kx, ky: (kx + ky + h) % 3 != 0)),
    "3d": ((1, 2, 5, 4, 6, 4), 1, 4, dict(kernel=(3, 3, 5),
                                          dilation=(1, 1, 1))),
}


def _inputs(rng, case):
    shape, hkv, dv, kwargs = CASES[case]
    q = randn(rng, *shape)
    k = randn(rng, shape[0], hkv, *shape[2:])
    v = randn(rng, shape[0], hkv, *shape[2:-1], dv)
    dout = randn(rng, *shape[:-1], dv)
    return q, k, v, dout, kwargs


def _oracle_kwargs(kwargs):
    kw = dict(kwargs)
    if kw.get("score_mod") is _rpb:
        kw["score_mod_grad"] = _rpb_grad
    return kw


def test_analytic_oracle_matches_central_differences(rng):
    """The float64 analytic gradient against central differences of the
    float64 forward, on a small 2-D case with a positional bias."""
    q, k, v, dout, kwargs = _inputs(rng, "2d_rpb")
    q, k, v = q[:, :, :5, :5], k[:, :, :5, :5], v[:, :, :5, :5]
    dout = dout[:, :, :5, :5]
    want = oracle.neighborhood_backward(q, k, v, dout,
                                        **_oracle_kwargs(kwargs))
    args = dict(q=np.float64(q), k=np.float64(k), v=np.float64(v))
    for n, name in enumerate(("q", "k", "v")):
        x = args[name]
        numeric = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            for sign in (1, -1):
                call = dict(args)
                call[name] = x.copy()
                call[name][index] += sign * 1e-6
                numeric[index] += sign * float(
                    (oracle.neighborhood(**call, **kwargs) * dout).sum())
        numeric /= 2e-6
        np.testing.assert_allclose(want[n], numeric, atol=1e-6, rtol=1e-5)


VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_lse(rng, case, target):
    """return_lse: each query's log-sum-exp, [B, H, *spatial]."""
    q, k, v, _, kwargs = _inputs(rng, case)
    out, lse = attn.neighborhood(q, k, v, return_lse=True, target=target,
                                 **kwargs)
    want_out, want_lse = oracle.neighborhood(q, k, v, statistics=True,
                                             **kwargs)
    assert lse.shape == q.shape[:-1] and lse.dtype == np.float32
    assert_gradient_close(out, want_out, "out")
    assert_gradient_close(lse, want_lse, "lse")
    # Without return_lse another strategy may run (the neighborhood
    # strategy declines it); both match float64.
    assert_gradient_close(
        attn.neighborhood(q, k, v, target=target, **kwargs), want_out,
        "out without lse")
    # The flash kernels (CPU or GPU), mods included.
    out, lse = attn.neighborhood(q, k, v, return_lse=True, target=target,
                                 strategy="tiled", **kwargs)
    assert_gradient_close(out, want_out, "tiled out")
    assert_gradient_close(lse, want_lse, "tiled lse")


@pytest.mark.parametrize("target,strategy", [
    ("cpu", None), ("cpu", "reference"), ("cpu", "tiled"),
    pytest.param("vulkan", "tiled", marks=VULKAN.marks)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_matches_float64(rng, case, target, strategy):
    """dq, dk, dv against the float64 analytic gradient (the CPU kernel,
    the reference and the GPU kernel; the mods too, a relative positional
    bias read in bounds); on the Vulkan device two runs agree bit for
    bit."""
    q, k, v, dout, kwargs = _inputs(rng, case)
    out, lse = attn.neighborhood(q, k, v, return_lse=True, **kwargs)
    got = attn.neighborhood_backward(q, k, v, out, dout, lse, target=target,
                                     strategy=strategy, **kwargs)
    want = oracle.neighborhood_backward(q, k, v, dout,
                                        **_oracle_kwargs(kwargs))
    assert len(got) == 3
    for name, g, w in zip(("dq", "dk", "dv"), got, want):
        assert_gradient_close(g, w, name)
    if target == "vulkan":
        again = attn.neighborhood_backward(q, k, v, out, dout, lse,
                                           target=target, strategy=strategy,
                                           **kwargs)
        for g, a in zip(got, again):
            assert np.array_equal(g, a)


def test_argument_errors(rng):
    q, k, v, dout, kwargs = _inputs(rng, "1d_dilated")
    out, lse = attn.neighborhood(q, k, v, return_lse=True, **kwargs)
    with pytest.raises(ValueError, match="'lse' must be float32 of shape"):
        attn.neighborhood_backward(q, k, v, out, dout, lse[..., :-1],
                                   **kwargs)
    with pytest.raises(ValueError, match="'grad_out' must be float32"):
        attn.neighborhood_backward(q, k, v, out, dout[..., :-1], lse,
                                   **kwargs)
    with pytest.raises(ValueError, match="'return_lse' must be a bool"):
        attn.neighborhood(q, k, v, return_lse="yes", **kwargs)


def test_dynamic_batch_reuses_the_compiled_function(rng):
    """dynamic=True compiles the batch as a run-time size: a second batch
    size reuses the forward and the backward."""
    kwargs = dict(kernel=3, dilation=(1, 2))
    for batch in (1, 2):
        q, k, v, dout = (randn(rng, batch, 2, 7, 8, 8) for _ in range(4))
        out, lse = attn.neighborhood(q, k, v, return_lse=True, dynamic=True,
                                     **kwargs)
        before = attn.cache_info().misses
        got = attn.neighborhood_backward(q, k, v, out, dout, lse,
                                         dynamic=True, **kwargs)
        if batch == 2:
            assert attn.cache_info().misses == before
        for name, g, w in zip(("dq", "dk", "dv"), got,
                              oracle.neighborhood_backward(q, k, v, dout,
                                                           **kwargs)):
            assert_gradient_close(g, w, name)
