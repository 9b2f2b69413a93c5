"""attn.attention_backward: the gradients of softmax attention against
float64, two ways: an analytic numpy gradient (oracle.attention_backward)
and central differences of the float64 forward (oracle.attention), which
also checks the analytic one. Small shapes that no tile divides, GQA, rows
with no allowed key, every optional operand and a differentiated
score_mod."""

import importlib
import os
import sys

import numpy as np
import pytest

import attn
import oracle
from conftest import assert_gradient_close, numeric_gradients, randn

SLOPES = np.array([0.5, -0.25, 0.125, 1.0], np.float32)
# Document ids of 220 positions: documents of 70, 3, 97 and 50 positions.
DOCUMENTS = np.repeat(np.arange(4, dtype=np.int32), [70, 3, 97, 50])


def _alibi_softcap(s, b, h, i, j):
    return 3.0 * np.tanh(s / 3.0) + SLOPES[h] * (j - i)


def _alibi_softcap_grad(s, b, h, i, j):
    return 1.0 - np.tanh(s / 3.0) ** 2


def _mask(b, hq, lq, lk):
    """A causal-free mask whose row 1 allows no key."""
    rng = np.random.default_rng(7)
    mask = rng.random((b, 1, lq, lk)) < 0.6
    mask[:, :, 1, :] = False
    return mask


