"""attn.attention_backward with kernel scores (elu1, relu, taylor2,
identity, sigmoid; normalized or not) and softplus, whose backwards form
each row's normalizer again: the chunked `linear` backward on the CPU, the
CPU flash (`tiled`) backward of softplus, the `reference` strategy and the
GPU kernel (on vulkan), against an analytic float64 gradient
(oracle.kernel_attention_backward) and central differences of the float64
forward (oracle.attention), which also check the analytic one. Lengths that
no chunk divides, GQA, more queries than keys (rows without keys) and more
keys than queries."""

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_gradient_close, numeric_gradients, randn


def _positive(rng, *shape):
    return np.abs(randn(rng, *shape)) + np.float32(0.1)


# name: (B, Hq, Hkv, Lq, Lk, D, Dv, keyword arguments, positive q and k)
LINEAR_CASES = {
    "elu1_causal_gqa": (1, 4, 2, 13, 13, 4, 3,
                        dict(score="elu1", causal=True), False),
    "relu_dense": (2, 2, 1, 7, 9, 5, 4, dict(score="relu"), False),
    "taylor2_causal_more_keys": (1, 2, 2, 6, 11, 4, 4,
                                 dict(score="taylor2", causal=True), False),
    "identity_unnormalized_more_queries": (
        1, 2, 1, 9, 5, 4, 3,
        dict(score="identity", causal=True, normalize=False), False),
    "elu1_unnormalized_mqa": (1, 4, 1, 10, 7, 8, 8,
                              dict(score="elu1", normalize=False), False),
    "taylor2_unnormalized": (1, 1, 1, 12, 12, 3, 5,
                             dict(score="taylor2", causal=True,
                                  normalize=False, scale=0.4), False),
    "identity_normalized_positive": (1, 2, 2, 8, 8, 4, 4,
                                     dict(score="identity", causal=True),
                                     True),
}

