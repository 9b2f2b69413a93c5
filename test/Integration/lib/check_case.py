#!/usr/bin/env python3
"""Integration-test driver: make inputs, or compare attn-run's output with
the float64 oracle in attn_numpy.py.

  check_case.py gen DIR name=SHAPE:DTYPE[:KIND] ...
      writes DIR/name.npy with seeded random data. DTYPE f32|f16|bf16|bool.
      KIND: normal (default), mask (random bools with some fully masked
      rows), big (scores that overflow a naive exp).
  check_case.py attention DIR OUT.npy [--scale S] [--causal] [--window L,R]
      [--sinks N] [--softcap C] [--score softmax|softplus|elu1|relu|taylor2|
      identity] [--no-normalize] [--mask] [--bias] [--atol A] [--rtol R]
      [--kappa K]
  check_case.py neighborhood DIR OUT.npy --kernel 3,3 [--dilation 1,2]
      [--stride 1,1] [--causal-axes 0,1] [--scale S]
Inputs are read from DIR/{q,k,v,mask,bias}.npy. Exits 1 on mismatch, that is
where |got - want| > atol + rtol |want| + K cond, cond being each element's
condition number from attn_numpy.attention(magnitude=True) (K = 0 unless
--kappa: kernel weights that cancel, or huge unnormalized sums).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attn_numpy  # noqa: E402


def to_bf16_bits(x):
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def from_npy(path):
    """Loads an array; uint16 arrays are bfloat16 bit patterns."""
    x = np.load(path)
    if x.dtype == np.uint16:
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return x


def gen(args):
    os.makedirs(args.dir, exist_ok=True)
    for index, spec in enumerate(args.specs):
        name, rest = spec.split("=", 1)
        parts = rest.split(":")
        shape = [int(s) for s in parts[0].split("x")]
        dtype = parts[1] if len(parts) > 1 else "f32"
        kind = parts[2] if len(parts) > 2 else "normal"
        rng = np.random.default_rng(1000 + index + 17 * len(name))
        if dtype == "bool":
            x = rng.random(shape) < 0.7
            if kind == "mask" and shape[-2] > 1:
                x[..., 0, :] = False  # a fully masked row
        else:
            x = rng.standard_normal(shape)
            if kind == "big":
                x *= 30.0
            if dtype == "f32":
                x = x.astype(np.float32)
            elif dtype == "f16":
                x = x.astype(np.float16)
            elif dtype == "bf16":
                x = to_bf16_bits(x)
            else:
                raise SystemExit("unknown dtype " + dtype)
        np.save(os.path.join(args.dir, name + ".npy"), x)
    return 0


def ints(text):
    return [int(t) for t in text.split(",")] if text else None


def compare(got, want, atol, rtol, label, slack=None):
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        print(f"{label}: shape {got.shape} != expected {want.shape}")
        return 1
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    if (nan_got != nan_want).any():
        print(f"{label}: NaN at {np.argwhere(nan_got != nan_want)[:5]}")
        return 1
    finite = ~nan_want
    err = np.abs(got[finite] - want[finite])
    bound = atol + rtol * np.abs(want[finite])
    if slack is not None:
        bound = bound + slack[finite]
    max_err = float(err.max()) if err.size else 0.0
    bad = int((err > bound).sum())
    print(f"{label}: max_abs_err={max_err:.3e} elements={got.size} "
          f"outside_tolerance={bad}")
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("dir")
    g.add_argument("specs", nargs="+")
    for name in ("attention", "neighborhood"):
        p = sub.add_parser(name)
        p.add_argument("dir")
        p.add_argument("output")
        p.add_argument("--scale", type=float)
        p.add_argument("--atol", type=float)
        p.add_argument("--rtol", type=float)
        p.add_argument("--kappa", type=float, default=0.0)
        if name == "attention":
            p.add_argument("--causal", action="store_true")
            p.add_argument("--window")
            p.add_argument("--sinks", type=int, default=0)
            p.add_argument("--softcap", type=float)
            p.add_argument("--score", default="softmax")
            p.add_argument("--no-normalize", action="store_true")
            p.add_argument("--mask", action="store_true")
            p.add_argument("--bias", action="store_true")
        else:
            p.add_argument("--kernel", required=True)
            p.add_argument("--dilation")
            p.add_argument("--stride")
            p.add_argument("--causal-axes")
    args = parser.parse_args()
    if args.cmd == "gen":
        return gen(args)

    load = lambda n: from_npy(os.path.join(args.dir, n + ".npy"))
    q, k, v = load("q"), load("k"), load("v")
    low_precision = np.load(os.path.join(args.dir, "q.npy")).dtype != np.float32
    atol = args.atol if args.atol is not None else (2e-2 if low_precision else 2e-5)
    rtol = args.rtol if args.rtol is not None else (2e-2 if low_precision else 2e-4)
    slack = None
    if args.cmd == "attention":
        window = None
        if args.window:
            left, right = args.window.split(",")
            window = (None if left == "-" else int(left),
                      None if right == "-" else int(right))
        score, feature = args.score, None
        if score not in ("softmax", "softplus"):
            score, feature = "kernel", args.score
        options = dict(
            scale=args.scale, causal=args.causal, window=window,
            sinks=args.sinks, softcap=args.softcap, score=score,
            feature=feature, normalize=not args.no_normalize,
            mask=load("mask") if args.mask else None,
            bias=load("bias") if args.bias else None)
        want = attn_numpy.attention(q, k, v, **options)
        if args.kappa:
            slack = args.kappa * attn_numpy.attention(q, k, v, magnitude=True,
                                                      **options)
    else:
        causal = [bool(c) for c in ints(args.causal_axes)] \
            if args.causal_axes else None
        want = attn_numpy.neighborhood(
            q, k, v, ints(args.kernel), ints(args.dilation),
            ints(args.stride), causal, scale=args.scale)
    return compare(from_npy(args.output), want, atol, rtol, args.cmd, slack)


if __name__ == "__main__":
    sys.exit(main())
