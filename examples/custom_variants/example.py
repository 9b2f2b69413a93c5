"""What the custom-variant examples share: a dense float64 attention over an
explicit Lq x Lk bias and mask (the tensors the compiled op never forms),
and the check that runs an example under each strategy and target and
compares it with that reference."""

import numpy as np

import attn

# The strategies that compute custom variants, per target (block_sparse
# does too, on ops with a mask operand, which these examples avoid).
STRATEGIES = {"cpu": [None, "reference", "tiled", "split_kv", "portable"],
              "vulkan": [None, "tiled", "split_kv"]}


def dense_attention64(q, k, v, bias=None, allowed=None, scale=None,
                      sink_logits=None):
    """Softmax attention in float64. q [B, Hq, Lq, D], k/v [B, Hkv, Lk, *];
    bias and allowed broadcast to [B, Hq, Lq, Lk]; sink_logits [Hq] joins
    each row's normalization. A row with no allowed key is zero."""
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    group = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    if scale is None:
        scale = float(np.float32(1 / np.sqrt(q.shape[-1])))
    s = scale * q @ k.swapaxes(-1, -2)
    if bias is not None:
        s = s + bias
    if allowed is None:
        allowed = np.ones(s.shape, bool)
    allowed = np.broadcast_to(allowed, s.shape)
    s = np.where(allowed, s, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    if sink_logits is not None:
        sink = np.asarray(sink_logits, np.float64)[None, :, None, None]
        top = np.maximum(top, sink)
    top = np.where(np.isfinite(top), top, 0.0)
    w = np.where(allowed, np.exp(s - top), 0.0)
    z = w.sum(axis=-1, keepdims=True)
    empty = z == 0
    if sink_logits is not None:
        z = z + np.exp(sink - top)
    return np.where(empty, 0.0, (w @ v) / np.where(empty, 1.0, z))


def check(name, compute, want, targets=("cpu",), strategies=None):
    """Runs compute(strategy, target) for every strategy of each target and
    compares it with the float64 `want`: |got - want| <= 2e-5 + 2e-4 |want|
    elementwise. Prints one line per run; returns the largest error."""
    worst = 0.0
    for target in targets:
        for strategy in (strategies or STRATEGIES)[target]:
            got = np.asarray(compute(strategy, target), np.float64)
            error = np.abs(got - want)
            excess = (error - (2e-5 + 2e-4 * np.abs(want))).max()
            label = strategy or "(chosen)"
            print(f"{name:20s} {target:7s} {label:13s} max |error| "
                  f"{error.max():.2e}")
            if not np.all(np.isfinite(got)) or excess > 0:
                raise AssertionError(f"{name}: {target} {label} differs from "
                                     f"float64 by {error.max():.3e}")
            worst = max(worst, float(error.max()))
    return worst


def main(run):
    """The command line of an example: run(targets) on the CPU, and on
    Vulkan too when a device is present."""
    targets = ("cpu", "vulkan") if attn.vulkan_available() else ("cpu",)
    run(targets)