# What only the reference computes: masks, bias, softcap, windows,
# score_mod, sigmoid, softplus.
REFERENCE_CASES = {
    # The first three rows see no key.
    "softplus_causal_gqa_more_queries": (
        1, 4, 2, 9, 6, 4, 3,
        lambda b, h, lq, lk: dict(score="softplus", causal=True)),
    "softplus_mask_bias_softcap_score_mod": (
        2, 2, 1, 5, 7, 3, 4,
        lambda b, h, lq, lk: dict(
            score="softplus", softcap=3.0,
            mask=np.random.default_rng(5).random((b, 1, lq, lk)) < 0.7,
            bias=np.random.default_rng(11).standard_normal(
                (b, h, lq, lk)).astype(np.float32),
            score_mod=lambda s, b, h, i, j: s + 0.25 * (j - i))),
    # Every score far below 0: softplus(s) = e^s underflows f32 unless the
    # weights are taken relative to the row's maximum.
    "softplus_far_below_zero_window_sinks": (
        1, 2, 2, 8, 8, 4, 4,
        lambda b, h, lq, lk: dict(
            score="softplus", window=(2, 0), sinks=1,
            bias=np.full((1, 1, lq, lk), -120.0, np.float32))),
    "sigmoid_mask_bias_softcap": (
        2, 2, 2, 4, 5, 3, 3,
        lambda b, h, lq, lk: dict(
            score="sigmoid", softcap=2.0,
            mask=np.random.default_rng(7).random((b, 1, lq, lk)) < 0.6,
            bias=np.random.default_rng(3).standard_normal(
                (1, h, lq, lk)).astype(np.float32))),
    "taylor2_window_score_mod": (
        1, 2, 1, 6, 6, 4, 4,
        lambda b, h, lq, lk: dict(
            score="taylor2", window=(2, 1),
            score_mod=lambda s, b, h, i, j: s * 0.5 + 0.1 * (j - i))),
    "relu_mask_mod_unnormalized": (
        1, 2, 2, 6, 6, 4, 4,
        lambda b, h, lq, lk: dict(
            score="relu", normalize=False,
            mask_mod=lambda b, h, i, j: (i // 3) == (j // 3))),
}

_MOD_GRADS = {"taylor2_window_score_mod": lambda s, b, h, i, j: 0.5 +
              0.0 * s,
              "softplus_mask_bias_softcap_score_mod":
              lambda s, b, h, i, j: 1.0 + 0.0 * s}


def _inputs(rng, shape, positive):
    b, hq, hkv, lq, lk, d, dv = shape
    make = _positive if positive else randn
    q = make(rng, b, hq, lq, d)
    k = make(rng, b, hkv, lk, d)
    v = randn(rng, b, hkv, lk, dv)
    dout = randn(rng, b, hq, lq, dv)
    return q, k, v, dout


def _numeric(q, k, v, dout, kwargs, names=("q", "k", "v")):
    return numeric_gradients(oracle.attention, dout,
                             dict(q=q, k=k, v=v, **kwargs), names)


def _oracle_kwargs(case, kwargs):
    kw = dict(kwargs)
    if case in _MOD_GRADS:
        kw["score_mod_grad"] = _MOD_GRADS[case]
    return kw


@pytest.mark.parametrize("case", sorted(LINEAR_CASES) + sorted(
    REFERENCE_CASES))
def test_analytic_oracle_matches_central_differences(rng, case):
    """The float64 analytic gradient that the other tests trust."""
    if case in LINEAR_CASES:
        *shape, kwargs, positive = LINEAR_CASES[case]
    else:
        *shape, make = REFERENCE_CASES[case]
        kwargs, positive = make(shape[0], shape[1], shape[3], shape[4]), False
    q, k, v, dout = _inputs(rng, shape, positive)
    analytic = oracle.kernel_attention_backward(
        q, k, v, dout, **_oracle_kwargs(case, kwargs))
    names = ("q", "k", "v") + (("bias",) if "bias" in kwargs else ())
    numeric = _numeric(q, k, v, dout, kwargs, names)
    for name, a, n in zip(names, analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-5,
                                   atol=1e-6 * np.abs(n).max() + 1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("strategy", [
    "linear", ("linear", {"chunk": 4}), ("linear", {"chunk": 1}),
    "reference", None])
@pytest.mark.parametrize("case", sorted(LINEAR_CASES))
def test_linear_backward_matches_float64(rng, case, strategy):
    """The chunked backward (several chunk sizes, and whatever selection
    picks) and the reference against float64."""
    *shape, kwargs, positive = LINEAR_CASES[case]
    q, k, v, dout = _inputs(rng, shape, positive)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, strategy=strategy,
                                  **kwargs)
    want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
    numeric = _numeric(q, k, v, dout, kwargs)
    assert len(got) == 3
    for name, g, w, n, x in zip(("dq", "dk", "dv"), got, want, numeric,
                                (q, k, v)):
        assert g.dtype == x.dtype and g.shape == x.shape
        assert_gradient_close(g, w, f"{name} against the analytic gradient")
        assert_gradient_close(g, n, f"{name} against central differences")


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_reference_backward_matches_float64(rng, case):
    *shape, make = REFERENCE_CASES[case]
    kwargs = make(shape[0], shape[1], shape[3], shape[4])
    q, k, v, dout = _inputs(rng, shape, False)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, **kwargs)
    want = [w for w in oracle.kernel_attention_backward(
        q, k, v, dout, **_oracle_kwargs(case, kwargs)) if w is not None]
    assert len(got) == len(want)
    for name, g, w in zip(("dq", "dk", "dv", "dbias"), got, want):
        assert_gradient_close(g, w, name)


def test_longer_sequence_matches_reference(rng):
    """Many chunks, odd lengths, GQA: the chunked backward against the
    materialized reference and float64."""
    q = randn(rng, 1, 4, 203, 16)
    k = randn(rng, 1, 2, 203, 16)
    v = randn(rng, 1, 2, 203, 24)
    dout = randn(rng, 1, 4, 203, 24)
    for kwargs in (dict(score="elu1", causal=True),
                   dict(score="taylor2", causal=True, scale=0.2),
                   dict(score="relu")):
        out = attn.attention(q, k, v, **kwargs)
        linear = attn.attention_backward(q, k, v, out, dout,
                                         strategy="linear", **kwargs)
        reference = attn.attention_backward(q, k, v, out, dout,
                                            strategy="reference", **kwargs)
        want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
        for name, g, r, w in zip(("dq", "dk", "dv"), linear, reference,
                                 want):
            assert_gradient_close(g, w, f"{kwargs}: linear {name}")
            assert_gradient_close(r, w, f"{kwargs}: reference {name}")


VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))


