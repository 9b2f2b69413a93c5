"""Float64 numpy implementation of the attn ops, written from DESIGN.md.

This is the independent oracle of the integration tests: it shares no code
with the compiler. Everything is computed in float64 with explicit loops over
the allowed-key rules, so it is slow and plain on purpose.
"""

import numpy as np


def band_allowed(lq, lk, causal=False, window=None, sinks=0):
    """[Lq, Lk] bool: the causal / window / sink rules of attn.attention.

    window is None or (left, right), where either side may be None
    (unbounded)."""
    i = np.arange(lq)[:, None]
    j = np.arange(lk)[None, :]
    shifted = i + (lk - lq)
    allowed = np.ones((lq, lk), dtype=bool)
    if causal:
        allowed &= j <= shifted
    if window is not None:
        left, right = window
        in_window = np.ones((lq, lk), dtype=bool)
        if left is not None:
            in_window &= j >= shifted - left
        if right is not None:
            in_window &= j <= shifted + right
        in_window |= j < sinks
        allowed &= in_window
    return allowed


def natten_axis_allowed(n, kernel, dilation=1, stride=1, causal=False):
    """[n, n] bool: NATTEN's one-axis neighborhood rule (query i, key j)."""
    out = np.zeros((n, n), dtype=bool)
    left = kernel // 2
    right = kernel // 2 - (1 - kernel % 2)
    for i in range(n):
        group = i % dilation
        qi = i // dilation
        m = -(-(n - group) // dilation)  # ceil
        first = stride * (qi // stride)
        for j in range(n):
            if j % dilation != group:
                continue
            kj = j // dilation
            if causal:
                leader = min(first + stride - 1, m - 1)
                ok = max(0, leader - kernel + 1) <= kj <= qi
            else:
                leader = min(first + stride // 2, m - 1)
                center = min(max(leader, left), m - 1 - right)
                ok = center - left <= kj <= center + right
            out[i, j] = ok
    return out


def neighborhood_allowed(spatial, kernel, dilation=None, stride=None,
                         causal=None):
    """[N, N] bool over row-major flattened positions of `spatial`."""
    rank = len(spatial)
    dilation = dilation or [1] * rank
    stride = stride or [1] * rank
    causal = causal or [False] * rank
    allowed = np.ones((1, 1), dtype=bool)
    for axis in range(rank):
        a = natten_axis_allowed(spatial[axis], kernel[axis], dilation[axis],
                                stride[axis], causal[axis])
        allowed = np.kron(allowed, a).astype(bool)
    return allowed


def _phi(x, feature):
    if feature == "elu1":
        return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))
    if feature == "relu":
        return np.maximum(x, 0.0)
    raise ValueError(feature)


def _weighted_values(w, v, allowed):
    """sum_j w_ij v_je over the allowed keys only: a key that is not allowed
    is never read, so a NaN or infinity in its value row reaches no query
    (a plain w @ v would give 0 * NaN = NaN)."""
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore"):
        out = np.einsum("bhij,bhje->bhie", w, np.where(finite, v, 0.0))
    # Keys with a non-finite value: added one by one, where allowed.
    for j in np.flatnonzero((~finite).any(axis=(0, 1, 3))):
        with np.errstate(invalid="ignore"):
            term = w[..., j, None] * v[:, :, None, j, :]
        out = out + np.where(allowed[..., j, None] & ~finite[:, :, None, j, :],
                             term, 0.0)
    return out


def attention(q, k, v, scale=None, causal=False, window=None, sinks=0,
              softcap=None, score="softmax", feature=None, normalize=True,
              mask=None, bias=None, allowed=None, magnitude=False,
              score_mod=None, mask_mod=None, sink_logits=None):
    """Float64 attn.attention. q [B,Hq,Lq,D], k [B,Hkv,Lk,D], v [B,Hkv,Lk,Dv].

    score: "softmax", "softplus" or "kernel" (with feature elu1, relu,
    taylor2, identity or sigmoid). `allowed` ([Lq, Lk] bool) replaces the band rules
    (used for neighborhoods). score_mod(s, b, h, i, j) and mask_mod(b, h,
    i, j) are numpy functions of [B,Hq,Lq,Lk] grids (the custom variants);
    sink_logits ([Hq], softmax) adds exp(sink_h) to each row's normalizer.
    With `magnitude`, returns instead the condition
    of each output element, (sum_j |w_ij| |v_je| + |o_ie| sum_j |w_ij|) /
    |sum_j w_ij| (sum_j |w_ij| |v_je| when not normalized): how much rounding
    in the sums can show."""
    w, allowed, v, w_sink = attention_weights(
        q, k, v, scale, causal, window, sinks, softcap, score, feature, mask,
        bias, allowed, score_mod, mask_mod, sink_logits)
    out = _weighted_values(w, v, allowed)
    with np.errstate(invalid="ignore"):
        cond = np.einsum("bhij,bhje->bhie", np.abs(w), np.abs(v))
    if score != "kernel" or normalize:
        z = w.sum(axis=-1, keepdims=True)
        if w_sink is not None:
            z = z + w_sink
        safe = np.where(z == 0, 1.0, z)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(z == 0, 0.0, out / safe)
            # Rounding of the numerator and of the denominator.
            cond = np.where(z == 0, 0.0, (cond + np.abs(out) * np.abs(w).sum(
                axis=-1, keepdims=True)) / np.abs(safe))
    return cond if magnitude else out


def _grids(shape):
    """b, h, i, j index grids broadcastable to `shape` = [B, Hq, Lq, Lk]."""
    b, h, lq, lk = shape
    return (np.arange(b)[:, None, None, None], np.arange(h)[None, :, None, None],
            np.arange(lq)[None, None, :, None], np.arange(lk)[None, None, None, :])


def attention_weights(q, k, v, scale=None, causal=False, window=None, sinks=0,
                      softcap=None, score="softmax", feature=None, mask=None,
                      bias=None, allowed=None, score_mod=None, mask_mod=None,
                      sink_logits=None, with_shift=False):
    """The unnormalized weights [B,Hq,Lq,Lk] (0 where not allowed), the
    allowed set [B,Hq,Lq,Lk], v repeated to the query heads, and with
    sink_logits the sinks' weights [B,Hq,Lq,1] on the same scale (else
    None). with_shift: also the shift [B,Hq,Lq,1] that softmax weights are
    relative to (w = exp(s - shift); None for other scores)."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    group = hq // hkv
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    scale = float(np.float32(scale))
    if allowed is None:
        allowed = band_allowed(lq, lk, causal, window, sinks)
    allowed = np.broadcast_to(allowed, (b, hq, lq, lk)).copy()
    if mask is not None:
        allowed &= np.broadcast_to(np.asarray(mask, dtype=bool),
                                   (b, hq, lq, lk))
    if mask_mod is not None:
        allowed &= np.broadcast_to(mask_mod(*_grids(allowed.shape)),
                                   allowed.shape)
    w_sink = None
    shift = None
    if score == "kernel" and feature in ("elu1", "relu"):
        w = np.einsum("bhid,bhjd->bhij", _phi(scale * q, feature),
                      _phi(k, feature))
    else:
        s = scale * np.einsum("bhid,bhjd->bhij", q, k)
        if bias is not None:
            s = s + np.asarray(bias, dtype=np.float64)
        if softcap is not None:
            s = softcap * np.tanh(s / softcap)
        if score_mod is not None:
            s = np.broadcast_to(score_mod(s, *_grids(s.shape)), s.shape)
        if score == "softmax":
            # A NaN score of an allowed key makes the row's max, and so the
            # whole row, NaN; a key whose score is -inf weighs 0.
            masked = np.where(allowed, s, -np.inf)
            with np.errstate(invalid="ignore", over="ignore"):
                m = masked.max(axis=-1, keepdims=True)
                if sink_logits is not None:
                    sink = np.asarray(sink_logits, dtype=np.float64)
                    m = np.maximum(m, sink[None, :, None, None])
                shift = np.where(np.isneginf(m), 0.0, m)
                w = np.where(allowed & (masked != -np.inf),
                             np.exp(masked - shift), 0.0)
                if sink_logits is not None:
                    w_sink = np.exp(sink[None, :, None, None] - shift)
        elif score == "softplus":
            w = _softplus_weights(s, allowed)
        elif feature == "taylor2":
            w = 1.0 + s + 0.5 * s * s
        elif feature == "identity":
            w = s
        elif feature == "sigmoid":
            # 1 / (1 + e^-s) = e^-log(1 + e^-s), with no overflow.
            w = np.exp(-np.logaddexp(0.0, -s))
        else:
            raise ValueError((score, feature))
    if with_shift:
        return np.where(allowed, w, 0.0), allowed, v, w_sink, shift
    return np.where(allowed, w, 0.0), allowed, v, w_sink


def row_statistics(q, k, v, **options):
    """The LSE and entropy rows [B,Hq,Lq] of attention with `options` (as
    attention_weights takes them): LSE = ln(sum of exp(s) over allowed keys,
    plus exp(sink) with sink_logits), -inf for a row without keys (softmax
    only, else None); entropy = -sum_j p ln p of the normalized weights p,
    0 for a row without keys."""
    w, _, _, w_sink, shift = attention_weights(q, k, v, with_shift=True,
                                               **options)
    keys = w.sum(axis=-1, keepdims=True)
    z = keys + w_sink if w_sink is not None else keys
    empty = keys == 0
    lse = None
    if shift is not None:
        with np.errstate(divide="ignore"):
            lse = np.where(empty, -np.inf, np.log(z) + shift)[..., 0]
    p = w / np.where(empty, 1.0, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)
    return lse, entropy


def _softplus_weights(s, allowed):
    """softplus(s) e^-c per row, c = min(max over allowed s, 0): the
    normalized weights are those of softplus, and a row whose scores are all
    far below 0 (where softplus underflows, in float64 too, below -745)
    keeps their ratios. log softplus(s) = s + log1p(-e^s / 2 + ...) below
    -30."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        c = np.where(allowed, s, -np.inf).max(axis=-1, keepdims=True)
        c = np.where(np.isneginf(c), 0.0, np.minimum(c, 0.0))
        log_w = np.where(s > -30.0, np.log(np.logaddexp(0.0, s)),
                         s - 0.5 * np.exp(np.minimum(s, 0.0)))
        return np.exp(log_w - c)


def neighborhood(q, k, v, kernel, dilation=None, stride=None, causal=None,
                 scale=None, score_mod=None):
    """Float64 attn.neighborhood on [B, H, *spatial, D]. score_mod(s, b, h,
    query coordinates..., key coordinates...) as on the op."""
    q = np.asarray(q, dtype=np.float64)
    spatial = list(q.shape[2:-1])
    b, h = q.shape[:2]
    n = int(np.prod(spatial))
    flat = lambda x: np.asarray(x, dtype=np.float64).reshape(
        x.shape[0], x.shape[1], n, x.shape[-1])
    allowed = neighborhood_allowed(spatial, kernel, dilation, stride, causal)
    flat_mod = None
    if score_mod is not None:
        def flat_mod(s, b, h, i, j):
            return score_mod(s, b, h, *np.unravel_index(i, spatial),
                             *np.unravel_index(j, spatial))
    out = attention(flat(q), flat(k), flat(v), scale=scale, allowed=allowed,
                    score_mod=flat_mod)
    return out.reshape(b, out.shape[1], *spatial, out.shape[-1])
