"""Training one attention layer with attn's forward and backward.

A student layer (projections W_q, W_k, W_v, W_o and one learnable sink
logit per head) learns to imitate a teacher layer with the same
architecture on random token sequences: causal grouped-query attention
whose scores pass through a softcap written as a score_mod,
5 tanh(s / 5). The forward is attn.attention(..., return_lse=True); the
backward attn.attention_backward gives dq, dk, dv and the sink logits'
gradient (the score_mod is differentiated by the compiler); numpy chains
them through the projections; Adam updates the weights. The loss falls.

With --score elu1 (or relu, taylor2) the layers are causal linear
attention instead (no sink, no score_mod): attn.attention with that kernel
score, and attn.attention_backward without an LSE (the compiler's chunked
linear backward).

    PYTHONPATH=build/python /usr/bin/python3 examples/training/train_attention.py [--score elu1]
"""

import argparse

import numpy as np

import attn

BATCH, LENGTH, MODEL = 4, 24, 32
HEADS, KV_HEADS, DIM = 4, 2, 8


def softcap(s, b, h, i, j):
    return 5.0 * np.tanh(s / 5.0)


def init_layer(rng, score, scale=0.3):
    """The weights; softmax layers also have a sink logit per head."""
    layer = {
        "wq": scale * rng.standard_normal((MODEL, HEADS * DIM)),
        "wk": scale * rng.standard_normal((MODEL, KV_HEADS * DIM)),
        "wv": scale * rng.standard_normal((MODEL, KV_HEADS * DIM)),
        "wo": scale * rng.standard_normal((HEADS * DIM, MODEL)),
    }
    if score == "softmax":
        layer["sink"] = rng.standard_normal(HEADS)
    return layer


def variant(score):
    """attn.attention's keyword arguments for the layer: softmax with the
    softcap score_mod, or causal linear attention with a kernel score."""
    if score == "softmax":
        return dict(causal=True, score_mod=softcap)
    return dict(causal=True, score=score)


def split_heads(x, heads):
    """[B, L, heads * DIM] -> [B, heads, L, DIM], float32."""
    return np.ascontiguousarray(
        x.reshape(BATCH, LENGTH, heads, DIM).transpose(0, 2, 1, 3),
        dtype=np.float32)


def merge_heads(x):
    """[B, H, L, DIM] -> [B, L, H * DIM], float64."""
    return x.transpose(0, 2, 1, 3).reshape(BATCH, LENGTH, -1).astype(
        np.float64)


def forward(layer, x, score):
    """The layer's output and what its backward needs."""
    q = split_heads(x @ layer["wq"], HEADS)
    k = split_heads(x @ layer["wk"], KV_HEADS)
    v = split_heads(x @ layer["wv"], KV_HEADS)
    sink = layer["sink"].astype(np.float32) if "sink" in layer else None
    if score == "softmax":
        o, lse = attn.attention(q, k, v, sink_logits=sink, return_lse=True,
                                **variant(score))
    else:
        o, lse = attn.attention(q, k, v, **variant(score)), None
    y = merge_heads(o) @ layer["wo"]
    return y, (q, k, v, sink, o, lse)


def gradients(layer, x, saved, dy, score):
    """d loss / d each weight, given d loss / d y."""
    q, k, v, sink, o, lse = saved
    grads = {"wo": np.einsum("blf,blm->fm", merge_heads(o), dy)}
    do = split_heads(dy @ layer["wo"].T, HEADS)
    if score == "softmax":
        dq, dk, dv, dsink = attn.attention_backward(
            q, k, v, o, do, lse, sink_logits=sink, **variant(score))
        grads["sink"] = dsink.astype(np.float64)
    else:
        # Kernel scores have no LSE (and the layer no sink).
        dq, dk, dv = attn.attention_backward(q, k, v, o, do,
                                             **variant(score))
    for name, d in (("wq", dq), ("wk", dk), ("wv", dv)):
        grads[name] = np.einsum("blm,blf->mf", x, merge_heads(d))
    return grads


def train(steps=150, learning_rate=0.02, seed=0, score="softmax"):
    """Losses of `steps` Adam steps of the student against the teacher."""
    rng = np.random.default_rng(seed)
    teacher, student = init_layer(rng, score), init_layer(rng, score)
    moments = {name: (np.zeros_like(w), np.zeros_like(w))
               for name, w in student.items()}
    losses = []
    for step in range(1, steps + 1):
        x = rng.standard_normal((BATCH, LENGTH, MODEL))
        target, _ = forward(teacher, x, score)
        y, saved = forward(student, x, score)
        error = y - target
        losses.append(float(np.mean(error ** 2)))
        grads = gradients(student, x, saved, 2.0 * error / error.size, score)
        for name, g in grads.items():
            m, s = moments[name]
            m[...] = 0.9 * m + 0.1 * g
            s[...] = 0.999 * s + 0.001 * g * g
            update = (m / (1 - 0.9 ** step)) / (
                np.sqrt(s / (1 - 0.999 ** step)) + 1e-8)
            student[name] -= learning_rate * update
    return losses


def run(score="softmax"):
    losses = train(score=score)
    late = float(np.mean(losses[-10:]))
    print(f"{score} loss: step 1 {losses[0]:.4f}, mean of the last 10 steps "
          f"{late:.4f}")
    if not late < 0.5 * losses[0]:
        raise AssertionError("the loss did not fall to half")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--score", default="softmax",
                        choices=["softmax", "elu1", "relu", "taylor2"])
    run(parser.parse_args().score)