def _case_inputs(rng, case):
    """(q, k, v, dout, kwargs) of a LINEAR_CASES or REFERENCE_CASES case."""
    if case in LINEAR_CASES:
        *shape, kwargs, positive = LINEAR_CASES[case]
    else:
        *shape, make = REFERENCE_CASES[case]
        kwargs, positive = make(shape[0], shape[1], shape[3], shape[4]), False
    return (*_inputs(rng, shape, positive), kwargs)


@pytest.mark.parametrize("case", sorted(LINEAR_CASES) + sorted(
    REFERENCE_CASES))
@pytest.mark.parametrize("target", [VULKAN])
def test_gpu_backward_matches_float64(rng, case, target):
    """On a GPU target the tiled strategy's GPU backward (the pairs weighed
    by w / Z, Z from a first launch), run on the Vulkan device: against
    float64, and two runs agree bit for bit."""
    q, k, v, dout, kwargs = _case_inputs(rng, case)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, target=target,
                                  strategy="tiled", **kwargs)
    again = attn.attention_backward(q, k, v, out, dout, target=target,
                                    strategy="tiled", **kwargs)
    want = [w for w in oracle.kernel_attention_backward(
        q, k, v, dout, **_oracle_kwargs(case, kwargs)) if w is not None]
    assert len(got) == len(want)
    for name, g, a, w in zip(("dq", "dk", "dv", "dbias"), got, again, want):
        assert_gradient_close(g, w, name)
        np.testing.assert_array_equal(g, a)


@pytest.mark.parametrize("strategy", [
    "linear", ("linear", {"chunk": 3}), ("linear", {"chunk": 1})])
@pytest.mark.parametrize("case", sorted(LINEAR_CASES))
@pytest.mark.parametrize("target", [VULKAN])
def test_gpu_linear_backward_matches_float64(rng, case, strategy, target):
    """The GPU linear backward (running states, causal queries weighing
    their `chunk` most recent keys directly), on the Vulkan device: against
    float64 and the CPU linear backward; two runs agree bit for bit."""
    *shape, kwargs, positive = LINEAR_CASES[case]
    q, k, v, dout = _inputs(rng, shape, positive)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, target=target,
                                  strategy=strategy, **kwargs)
    again = attn.attention_backward(q, k, v, out, dout, target=target,
                                    strategy=strategy, **kwargs)
    cpu = attn.attention_backward(q, k, v, out, dout, strategy="linear",
                                  **kwargs)
    want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
    assert len(got) == 3
    for name, g, a, c, w, x in zip(("dq", "dk", "dv"), got, again, cpu, want,
                                   (q, k, v)):
        assert g.dtype == x.dtype and g.shape == x.shape
        assert_gradient_close(g, w, f"{name} against the analytic gradient")
        assert_gradient_close(g, c.astype(np.float64),
                              f"{name} against the CPU linear backward")
        np.testing.assert_array_equal(g, a)


@pytest.mark.parametrize("kwargs", [
    dict(score="elu1", causal=True), dict(score="taylor2", causal=True),
    dict(score="relu", normalize=False)], ids=["elu1", "taylor2", "relu"])
@pytest.mark.parametrize("target", [VULKAN])
def test_gpu_linear_backward_longer(rng, kwargs, target):
    """Longer sequences on the GPU linear backward: most keys join the
    states (causal: all but the chunk of 8 direct keys), GQA, more queries
    than keys; against the float64 analytic gradient. (Lavapipe ends a
    shader's loops after 65,535 iterations, which bounds the lengths.)"""
    d = 5 if kwargs["score"] == "taylor2" else 12
    q, k, v = randn(rng, 2, 4, 90, d), randn(rng, 2, 2, 77, d), \
        randn(rng, 2, 2, 77, 10)
    dout = randn(rng, 2, 4, 90, 10)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, target=target,
                                  strategy=("linear", {"chunk": 8}),
                                  **kwargs)
    want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
    for name, g, w in zip(("dq", "dk", "dv"), got, want):
        assert_gradient_close(g, w, name)


