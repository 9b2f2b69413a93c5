"""Training one attention layer with attn's forward and backward.

A student layer (projections W_q, W_k, W_v, W_o and one learnable sink
logit per head) learns to imitate a teacher layer with the same
architecture on random token sequences: causal grouped-query attention
whose scores pass through a softcap written as a score_mod,
5 tanh(s / 5). The forward is attn.attention(..., return_lse=True); the
backward attn.attention_backward gives dq, dk, dv and the sink logits'
gradient (the score_mod is differentiated by the compiler); numpy chains
them through the projections; Adam updates the weights. The loss falls.

    PYTHONPATH=build/python /usr/bin/python3 examples/training/train_attention.py
"""

import numpy as np

import attn

BATCH, LENGTH, MODEL = 4, 24, 32
HEADS, KV_HEADS, DIM = 4, 2, 8


def softcap(s, b, h, i, j):
    return 5.0 * np.tanh(s / 5.0)


def init_layer(rng, scale=0.3):
    return {
        "wq": scale * rng.standard_normal((MODEL, HEADS * DIM)),
        "wk": scale * rng.standard_normal((MODEL, KV_HEADS * DIM)),
        "wv": scale * rng.standard_normal((MODEL, KV_HEADS * DIM)),
        "wo": scale * rng.standard_normal((HEADS * DIM, MODEL)),
        "sink": rng.standard_normal(HEADS),
    }


def split_heads(x, heads):
    """[B, L, heads * DIM] -> [B, heads, L, DIM], float32."""
    return np.ascontiguousarray(
        x.reshape(BATCH, LENGTH, heads, DIM).transpose(0, 2, 1, 3),
        dtype=np.float32)


def merge_heads(x):
    """[B, H, L, DIM] -> [B, L, H * DIM], float64."""
    return x.transpose(0, 2, 1, 3).reshape(BATCH, LENGTH, -1).astype(
        np.float64)


def forward(layer, x):
    """The layer's output and what its backward needs."""
    q = split_heads(x @ layer["wq"], HEADS)
    k = split_heads(x @ layer["wk"], KV_HEADS)
    v = split_heads(x @ layer["wv"], KV_HEADS)
    sink = layer["sink"].astype(np.float32)
    o, lse = attn.attention(q, k, v, causal=True, score_mod=softcap,
                            sink_logits=sink, return_lse=True)
    y = merge_heads(o) @ layer["wo"]
    return y, (q, k, v, sink, o, lse)


def gradients(layer, x, saved, dy):
    """d loss / d each weight, given d loss / d y."""
    q, k, v, sink, o, lse = saved
    grads = {"wo": np.einsum("blf,blm->fm", merge_heads(o), dy)}
    do = split_heads(dy @ layer["wo"].T, HEADS)
    dq, dk, dv, dsink = attn.attention_backward(
        q, k, v, o, do, lse, causal=True, score_mod=softcap,
        sink_logits=sink)
    for name, d in (("wq", dq), ("wk", dk), ("wv", dv)):
        grads[name] = np.einsum("blm,blf->mf", x, merge_heads(d))
    grads["sink"] = dsink.astype(np.float64)
    return grads


def train(steps=150, learning_rate=0.02, seed=0):
    """Losses of `steps` Adam steps of the student against the teacher."""
    rng = np.random.default_rng(seed)
    teacher, student = init_layer(rng), init_layer(rng)
    moments = {name: (np.zeros_like(w), np.zeros_like(w))
               for name, w in student.items()}
    losses = []
    for step in range(1, steps + 1):
        x = rng.standard_normal((BATCH, LENGTH, MODEL))
        target, _ = forward(teacher, x)
        y, saved = forward(student, x)
        error = y - target
        losses.append(float(np.mean(error ** 2)))
        grads = gradients(student, x, saved, 2.0 * error / error.size)
        for name, g in grads.items():
            m, s = moments[name]
            m[...] = 0.9 * m + 0.1 * g
            s[...] = 0.999 * s + 0.001 * g * g
            update = (m / (1 - 0.9 ** step)) / (
                np.sqrt(s / (1 - 0.999 ** step)) + 1e-8)
            student[name] -= learning_rate * update
    return losses


def run():
    losses = train()
    late = float(np.mean(losses[-10:]))
    print(f"loss: step 1 {losses[0]:.4f}, mean of the last 10 steps "
          f"{late:.4f}")
    if not late < 0.5 * losses[0]:
        raise AssertionError("the loss did not fall to half")
    return losses


if __name__ == "__main__":
    run()