# name: (B, Hq, Hkv, Lq, Lk, D, Dv, keyword arguments built from them)
CASES = {
    "causal_gqa": (1, 4, 2, 5, 7, 4, 3, lambda b, h, lq, lk: dict(
        causal=True)),
    "window_sinks": (1, 2, 1, 6, 6, 4, 4, lambda b, h, lq, lk: dict(
        window=(2, 0), sinks=1)),
    "mask_bias_softcap": (2, 2, 2, 4, 5, 3, 3, lambda b, h, lq, lk: dict(
        mask=_mask(b, h, lq, lk), softcap=2.0,
        bias=np.random.default_rng(3).standard_normal(
            (1, h, lq, lk)).astype(np.float32))),
    "head_broadcast_bias": (2, 4, 2, 3, 4, 4, 2, lambda b, h, lq, lk: dict(
        bias=np.random.default_rng(4).standard_normal(
            (b, 1, lq, lk)).astype(np.float32))),
    "score_mod": (1, 4, 1, 5, 6, 4, 4, lambda b, h, lq, lk: dict(
        causal=True, score_mod=_alibi_softcap)),
    "sink_logits_empty_rows": (1, 2, 1, 6, 4, 4, 3, lambda b, h, lq, lk: dict(
        causal=True, sink_logits=np.array([0.3, -1.2], np.float32))),
    "mask_mod_documents": (1, 2, 2, 6, 6, 4, 4, lambda b, h, lq, lk: dict(
        mask_mod=lambda b, h, i, j: (i // 3) == (j // 3), scale=0.7)),
}


def _inputs(rng, case):
    b, hq, hkv, lq, lk, d, dv, make = CASES[case]
    q = randn(rng, b, hq, lq, d)
    k = randn(rng, b, hkv, lk, d)
    v = randn(rng, b, hkv, lk, dv)
    dout = randn(rng, b, hq, lq, dv)
    return q, k, v, dout, make(b, hq, lq, lk)


def _oracle_kwargs(kwargs):
    kw = dict(kwargs)
    if kw.get("score_mod") is _alibi_softcap:
        kw["score_mod_grad"] = _alibi_softcap_grad
    return kw


def _numeric_gradients(q, k, v, dout, kwargs):
    """(dq, dk, dv, dbias, dsink) by central differences of the float64
    forward."""
    args = dict(q=q, k=k, v=v, **kwargs)
    grads = numeric_gradients(oracle.attention, dout, args, ("q", "k", "v"))
    for name in ("bias", "sink_logits"):
        grads += (numeric_gradients(oracle.attention, dout, args, [name])
                  if name in kwargs else [None])
    return grads


NAMES = ("dq", "dk", "dv", "dbias", "dsink")


@pytest.mark.parametrize("case", sorted(CASES))
def test_analytic_oracle_matches_central_differences(rng, case):
    """The float64 analytic gradient that the next test trusts."""
    q, k, v, dout, kwargs = _inputs(rng, case)
    analytic = oracle.attention_backward(q, k, v, dout,
                                         **_oracle_kwargs(kwargs))
    numeric = _numeric_gradients(q, k, v, dout, kwargs)
    for name, a, n in zip(NAMES, analytic, numeric):
        assert (a is None) == (n is None), name
        if a is not None:
            np.testing.assert_allclose(a, n, rtol=1e-5,
                                       atol=1e-6 * np.abs(n).max() + 1e-9,
                                       err_msg=name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_matches_float64(rng, case):
    q, k, v, dout, kwargs = _inputs(rng, case)
    out, lse = attn.attention(q, k, v, return_lse=True, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, lse, **kwargs)
    want = oracle.attention_backward(q, k, v, dout, **_oracle_kwargs(kwargs))
    numeric = _numeric_gradients(q, k, v, dout, kwargs)
    expected = [w for w in want if w is not None]
    assert len(got) == len(expected)
    for name, g, w, n in zip([n for n, w in zip(NAMES, want) if w is not None],
                             got, expected,
                             [n for n in numeric if n is not None]):
        assert_gradient_close(g, w, f"{name} against the analytic gradient")
        assert_gradient_close(g, n, f"{name} against central differences")
    for g, x in zip(got[:3], (q, k, v)):
        assert g.dtype == x.dtype and g.shape == x.shape


def test_rows_without_keys_contribute_nothing(rng):
    """Every row masked: zero gradients (the LSE is -inf there)."""
    q, k, v, dout, _ = _inputs(rng, "causal_gqa")
    mask = np.zeros((1, 1, q.shape[2], k.shape[2]), bool)
    out, lse = attn.attention(q, k, v, mask=mask, return_lse=True)
    assert np.all(np.isneginf(lse))
    dq, dk, dv = attn.attention_backward(q, k, v, out, dout, lse, mask=mask)
    for g in (dq, dk, dv):
        assert np.all(g == 0)


def test_half_precision(rng):
    """f16 operands: gradients in f16, math in f32."""
    q, k, v, dout, kwargs = _inputs(rng, "causal_gqa")
    q, k, v, dout = (x.astype(np.float16) for x in (q, k, v, dout))
    out, lse = attn.attention(q, k, v, return_lse=True, **kwargs)
    got = attn.attention_backward(q, k, v, out, dout, lse, **kwargs)
    want = oracle.attention_backward(q, k, v, dout, **kwargs)
    for name, g, w in zip(NAMES, got, want):
        assert g.dtype == np.float16
        scale = np.abs(w).max()
        assert np.abs(g.astype(np.float64) - w).max() <= 2e-2 * scale, name


def test_argument_errors(rng):
    q, k, v, dout, _ = _inputs(rng, "causal_gqa")
    out, lse = attn.attention(q, k, v, return_lse=True)
    with pytest.raises(ValueError, match="'lse' must be float32 of shape"):
        attn.attention_backward(q, k, v, out, dout, lse.astype(np.float64))
    with pytest.raises(ValueError, match="'grad_out' must be float32 of shape"):
        attn.attention_backward(q, k, v, out, dout[..., :2], lse)
    with pytest.raises(ValueError, match="'out' must be"):
        attn.attention_backward(q, k, v, out[:, :2], dout, lse)


def test_score_mod_without_derivative_is_an_error():
    """An op that reads the score and has no derivative rule is a compile
    error naming it."""
    t = "tensor<1x2x4x8xf32>"
    text = f"""
func.func @main(%q: {t}, %lse: tensor<1x2x4xf32>) -> {t} {{
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : {t}, {t}, {t}, {t}, {t}, tensor<1x2x4xf32>)
      outs(%q, %q, %q : {t}, {t}, {t})
    score_mod {{
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %f = math.floor %s : f32
      attn.yield %f : f32
    }}
      -> {t}, {t}, {t}
  return %g#0 : {t}
}}
"""
    with pytest.raises(attn.CompileError,
                       match="cannot differentiate 'score_mod': 'math.floor'"):
        attn.compile(text)


@pytest.mark.parametrize("score", ["softmax", "elu1"])
def test_training_example(score):
    """examples/training: one attention layer (softmax, or causal linear
    attention) trained with the backward; its loss falls to less than
    half."""
    sys.path.insert(0, os.path.abspath(os.path.join(
        os.path.dirname(__file__), "..", "..", "examples", "training")))
    losses = importlib.import_module("train_attention").run(score)
    assert np.all(np.isfinite(losses))


@pytest.mark.parametrize("case", ["causal_gqa", "mask_bias_softcap",
                                  "sink_logits_empty_rows"])
def test_dynamic_sizes(rng, case):
    """B, Lq and Lk compiled as run-time sizes: the same gradients, and
    one compiled function serves two lengths."""
    q, k, v, dout, kwargs = _inputs(rng, case)
    out, lse = attn.attention(q, k, v, return_lse=True, **kwargs)
    static = attn.attention_backward(q, k, v, out, dout, lse, **kwargs)
    dynamic = attn.attention_backward(q, k, v, out, dout, lse, dynamic=True,
                                      **kwargs)
    for s, d in zip(static, dynamic):
        assert_gradient_close(d, s.astype(np.float64), "dynamic sizes")
    if "mask" in kwargs or "bias" in kwargs:
        return
    # Fewer keys through the same compiled function.
    k2, v2 = k[:, :, :-1].copy(), v[:, :, :-1].copy()
    out2, lse2 = attn.attention(q, k2, v2, return_lse=True, **kwargs)
    before = attn.cache_info().misses
    got = attn.attention_backward(q, k2, v2, out2, dout, lse2, dynamic=True,
                                  **kwargs)
    assert attn.cache_info().misses == before
    want = oracle.attention_backward(q, k2, v2, dout, **kwargs)
    for g, w in zip(got, [w for w in want if w is not None]):
        assert_gradient_close(g, w, "gradient with a shorter Lk")


# The tiled CPU kernel on shapes that span several key tiles and micro-tiles
# with tails: (B, Hq, Hkv, Lq, Lk, D, Dv, keyword arguments).
TILED_CASES = {
    "dense": (2, 2, 2, 37, 45, 16, 16, dict()),
    "causal_gqa_odd_dims": (1, 4, 2, 70, 133, 20, 24, dict(causal=True)),
    "causal_more_queries": (1, 2, 1, 90, 67, 16, 8,
                            dict(causal=True, scale=0.3)),
    "window_sinks": (1, 2, 1, 150, 150, 32, 16,
                     dict(causal=True, window=(40, 0), sinks=3)),
    "two_sided_window_sinks": (1, 3, 3, 81, 97, 8, 8,
                               dict(window=(20, 9), sinks=2)),
    "softcap": (1, 2, 2, 66, 66, 16, 32, dict(causal=True, softcap=1.5)),
    # One KV head: the group's six query heads split among tasks, whose dK
    # and dV partials are summed after them.
    "multi_query": (1, 6, 1, 50, 50, 16, 16, dict(causal=True)),
    # A per-head mask with a row that allows no key, over a causal band.
    "mask": (2, 2, 1, 45, 70, 16, 8, dict(
        causal=True, mask=_mask(2, 2, 45, 70).repeat(2, axis=1))),
    "mask_mod_documents": (1, 2, 2, 77, 77, 16, 16, dict(
        causal=True, mask_mod=lambda b, h, i, j: (i // 20) == (j // 20))),
    # Documents long enough that the mod's tile classes leave whole tiles
    # (micro-tiles on the CPU, row or key blocks on the GPU) empty, which
    # are skipped, and others full, which need no per-key test: by
    # position, and by a table of document ids (classified from its
    # per-block minimum and maximum).
    "mask_mod_long_documents": (1, 2, 1, 200, 200, 16, 16, dict(
        causal=True, mask_mod=lambda b, h, i, j: (i // 64) == (j // 64))),
    # Documents longer than the GPU kernel's blocks of 128 rows (or keys),
    # so that some of its tiles are full too.
    "mask_mod_documents_of_160": (1, 2, 1, 330, 330, 16, 16, dict(
        causal=True, mask_mod=lambda b, h, i, j: (i // 160) == (j // 160))),
    "mask_mod_document_table": (1, 2, 2, 220, 220, 16, 8, dict(
        mask_mod=lambda b, h, i, j: DOCUMENTS[i] == DOCUMENTS[j])),
    # dBias where whole tiles are skipped (causal, and documents the
    # mod's classes leave empty): the skipped pairs' dBias is 0. Straight
    # into its init, and summed over the heads it broadcasts.
    "bias_causal_documents": (1, 2, 1, 200, 200, 16, 16, dict(
        causal=True, mask_mod=lambda b, h, i, j: (i // 64) == (j // 64),
        bias=np.random.default_rng(8).standard_normal(
            (1, 2, 200, 200)).astype(np.float32))),
    "head_broadcast_bias_causal": (1, 2, 2, 170, 170, 16, 16, dict(
        causal=True, bias=np.random.default_rng(9).standard_normal(
            (1, 1, 170, 170)).astype(np.float32))),
    # A table (SLOPES[h]) and the positions, on vectors of keys.
    "score_mod": (1, 4, 2, 60, 75, 16, 16, dict(
        causal=True, score_mod=_alibi_softcap)),
    # dBias straight into its init, then summed over the heads it
    # broadcasts, with softcap.
    "bias": (1, 2, 2, 33, 70, 16, 16, dict(
        causal=True, bias=np.random.default_rng(5).standard_normal(
            (1, 2, 33, 70)).astype(np.float32))),
    "head_broadcast_bias_softcap": (2, 4, 2, 30, 41, 16, 16, dict(
        softcap=2.0, bias=np.random.default_rng(6).standard_normal(
            (2, 1, 30, 41)).astype(np.float32))),
    "sink_logits": (2, 4, 2, 40, 40, 8, 8, dict(
        window=(10, 0), sinks=2,
        sink_logits=np.array([0.3, -1.2, 2.0, 0.0], np.float32))),
    # More (batch, row) pairs than the GPU's dSink block has threads, and
    # not a multiple of them; the first rows see no key.
    "sink_logits_many_rows": (3, 2, 1, 131, 110, 8, 8, dict(
        causal=True, sink_logits=np.array([0.7, -0.4], np.float32))),
}


VULKAN = pytest.param("vulkan", marks=pytest.mark.skipif(
    not attn.vulkan_available(), reason="no Vulkan device"))


@pytest.mark.parametrize("target", ["cpu", VULKAN])
@pytest.mark.parametrize("case", sorted(TILED_CASES))
def test_tiled_backward_matches_float64(rng, case, target):
    """The flash backward (the CPU kernel, or the GPU kernel on the Vulkan
    device) against the float64 analytic gradient and the reference
    strategy; two runs agree bit for bit."""
    b, hq, hkv, lq, lk, d, dv, kwargs = TILED_CASES[case]
    q = randn(rng, b, hq, lq, d)
    k = randn(rng, b, hkv, lk, d)
    v = randn(rng, b, hkv, lk, dv)
    dout = randn(rng, b, hq, lq, dv)
    out, lse = attn.attention(q, k, v, return_lse=True, **kwargs)
    tiled = attn.attention_backward(q, k, v, out, dout, lse, strategy="tiled",
                                    target=target, **kwargs)
    again = attn.attention_backward(q, k, v, out, dout, lse, strategy="tiled",
                                    target=target, **kwargs)
    reference = attn.attention_backward(q, k, v, out, dout, lse,
                                        strategy="reference", **kwargs)
    want = oracle.attention_backward(q, k, v, dout, **_oracle_kwargs(kwargs))
    names = [n for n, w in zip(NAMES, want) if w is not None]
    want = [w for w in want if w is not None]
    assert len(tiled) == len(want)
    for name, t, a, r, w in zip(names, tiled, again, reference, want):
        assert_gradient_close(t, w, f"tiled {name}")
        assert_gradient_close(t, r.astype(np.float64), f"tiled {name} "
                               "against the reference strategy")
        assert np.array_equal(t, a), f"tiled {name} differs between runs"


@pytest.mark.parametrize("target", ["cpu", VULKAN])
def test_tiled_backward_rows_without_keys(rng, target):
    """Causal with fewer keys than queries: the first rows see no key and
    get zero dQ; on the CPU with the threads' tasks over heads."""
    q, k, v = randn(rng, 1, 2, 40, 16), randn(rng, 1, 2, 9, 16), \
        randn(rng, 1, 2, 9, 16)
    dout = randn(rng, 1, 2, 40, 16)
    out, lse = attn.attention(q, k, v, causal=True, return_lse=True)
    assert np.all(np.isneginf(lse[:, :, :31]))
    dq, dk, dv = attn.attention_backward(q, k, v, out, dout, lse, causal=True,
                                         strategy="tiled", threads=2,
                                         target=target)
    assert np.all(dq[:, :, :31] == 0)
    for name, g, w in zip(NAMES, (dq, dk, dv),
                          oracle.attention_backward(q, k, v, dout,
                                                    causal=True)):
        assert_gradient_close(g, w, name)


@pytest.mark.parametrize("dtype,target", [
    ("float16", "cpu"), ("bfloat16", "cpu"),
    pytest.param("float16", "vulkan", marks=VULKAN.marks),
    pytest.param("bfloat16", "vulkan", marks=VULKAN.marks)])
def test_tiled_backward_half_precision(rng, dtype, target):
    """f16 and bf16 (a uint16 view of the bits) through the flash backward
    (also on the Vulkan device): math in f32, gradients rounded once,
    within 2e-2 of the
    float64 gradient of the rounded inputs; MQA, so that the dK/dV
    partials of the head split are rounded too, and an f32 bias broadcast
    over the heads."""
    q32, k32, v32 = randn(rng, 1, 4, 45, 16), randn(rng, 1, 1, 60, 16), \
        randn(rng, 1, 1, 60, 16)
    d32 = randn(rng, 1, 4, 45, 16)
    if dtype == "float16":
        to, back = (lambda x: x.astype(np.float16)), \
            (lambda x: x.astype(np.float64))
    else:
        to, back = oracle.to_bf16, \
            (lambda x: oracle.from_bf16(x).astype(np.float64))
    q, k, v, dout = (to(x) for x in (q32, k32, v32, d32))
    # An f32 bias: a bf16 bias read past Lk is a masked load of bf16 lanes,
    # which LLVM legalizes through __truncsfbf2 on CPUs without
    # AVX512-BF16, and the JIT has no such symbol (the forward fails too).
    bias = randn(rng, 1, 1, 45, 60)
    out, lse = attn.attention(q, k, v, causal=True, bias=bias,
                              return_lse=True)
    got = attn.attention_backward(q, k, v, out, dout, lse, causal=True,
                                  bias=bias, strategy="tiled", target=target)
    want = oracle.attention_backward(
        *(back(x).astype(np.float32) for x in (q, k, v, dout)), causal=True,
        bias=bias)
    assert len(got) == 4
    for name, g, w in zip(NAMES, got, want):
        # dBias has the bias's type.
        dtype = bias.dtype if name == "dbias" else q.dtype
        assert g.dtype == dtype and g.shape == w.shape, name
        err = np.abs((back(g) if dtype == q.dtype else g) - w).max()
        assert err <= 2e-2 * np.abs(w).max(), (name, err)