# Softplus on the CPU flash backward (the `tiled` strategy, which forms each
# row's reference and normalizer in a first sweep over the key tiles): shapes
# that span several key tiles and micro-tiles with tails. (B, Hq, Hkv, Lq, Lk,
# D, Dv, keyword arguments built from B, Hq, Lq, Lk).
SOFTPLUS_TILED_CASES = {
    "causal_gqa_odd_dims": (1, 4, 2, 70, 133, 20, 24,
                            lambda b, h, lq, lk: dict(causal=True)),
    # The first 23 rows see no key.
    "causal_more_queries": (1, 2, 1, 90, 67, 16, 8,
                            lambda b, h, lq, lk: dict(causal=True,
                                                      scale=0.3)),
    "window_sinks_far_below_zero": (1, 2, 1, 150, 150, 16, 16,
                                    lambda b, h, lq, lk: dict(
                                        causal=True, window=(40, 0), sinks=3,
                                        bias=np.full((1, 1, lq, lk), -120.0,
                                                     np.float32))),
    # One KV head: the six query heads split among tasks.
    "multi_query_softcap": (1, 6, 1, 50, 50, 16, 16,
                            lambda b, h, lq, lk: dict(causal=True,
                                                      softcap=2.0)),
    "mask_bias_score_mod": (2, 2, 1, 45, 70, 16, 8, lambda b, h, lq, lk: dict(
        mask=np.random.default_rng(5).random((b, 1, lq, lk)) < 0.7,
        bias=np.random.default_rng(11).standard_normal(
            (b, h, lq, lk)).astype(np.float32),
        score_mod=lambda s, b, h, i, j: s + 0.25 * (j - i))),
    "mask_mod_documents": (1, 2, 2, 77, 77, 16, 16, lambda b, h, lq, lk: dict(
        causal=True, mask_mod=lambda b, h, i, j: (i // 20) == (j // 20))),
}


@pytest.mark.parametrize("case", sorted(SOFTPLUS_TILED_CASES))
def test_cpu_tiled_softplus_backward_matches_float64(rng, case):
    """The CPU flash backward of softplus against the float64 analytic
    gradient and the reference strategy; two runs agree bit for bit."""
    *shape, make = SOFTPLUS_TILED_CASES[case]
    kwargs = dict(score="softplus", **make(shape[0], shape[1], shape[3],
                                           shape[4]))
    q, k, v, dout = _inputs(rng, shape, False)
    out = attn.attention(q, k, v, **kwargs)
    tiled = attn.attention_backward(q, k, v, out, dout, strategy="tiled",
                                    threads=2, **kwargs)
    again = attn.attention_backward(q, k, v, out, dout, strategy="tiled",
                                    threads=2, **kwargs)
    reference = attn.attention_backward(q, k, v, out, dout,
                                        strategy="reference", **kwargs)
    oracle_kwargs = dict(kwargs)
    if "score_mod" in kwargs:
        oracle_kwargs["score_mod_grad"] = lambda s, b, h, i, j: 1.0 + 0.0 * s
    want = [w for w in oracle.kernel_attention_backward(
        q, k, v, dout, **oracle_kwargs) if w is not None]
    assert len(tiled) == len(want)
    for name, t, a, r, w in zip(("dq", "dk", "dv", "dbias"), tiled, again,
                                reference, want):
        assert_gradient_close(t, w, f"tiled {name}")
        assert_gradient_close(t, r.astype(np.float64),
                              f"tiled {name} against the reference strategy")
        assert np.array_equal(t, a), f"tiled {name} differs between runs"


def test_taylor2_states_on_the_heap(rng):
    """taylor2 at D = 64 has F = 2145 features: the backward's three F x Dv
    states exceed the stack scratch and live on the heap."""
    q = 0.3 * randn(rng, 1, 2, 37, 64)
    k = 0.3 * randn(rng, 1, 1, 37, 64)
    v = randn(rng, 1, 1, 37, 64)
    dout = randn(rng, 1, 2, 37, 64)
    kwargs = dict(score="taylor2", causal=True)
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, strategy="linear",
                                  **kwargs)
    want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
    for name, g, w in zip(("dq", "dk", "dv"), got, want):
        assert_gradient_close(g, w, name)


def test_rows_without_keys_contribute_nothing(rng):
    """Causal with more queries than keys: the first rows see no key; their
    grad_out must not reach any gradient."""
    q = randn(rng, 1, 2, 9, 4)
    k = randn(rng, 1, 1, 5, 4)
    v = randn(rng, 1, 1, 5, 3)
    dout = randn(rng, 1, 2, 9, 3)
    kwargs = dict(score="elu1", causal=True)
    out = attn.attention(q, k, v, **kwargs)
    base = attn.attention_backward(q, k, v, out, dout, strategy="linear",
                                   **kwargs)
    dout2 = dout.copy()
    dout2[:, :, :4] = 1e6
    changed = attn.attention_backward(q, k, v, out, dout2, strategy="linear",
                                      **kwargs)
    assert np.all(base[0][:, :, :4] == 0)
    for g, h in zip(base, changed):
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("strategy", ["linear", "reference"])
def test_dynamic_sizes(rng, strategy):
    """B, Lq and Lk compiled as run-time sizes: the same gradients, and one
    compiled function serves another length."""
    *shape, kwargs, _ = LINEAR_CASES["elu1_causal_gqa"]
    q, k, v, dout = _inputs(rng, shape, False)
    out = attn.attention(q, k, v, **kwargs)
    static = attn.attention_backward(q, k, v, out, dout, strategy=strategy,
                                     **kwargs)
    dynamic = attn.attention_backward(q, k, v, out, dout, dynamic=True,
                                      strategy=strategy, **kwargs)
    for s, d in zip(static, dynamic):
        assert_gradient_close(d, s.astype(np.float64), "dynamic sizes")
    q2, dout2 = q[:, :, :-3].copy(), dout[:, :, :-3].copy()
    out2 = attn.attention(q2, k, v, **kwargs)
    before = attn.cache_info().misses
    got = attn.attention_backward(q2, k, v, out2, dout2, dynamic=True,
                                  strategy=strategy, **kwargs)
    assert attn.cache_info().misses == before
    want = oracle.kernel_attention_backward(q2, k, v, dout2, **kwargs)
    for name, g, w in zip(("dq", "dk", "dv"), got, want):
        assert_gradient_close(g, w, f"{name} with a shorter Lq")


def test_half_precision(rng):
    """f16 operands: gradients in f16, math in f32."""
    *shape, kwargs, _ = LINEAR_CASES["elu1_causal_gqa"]
    q, k, v, dout = (x.astype(np.float16)
                     for x in _inputs(rng, shape, False))
    out = attn.attention(q, k, v, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, strategy="linear",
                                  **kwargs)
    want = oracle.kernel_attention_backward(q, k, v, dout, **kwargs)
    for name, g, w in zip(("dq", "dk", "dv"), got, want):
        assert g.dtype == np.float16
        assert np.abs(g.astype(np.float64) - w).max() <= 2e-2 * np.abs(
            w).max(), name


def test_argument_errors(rng):
    q, k, v, dout = _inputs(rng, (1, 2, 2, 4, 4, 4, 4), False)
    out, lse = attn.attention(q, k, v, return_lse=True)
    for score in ("elu1", "softplus"):
        with pytest.raises(ValueError,
                           match=f"'lse' must be None with the score "
                                 f"'{score}'"):
            attn.attention_backward(q, k, v, out, dout, lse, score=score)
    with pytest.raises(ValueError, match="'lse' .* is needed with score"):
        attn.attention_backward(q, k, v, out, dout)


def test_linear_declines_what_it_cannot_compute(rng):
    """A mask is not in the factorization, softplus has no feature form, and
    the CPU tiled backward differentiates softmax and softplus only: asking
    for them is an error that says why."""
    q, k, v, dout = _inputs(rng, (1, 2, 2, 4, 4, 4, 4), False)
    mask = np.ones((1, 1, 4, 4), bool)
    out = attn.attention(q, k, v, score="elu1", mask=mask)
    with pytest.raises(attn.CompileError, match="mask is not supported"):
        attn.attention_backward(q, k, v, out, dout, score="elu1", mask=mask,
                                strategy="linear")
    out = attn.attention(q, k, v, score="softplus")
    with pytest.raises(attn.CompileError, match="needs a kernel score"):
        attn.attention_backward(q, k, v, out, dout, score="softplus",
                                strategy="linear")
    out = attn.attention(q, k, v, score="elu1")
    with pytest.raises(attn.CompileError,
                       match="differentiates softmax and softplus"):
        attn.attention_backward(q, k, v, out, dout, score="elu1",
                                strategy="tiled")
