"""Float64 numpy attention, written from DESIGN.md: the oracle of these tests.

It shares no code with attn (nor with test/Integration): plain array math
over explicit allowed-key sets, in float64.
"""

import numpy as np


def band(lq, lk, causal=False, window=None, sinks=0):
    """[Lq, Lk] bool: causal and window rules, bottom-right aligned."""
    shifted = np.arange(lq)[:, None] + (lk - lq)
    j = np.arange(lk)[None, :]
    ok = np.ones((lq, lk), bool)
    if causal:
        ok &= j <= shifted
    if window is not None:
        left, right = window
        inside = np.ones((lq, lk), bool)
        if left is not None:
            inside &= j >= shifted - left
        if right is not None:
            inside &= j <= shifted + right
        ok &= inside | (j < sinks)
    return ok


def natten_axis(n, kernel, dilation=1, stride=1, causal=False):
    """[n, n] bool: NATTEN's neighborhood on one axis (query i, key j)."""
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    group = i % dilation
    qi, kj = i // dilation, j // dilation
    count = (n - group + dilation - 1) // dilation  # positions in the group
    first = (qi // stride) * stride
    if causal:
        leader = np.minimum(first + stride - 1, count - 1)
        ok = (kj <= qi) & (kj >= np.maximum(0, leader - kernel + 1))
    else:
        left = kernel // 2
        right = kernel // 2 - (1 - kernel % 2)
        leader = np.minimum(first + stride // 2, count - 1)
        center = np.minimum(np.maximum(leader, left), count - 1 - right)
        ok = (kj >= center - left) & (kj <= center + right)
    return ok & (j % dilation == group)


def neighborhood_allowed(spatial, kernel, dilation, stride, causal):
    """[N, N] bool over row-major positions: the product of the axes."""
    allowed = np.ones((1, 1), bool)
    for axis, n in enumerate(spatial):
        allowed = np.kron(allowed, natten_axis(n, kernel[axis],
                                               dilation[axis], stride[axis],
                                               causal[axis])).astype(bool)
    return allowed


def _phi(x, feature):
    if feature == "elu1":
        return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))
    return np.maximum(x, 0.0)


def _grids(shape):
    """b, h, i, j index grids broadcasting to `shape` [B, H, Lq, Lk]."""
    return tuple(np.arange(n).reshape([-1 if a == axis else 1
                                       for a in range(4)])
                 for axis, n in enumerate(shape))


def _allowed(shape, causal, window, sinks, mask, mask_mod, allowed=None):
    """[B, Hq, Lq, Lk] bool: the rules (or `allowed`), the mask and the
    mask_mod."""
    b, hq, lq, lk = shape
    ok = band(lq, lk, causal, window, sinks) if allowed is None else allowed
    ok = np.broadcast_to(ok, shape)
    if mask is not None:
        ok = ok & np.broadcast_to(np.asarray(mask, bool), shape)
    if mask_mod is not None:
        ok = ok & np.broadcast_to(mask_mod(*_grids(shape)), shape)
    return ok


