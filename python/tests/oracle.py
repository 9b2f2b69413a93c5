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


def attention(q, k, v, scale=None, causal=False, window=None, sinks=0,
              softcap=None, score="softmax", normalize=True, mask=None,
              bias=None, allowed=None):
    """attn.attention in float64; window is (left, right) or None."""
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    b, hq, lq, d = q.shape
    hkv, lk = k.shape[1], k.shape[2]
    k = np.repeat(k, hq // hkv, axis=1)
    v = np.repeat(v, hq // hkv, axis=1)
    scale = float(np.float32(1 / np.sqrt(d) if scale is None else scale))
    ok = band(lq, lk, causal, window, sinks) if allowed is None else allowed
    ok = np.broadcast_to(ok, (b, hq, lq, lk))
    if mask is not None:
        ok = ok & np.broadcast_to(np.asarray(mask, bool), ok.shape)
    if score in ("elu1", "relu"):
        w = _phi(scale * q, score) @ _phi(k, score).swapaxes(-1, -2)
    else:
        s = scale * (q @ k.swapaxes(-1, -2))
        if bias is not None:
            s = s + np.asarray(bias, np.float64)
        if softcap is not None:
            c = float(np.float32(softcap))
            s = c * np.tanh(s / c)
        if score == "softmax":
            s = np.where(ok, s, -np.inf)
            top = s.max(axis=-1, keepdims=True)
            w = np.exp(s - np.where(np.isfinite(top), top, 0.0))
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
    if normalize:
        z = w.sum(axis=-1, keepdims=True)
        out = np.where(z == 0, 0.0, out / np.where(z == 0, 1.0, z))
    return out


def neighborhood(q, k, v, kernel, dilation=1, stride=1, causal=False,
                 scale=None):
    """attn.neighborhood in float64 on [B, H, *spatial, D]."""
    spatial = q.shape[2:-1]
    rank = len(spatial)
    per_axis = lambda x: list(x) if isinstance(x, (list, tuple)) else [x] * rank
    allowed = neighborhood_allowed(spatial, per_axis(kernel),
                                   per_axis(dilation), per_axis(stride),
                                   per_axis(causal))
    n = int(np.prod(spatial))
    flat = lambda x: x.reshape(x.shape[0], x.shape[1], n, x.shape[-1])
    out = attention(flat(q), flat(k), flat(v), scale=scale, allowed=allowed)
    return out.reshape(q.shape[:-1] + (v.shape[-1],))


def to_bf16(x):
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(
        np.float32)
