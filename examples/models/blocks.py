"""The two example transformer blocks: their sizes, their parameters (made
with a fixed seed, scaled like an initialized model) and float64 numpy
implementations that the compiled models are compared with.

- gpt: a GPT-2 style pre-LN decoder block (layer norm, fused QKV projection,
  causal multi-head attention, output projection, tanh-GELU MLP), written in
  TOSA by make_models.py.
- encoder: a BERT-style post-LN encoder block with a padding mask (an i1
  [B, L] input, true = a real token, made additive in the IR), written in
  linalg by make_models.py.
Function arguments are, in order, the inputs then the parameters below."""

import math

import numpy as np

EPS = 1e-5

CONFIGS = {
    # Committed examples and tests.
    "gpt": dict(batch=1, seq=64, dim=128, heads=4, hidden=512),
    "encoder": dict(batch=2, seq=64, dim=128, heads=4, hidden=256),
}
# Larger sizes for the benchmark (bench/run_bench.py --suites models).
BENCH_CONFIGS = {
    "gpt": dict(batch=1, seq=512, dim=256, heads=8, hidden=1024),
    "encoder": dict(batch=4, seq=256, dim=256, heads=8, hidden=1024),
}


def inputs(model, c):
    """Names, shapes and dtypes of the inputs (before the parameters)."""
    x = ("x", (c["batch"], c["seq"], c["dim"]), np.float32)
    if model == "gpt":
        return [x]
    return [x, ("keep", (c["batch"], c["seq"]), np.bool_)]


def parameters(model, c):
    """Names and shapes of the parameters, in argument order."""
    d, f = c["dim"], c["hidden"]
    if model == "gpt":
        return [("ln1_g", (d,)), ("ln1_b", (d,)), ("w_qkv", (d, 3 * d)),
                ("b_qkv", (3 * d,)), ("w_o", (d, d)), ("b_o", (d,)),
                ("ln2_g", (d,)), ("ln2_b", (d,)), ("w_fc", (d, f)),
                ("b_fc", (f,)), ("w_proj", (f, d)), ("b_proj", (d,))]
    return [("w_q", (d, d)), ("b_q", (d,)), ("w_k", (d, d)), ("b_k", (d,)),
            ("w_v", (d, d)), ("b_v", (d,)), ("w_o", (d, d)), ("b_o", (d,)),
            ("ln1_g", (d,)), ("ln1_b", (d,)), ("w_1", (d, f)), ("b_1", (f,)),
            ("w_2", (f, d)), ("b_2", (d,)), ("ln2_g", (d,)), ("ln2_b", (d,))]


def make_arrays(model, c, seed=2026):
    """Inputs and parameters, seeded: {name: array} in argument order."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape, dtype in inputs(model, c):
        if dtype == np.bool_:
            # Sequence b keeps its first seq - 8 b tokens (padding after).
            keep = np.ones(shape, dtype=bool)
            for b in range(shape[0]):
                keep[b, shape[1] - 8 * b:] = False
            arrays[name] = keep
        else:
            arrays[name] = rng.standard_normal(shape).astype(np.float32)
    for name, shape in parameters(model, c):
        if name.endswith("_g"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.startswith("b_") or name.endswith("_b"):
            value = 0.02 * rng.standard_normal(shape)
        else:
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        arrays[name] = value.astype(np.float32)
    return arrays


def layer_norm(x, g, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * g + b


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def split_heads(x, heads):
    b, l, d = x.shape
    return x.reshape(b, l, heads, d // heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    b, h, l, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, l, h * d)


def gpt_block(a, c):
    """float64 GPT-2 block (pre-LN, causal, tanh-GELU)."""
    p = {k: v.astype(np.float64) for k, v in a.items()}
    x, h, d = p["x"], c["heads"], c["dim"]
    t = layer_norm(x, p["ln1_g"], p["ln1_b"])
    qkv = t @ p["w_qkv"] + p["b_qkv"]
    q, k, v = (split_heads(qkv[..., i * d:(i + 1) * d], h) for i in range(3))
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h)
    seq = x.shape[1]
    s = s + np.where(np.tril(np.ones((seq, seq), dtype=bool)), 0.0, -np.inf)
    o = merge_heads(softmax(s) @ v)
    x = x + o @ p["w_o"] + p["b_o"]
    t = layer_norm(x, p["ln2_g"], p["ln2_b"])
    f = t @ p["w_fc"] + p["b_fc"]
    f = 0.5 * f * (1 + np.tanh(math.sqrt(2 / math.pi) * (f + 0.044715 * f ** 3)))
    return x + f @ p["w_proj"] + p["b_proj"]


def encoder_block(a, c):
    """float64 BERT encoder block (post-LN, padding mask, erf-GELU)."""
    p = {k: (v.astype(np.float64) if v.dtype != np.bool_ else v)
         for k, v in a.items()}
    x, h, d = p["x"], c["heads"], c["dim"]
    q, k, v = (split_heads(x @ p["w_" + n] + p["b_" + n], h) for n in "qkv")
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h)
    s = s + np.where(p["keep"], 0.0, -np.inf)[:, None, None, :]
    o = merge_heads(softmax(s) @ v)
    x = layer_norm(x + o @ p["w_o"] + p["b_o"], p["ln1_g"], p["ln1_b"])
    f = x @ p["w_1"] + p["b_1"]
    erf = np.vectorize(math.erf)
    f = 0.5 * f * (1 + erf(f / math.sqrt(2)))
    return layer_norm(x + f @ p["w_2"] + p["b_2"], p["ln2_g"], p["ln2_b"])


BLOCKS = {"gpt": gpt_block, "encoder": encoder_block}