def _scores(q, k, scale, bias, softcap, score_mod, score_mod_grad=None):
    """The scores scale q.k + bias, softcapped, through score_mod (k
    repeated to q's heads), and with score_mod_grad their derivative with
    respect to scale q.k + bias (else None)."""
    s = scale * (q @ k.swapaxes(-1, -2))
    if bias is not None:
        s = s + np.asarray(bias, np.float64)
    chain = np.ones_like(s)
    if softcap is not None:
        c = float(np.float32(softcap))
        t = np.tanh(s / c)
        s = c * t
        chain = 1 - t * t
    if score_mod is not None:
        grids = _grids(s.shape)
        if score_mod_grad is not None:
            chain = chain * np.broadcast_to(score_mod_grad(s, *grids),
                                            s.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.broadcast_to(score_mod(s, *grids), s.shape)
    return s, (chain if score_mod_grad is not None or score_mod is None
               else None)


def attention(q, k, v, scale=None, causal=False, window=None, sinks=0,
              softcap=None, score="softmax", normalize=True, mask=None,
              bias=None, allowed=None, score_mod=None, mask_mod=None,
              sink_logits=None, statistics=False):
    """attn.attention in float64; window is (left, right) or None.
    score_mod(s, b, h, i, j) and mask_mod(b, h, i, j) are applied to whole
    float64 score arrays and index grids (numpy broadcasting); sink_logits
    [Hq] joins each row's maximum and sum. statistics=True returns (out,
    lse, entropy): lse = ln(sum of exp(s) over allowed keys [+ exp(sink)])
    (softmax; -inf for a row without keys) and entropy = -sum w ln w of the
    normalized weights (0 for a row without keys)."""
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    k = np.repeat(k, hq // hkv, axis=1)
    v = np.repeat(v, hq // hkv, axis=1)
    scale = float(np.float32(1 / np.sqrt(d) if scale is None else scale))
    ok = _allowed((b, hq, lq, lk), causal, window, sinks, mask, mask_mod,
                  allowed)
    sink = None
    shift = None
    if score in ("elu1", "relu"):
        w = _phi(scale * q, score) @ _phi(k, score).swapaxes(-1, -2)
    else:
        s, _ = _scores(q, k, scale, bias, softcap, score_mod)
        if score == "softmax":
            s = np.where(ok, s, -np.inf)
            top = s.max(axis=-1, keepdims=True)
            if sink_logits is not None:
                sink = np.asarray(sink_logits, np.float64)[None, :, None,
                                                           None]
                top = np.maximum(top, sink)
            shift = np.where(np.isfinite(top), top, 0.0)
            w = np.exp(s - shift)
            if sink is not None:
                sink = np.exp(sink - shift)
        elif score == "softplus":
            w = np.logaddexp(0.0, s)
        elif score == "taylor2":
            w = 1.0 + s + 0.5 * s * s
        elif score == "identity":
            w = s
        elif score == "sigmoid":
            w = np.exp(-np.logaddexp(0.0, -s))
        else:
            raise ValueError(score)
    w = np.where(ok, w, 0.0)
    out = w @ v
    keys = w.sum(axis=-1, keepdims=True)
    empty = keys == 0  # no allowed key: zeros, with or without a sink
    z = keys + sink if sink is not None else keys
    if normalize:
        out = np.where(empty, 0.0, out / np.where(empty, 1.0, z))
    if not statistics:
        return out
    lse = None
    if shift is not None:
        with np.errstate(divide="ignore"):
            lse = np.where(empty, -np.inf, shift + np.log(z))[..., 0]
    p = w / np.where(empty, 1.0, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)
    return out, lse, entropy


def attention_backward(q, k, v, dout, scale=None, causal=False, window=None,
                       sinks=0, softcap=None, mask=None, bias=None,
                       score_mod=None, score_mod_grad=None, mask_mod=None,
                       sink_logits=None, allowed=None):
    """The analytic gradients of sum(dout * attention(...)) in float64 for
    softmax attention: (dq, dk, dv, dbias, dsink), dbias summed to bias's
    shape (None without a bias), dsink [Hq] (None without sink logits).
    score_mod_grad(s, b, h, i, j) is d score_mod / d s. The weights are
    exp(s - lse) with the forward's lse (attention(statistics=True))."""
    q, k, v, dout = (np.asarray(x, np.float64) for x in (q, k, v, dout))
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    group = hq // hkv
    kr = np.repeat(k, group, axis=1)
    vr = np.repeat(v, group, axis=1)
    out, lse, _ = attention(q, k, v, scale=scale, causal=causal,
                            window=window, sinks=sinks, softcap=softcap,
                            mask=mask, bias=bias, score_mod=score_mod,
                            mask_mod=mask_mod, sink_logits=sink_logits,
                            allowed=allowed, statistics=True)
    scale = float(np.float32(1 / np.sqrt(d) if scale is None else scale))
    ok = _allowed((b, hq, lq, lk), causal, window, sinks, mask, mask_mod,
                  allowed)
    s, chain = _scores(q, kr, scale, bias, softcap, score_mod,
                       score_mod_grad if score_mod is not None else None)
    # Rows without keys (lse = -inf) have no weights.
    rows_lse = np.where(np.isfinite(lse), lse, np.inf)[..., None]
    p = np.where(ok, np.exp(np.where(ok, s, -np.inf) - rows_lse), 0.0)
    rows = (dout * out).sum(axis=-1, keepdims=True)
    dp = dout @ vr.swapaxes(-1, -2)
    dbiased = np.where(ok, p * (dp - rows) * chain, 0.0)
    dq = scale * dbiased @ kr
    dk = (scale * dbiased.swapaxes(-1, -2) @ q).reshape(
        b, hkv, group, lk, d).sum(axis=2)
    dv = (p.swapaxes(-1, -2) @ dout).reshape(
        b, hkv, group, lk, v.shape[-1]).sum(axis=2)
    dbias = None
    if bias is not None:
        shape = np.shape(bias)
        dbias = dbiased.sum(axis=tuple(a for a in range(2) if shape[a] == 1),
                            keepdims=True)
    dsink = None
    if sink_logits is not None:
        sink = np.asarray(sink_logits, np.float64)[None, :, None, None]
        psink = np.exp(sink - rows_lse)
        dsink = -(psink * rows).sum(axis=(0, 2, 3))
    return dq, dk, dv, dbias, dsink


_KERNEL_DERIVATIVES = {
    "taylor2": lambda s: 1.0 + s,
    "identity": lambda s: np.ones_like(s),
    "sigmoid": lambda s: np.exp(-np.logaddexp(0.0, -s)) *
    np.exp(-np.logaddexp(0.0, s)),
    "softplus": lambda s: np.exp(-np.logaddexp(0.0, -s)),
}


def _phi_derivative(x, feature):
    if feature == "elu1":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))
    return np.where(x > 0, 1.0, 0.0)


def kernel_attention_backward(q, k, v, dout, score, normalize=True,
                              scale=None, causal=False, window=None, sinks=0,
                              softcap=None, mask=None, bias=None,
                              score_mod=None, score_mod_grad=None,
                              mask_mod=None):
    """The analytic gradients of sum(dout * attention(...)) in float64 for a
    kernel score or softplus: (dq, dk, dv, dbias). With the weights w over allowed
    pairs, Z their row sum, dO' = dout / Z and D' = dO' . out (0 for a row
    with Z = 0), the gradient of w is dO' . v - D' (dout . v
    unnormalized); elu1 and relu take it through phi(scale q) . phi(k), the
    others through w'(s) and the score's chain."""
    q, k, v, dout = (np.asarray(x, np.float64) for x in (q, k, v, dout))
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    group = hq // hkv
    kr = np.repeat(k, group, axis=1)
    vr = np.repeat(v, group, axis=1)
    scale = float(np.float32(1 / np.sqrt(d) if scale is None else scale))
    ok = _allowed((b, hq, lq, lk), causal, window, sinks, mask, mask_mod)
    feature = score in ("elu1", "relu")
    if feature:
        fq, fk = _phi(scale * q, score), _phi(kr, score)
        w = fq @ fk.swapaxes(-1, -2)
    else:
        s, chain = _scores(q, kr, scale, bias, softcap, score_mod,
                           score_mod_grad if score_mod is not None else None)
        w = {"taylor2": lambda: 1.0 + s + 0.5 * s * s,
             "identity": lambda: s,
             "sigmoid": lambda: np.exp(-np.logaddexp(0.0, -s)),
             "softplus": lambda: np.logaddexp(0.0, s)}[score]()
    w = np.where(ok, w, 0.0)
    if normalize:
        z = w.sum(axis=-1, keepdims=True)
        empty = z == 0
        out = np.where(empty, 0.0, (w @ vr) / np.where(empty, 1.0, z))
        grad = np.where(empty, 0.0, dout / np.where(empty, 1.0, z))
        rows = (grad * out).sum(axis=-1, keepdims=True)
    else:
        grad, rows = dout, 0.0
    dw = np.where(ok, grad @ vr.swapaxes(-1, -2) - rows, 0.0)
    dv = (w.swapaxes(-1, -2) @ grad).reshape(
        b, hkv, group, lk, v.shape[-1]).sum(axis=2)
    dbias = None
    if feature:
        dq = scale * _phi_derivative(scale * q, score) * (dw @ fk)
        dk = _phi_derivative(kr, score) * (dw.swapaxes(-1, -2) @ fq)
        dk = dk.reshape(b, hkv, group, lk, d).sum(axis=2)
    else:
        dbiased = dw * _KERNEL_DERIVATIVES[score](s) * chain
        dq = scale * dbiased @ kr
        dk = (scale * dbiased.swapaxes(-1, -2) @ q).reshape(
            b, hkv, group, lk, d).sum(axis=2)
        if bias is not None:
            shape = np.shape(bias)
            dbias = dbiased.sum(
                axis=tuple(a for a in range(2) if shape[a] == 1),
                keepdims=True)
    return dq, dk, dv, dbias


def _flat_neighborhood(q, kernel, dilation, stride, causal, score_mod,
                       score_mod_grad, mask_mod):
    """(allowed [N, N], flat score_mod, flat score_mod_grad, flat mask_mod)
    of a neighborhood over q's spatial axes, for attention() over the N
    row-major positions. The score_mod (and its derivative) is evaluated at
    the allowed pairs only (as the op defines it: a table of the window's
    offsets is read in bounds; elsewhere the score is kept, derivative 1);
    mask_mod at every pair."""
    spatial = q.shape[2:-1]
    rank = len(spatial)
    per_axis = lambda x: list(x) if isinstance(x, (list, tuple)) else [x] * rank
    allowed = neighborhood_allowed(spatial, per_axis(kernel),
                                   per_axis(dilation), per_axis(stride),
                                   per_axis(causal))
    n = int(np.prod(spatial))
    coords = np.unravel_index(np.arange(n), spatial)

    def at_allowed(fn, otherwise):
        if fn is None:
            return None

        def flat(s, b, h, i, j):
            s, b, h, i, j = np.broadcast_arrays(s, b, h, i, j)
            keep = np.broadcast_to(allowed, s.shape)
            out = np.array(otherwise(s), np.float64)
            out[keep] = fn(s[keep], b[keep], h[keep],
                           *(c[i[keep]] for c in coords),
                           *(c[j[keep]] for c in coords))
            return out
        return flat
    flat_mask = None
    if mask_mod is not None:
        def flat_mask(b, h, i, j):
            return mask_mod(b, h, *(c[i] for c in coords),
                            *(c[j] for c in coords))
    return (allowed, at_allowed(score_mod, lambda s: s),
            at_allowed(score_mod_grad, np.ones_like), flat_mask)


def _flat_positions(x):
    """[B, H, *spatial, D] -> [B, H, N, D]."""
    return x.reshape(x.shape[0], x.shape[1], -1, x.shape[-1])


def neighborhood(q, k, v, kernel, dilation=1, stride=1, causal=False,
                 scale=None, score_mod=None, mask_mod=None, statistics=False):
    """attn.neighborhood in float64 on [B, H, *spatial, D]. score_mod(s, b,
    h, *query_coords, *key_coords) is evaluated at the allowed pairs only
    (as the op defines it: a table of the window's offsets is read in
    bounds); mask_mod(b, h, *query_coords, *key_coords) at every pair.
    statistics=True returns (out, lse), lse [B, H, *spatial]."""
    allowed, flat_score, _, flat_mask = _flat_neighborhood(
        q, kernel, dilation, stride, causal, score_mod, None, mask_mod)
    result = attention(_flat_positions(q), _flat_positions(k),
                       _flat_positions(v), scale=scale, allowed=allowed,
                       score_mod=flat_score, mask_mod=flat_mask,
                       statistics=statistics)
    shape = q.shape[:-1] + (v.shape[-1],)
    if not statistics:
        return result.reshape(shape)
    return result[0].reshape(shape), result[1].reshape(q.shape[:-1])


def neighborhood_backward(q, k, v, dout, kernel, dilation=1, stride=1,
                          causal=False, scale=None, score_mod=None,
                          score_mod_grad=None, mask_mod=None):
    """The analytic float64 gradients (dq, dk, dv) of sum(dout *
    neighborhood(...)); score_mod_grad(s, b, h, *coords) is d score_mod /
    d s."""
    allowed, flat_score, flat_grad, flat_mask = _flat_neighborhood(
        q, kernel, dilation, stride, causal, score_mod, score_mod_grad,
        mask_mod)
    dq, dk, dv, _, _ = attention_backward(
        _flat_positions(q), _flat_positions(k), _flat_positions(v),
        _flat_positions(dout), scale=scale, score_mod=flat_score,
        score_mod_grad=flat_grad, mask_mod=flat_mask, allowed=allowed)
    return (dq.reshape(q.shape), dk.reshape(k.shape), dv.reshape(v.shape))


def to_bf16(x):
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(
        np.float32)
