"""NATTEN-style relative positional bias on a 2-D neighborhood: a 7 x 7
window over a 20 x 23 feature map, each head adding rpb[h, dx + 6, dy + 6]
for the key's offset (dx, dy) from the query. The table has 13 x 13 entries
per head; the tracer proves the reads stay inside it, because score_mod
runs only at the pairs the neighborhood allows.

    PYTHONPATH=build/python /usr/bin/python3 examples/custom_variants/natten_rpb.py
"""

import numpy as np

import attn
import example

KERNEL = 7


def neighbors(n, kernel):
    """[n, n] bool: NATTEN's window on one axis, centred and shifted at the
    edges, written as loops."""
    allowed = np.zeros((n, n), bool)
    for i in range(n):
        start = min(max(i - kernel // 2, 0), n - kernel)
        allowed[i, start:start + kernel] = True
    return allowed


def run(targets=("cpu",)):
    rng = np.random.default_rng(7)
    x, y, heads = 20, 23, 4
    q, k, v = (rng.standard_normal((1, heads, x, y, 32)).astype(np.float32)
               for _ in range(3))
    rpb = rng.standard_normal((heads, 2 * KERNEL - 1, 2 * KERNEL - 1)).astype(
        np.float32)

    def relative_bias(s, b, h, qx, qy, kx, ky):
        return s + rpb[h, kx - qx + KERNEL - 1, ky - qy + KERNEL - 1]

    allowed = np.kron(neighbors(x, KERNEL), neighbors(y, KERNEL)).astype(bool)
    qx, qy = np.divmod(np.arange(x * y), y)
    dx = qx[None, :] - qx[:, None] + KERNEL - 1
    dy = qy[None, :] - qy[:, None] + KERNEL - 1
    inside = allowed  # the table is read where the window allows only
    bias = np.zeros((heads, x * y, x * y))
    bias[:, inside] = rpb.astype(np.float64)[:, dx[inside], dy[inside]]
    flat = lambda t: t.reshape(1, heads, x * y, 32)
    want = example.dense_attention64(flat(q), flat(k), flat(v), bias=bias,
                                     allowed=allowed).reshape(q.shape)
    # The neighborhood kernels (CPU and GPU) fuse the bias.
    return example.check(
        "natten_rpb", lambda strategy, target: attn.neighborhood(
            q, k, v, KERNEL, score_mod=relative_bias, strategy=strategy,
            target=target), want, targets,
        strategies={"cpu": [None, "reference", "neighborhood"],
                    "vulkan": [None, "neighborhood"]})


if __name__ == "__main__":
    example.main(run)
