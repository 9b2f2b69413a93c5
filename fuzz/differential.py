#!/usr/bin/env python3
"""Random differential testing of attn-run against the float64 oracle.

  differential.py attention|neighborhood [--seed S] [--count N]
      [--attn-run build/bin/attn-run] [--failures DIR] [--data MODE]

Each case is a random op (shapes, GQA, dtypes, causal / window / sinks,
softcap, every score kind, masks as arguments or constants, biases; or a
1-D/2-D/3-D neighborhood with kernel, dilation, stride and causal axes) on a
random strategy with random parameters (reference, tiled, split_kv,
block_sparse with constant and runtime masks, neighborhood). attn-run runs
it and test/Integration/lib/attn_numpy.py computes it in float64; the
outputs must agree, NaN for NaN. With finite inputs no output may be NaN.
Data modes: normal, large (scores that overflow a naive exp), equal (all
scores of a row equal), dominant (one key far above the others), f16max
(values near the f16 limit); --data mixed (default) draws one per case.

Failing cases are copied to --failures (default ./differential-failures).
Prints one summary line: cases, failures, NaN outputs from finite inputs.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "Integration", "lib"))
import attn_numpy  # noqa: E402

MODES = ["normal", "large", "equal", "dominant", "f16max"]


def to_bf16_bits(x):
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bits(x):
    if x.dtype == np.uint16:
        return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return x.astype(np.float64)


def make(rng, shape, dtype, role, mode, nonneg=False):
    """Random input `role` (q, k, v, bias) in `mode`, stored as `dtype`."""
    x = rng.standard_normal(shape)
    if nonneg:
        x = np.abs(x)
    if mode == "large" and role != "v":
        x *= 30.0
    elif mode == "equal" and role == "k":
        x = np.broadcast_to(0.5 + 0.01 * np.arange(shape[-1]), shape).copy()
    elif mode == "dominant" and role == "k":
        x[..., 3::7, :] = 40.0
    elif mode == "dominant" and role == "q":
        x = np.abs(x) + 0.5
    elif mode == "f16max":
        if role == "v":
            x = np.sign(x) * (60000.0 + 5000.0 * rng.random(shape))
        elif role in ("q", "k"):
            x *= 200.0
    if dtype == "f32":
        return x.astype(np.float32)
    if dtype == "f16":
        return x.astype(np.float16)
    return to_bf16_bits(x)


def ttype(shape, elem):
    return "tensor<" + "x".join(str(s) for s in shape) + "x" + elem + ">"


def mask_literal(m):
    text = np.array2string(m.astype(int), separator=", ", threshold=10**9)
    return text.replace("1", "true").replace("0", "false").replace("\n", "")


def attention_case(r, it, mode):
    """One random attn.attention case: (mlir, inputs, expected, strategy)."""
    b = r.choice([1, 2])
    hkv = r.choice([1, 2, 3])
    hq = hkv * r.choice([1, 2, 4])
    lq = r.choice([1, 2, 3, 5, 7, 16, 33, 64, 65, 130])
    lk = r.choice([1, 2, 5, 16, 31, 64, 100, 129, 200])
    d = r.choice([1, 3, 8, 16, 32])
    dv = r.choice([1, 5, 16, 24])
    dtype = r.choice(["f32"] * 4 + ["f16", "bf16"])
    if mode == "f16max":
        dtype = r.choice(["f16", "f32"])
    causal = r.random() < 0.4
    window, sinks = None, 0
    if r.random() < 0.4:
        window = (r.choice([None, 0, 1, 3, 10]), r.choice([None, 0, 2, 5]))
        if window == (None, None):
            window = (2, None)
        if r.random() < 0.5:
            sinks = r.choice([1, 2, 7])
    score = r.choice(["softmax"] * 4 + ["softplus", "taylor2", "identity",
                                        "elu1", "relu"])
    kernel_score = score in ("taylor2", "identity", "elu1", "relu")
    normalize = not (kernel_score and r.random() < 0.3)
    feature_product = score in ("elu1", "relu")
    softcap = r.choice([None, None, 5.0]) if not feature_product else None
    use_mask = r.random() < 0.35
    use_bias = r.random() < 0.2 and not feature_product
    strategy = r.choice([
        "reference", "tiled", "split_kv",
        '#attn.strategy<"tiled", {block_q = %d, block_k = 16, micro_q = %d}>'
        % (r.randint(1, 9), r.randint(1, 6)),
        '#attn.strategy<"split_kv", {splits = %d, block_k = 16, micro_q = %d}>'
        % (r.randint(1, 9), r.randint(1, 6))])
    const_mask = False
    if use_mask and r.random() < 0.6:
        strategy = r.choice([
            "block_sparse",
            '#attn.strategy<"block_sparse", {block_q = %d, block_k = %d, '
            'micro_q = %d}>' % (r.randint(1, 70), r.choice([16, 64]),
                                r.randint(1, 6))])
        const_mask = r.random() < 0.5

    attrs = []
    if causal:
        attrs.append("causal")
    if window:
        parts = []
        if window[0] is not None:
            parts.append(f"left = {window[0]}")
        if window[1] is not None:
            parts.append(f"right = {window[1]}")
        attrs.append("window = #attn.window<" + ", ".join(parts) + ">")
        if sinks:
            attrs.append(f"sinks = {sinks} : i64")
    if softcap:
        attrs.append(f"softcap = {softcap} : f32")
    if kernel_score:
        attrs.append(f"score = #attn.score<kernel<{score}>"
                     + ("" if normalize else ", normalize = false") + ">")
    else:
        attrs.append(f"score = #attn.score<{score}>")
    attrs.append("scale = 0.3 : f32")

    rng = np.random.default_rng(it)
    nonneg = score == "identity"  # keeps normalizers away from zero
    q = make(rng, (b, hq, lq, d), dtype, "q", mode, nonneg)
    k = make(rng, (b, hkv, lk, d), dtype, "k", mode, nonneg)
    v = make(rng, (b, hkv, lk, dv), dtype, "v", mode, nonneg)
    mb, mh = r.choice([1, b]), r.choice([1, hq])
    mask = bias = None
    if use_mask:
        kind = r.choice(["random", "tiles", "rows"])
        if kind == "random":
            mask = rng.random((mb, mh, lq, lk)) < r.choice([0.05, 0.5, 0.95])
        elif kind == "tiles":  # whole 16- or 64-key tiles on or off
            tile = r.choice([16, 64])
            on = rng.random((mb, mh, lq, (lk + tile - 1) // tile)) < 0.4
            mask = np.repeat(on, tile, axis=3)[..., :lk]
        else:  # fully masked rows
            mask = rng.random((mb, mh, lq, lk)) < 0.7
            mask[..., ::3, :] = False
    if use_bias:
        bias = make(rng, (mb, mh, lq, lk), "f32", "bias", mode, nonneg)

    elem = dtype
    qt, kt = ttype(q.shape, elem), ttype(k.shape, elem)
    vt, ot = ttype(v.shape, elem), ttype((b, hq, lq, dv), elem)
    mt, bt = ttype((mb, mh, lq, lk), "i1"), ttype((mb, mh, lq, lk), "f32")
    args = f"%q: {qt}, %k: {kt}, %v: {vt}"
    inputs = {"q": q, "k": k, "v": v}
    if use_mask and not const_mask:
        args += f", %m: {mt}"
        inputs["m"] = mask
    if use_bias:
        args += f", %b: {bt}"
        inputs["b"] = bias
    mdef = (f"  %m = arith.constant dense<{mask_literal(mask)}> : {mt}\n"
            if const_mask else "")
    extra = (f" mask(%m : {mt})" if use_mask else "") + \
        (f" bias(%b : {bt})" if use_bias else "")
    mlir = (f"func.func @main({args}) -> {ot} {{\n{mdef}"
            f"  %i = tensor.empty() : {ot}\n"
            f"  %o = attn.attention ins(%q, %k, %v : {qt}, {kt}, {vt}){extra} "
            f"outs(%i : {ot}) {{{', '.join(attrs)}}} -> {ot}\n"
            f"  return %o : {ot}\n}}\n")
    sc, fe = (score, None) if not kernel_score else ("kernel", score)
    expected = attn_numpy.attention(
        from_bits(q), from_bits(k), from_bits(v), scale=0.3, causal=causal,
        window=window, sinks=sinks, softcap=softcap, score=sc, feature=fe,
        normalize=normalize, mask=mask, bias=bias)
    describe = (f"attention {strategy} {attrs} B={b} Hq={hq} Hkv={hkv} "
                f"Lq={lq} Lk={lk} D={d} Dv={dv} {dtype} mask={use_mask}"
                f"{'(const)' if const_mask else ''} bias={use_bias}")
    return mlir, inputs, expected, strategy, dtype, describe


def neighborhood_case(r, it, mode):
    rank = r.choice([1, 2, 3])
    shape = [r.randint(3, 12 if rank < 3 else 6) for _ in range(rank)]
    kernel, dil, stride, causal = [], [], [], []
    for n in shape:
        k = r.randint(1, n)
        kernel.append(k)
        dil.append(r.randint(1, max(1, n // k)))
        stride.append(r.randint(1, k))
        causal.append(r.random() < 0.3)
    b, hkv = r.choice([1, 2]), r.choice([1, 2])
    hq = hkv * r.choice([1, 2])
    d, dv = r.choice([4, 16, 20]), r.choice([4, 16, 24])
    dtype = r.choice(["f32"] * 4 + ["f16", "bf16"])
    if mode == "f16max":
        dtype = r.choice(["f16", "f32"])
    tile = r.choice([1, 2, 3, 5, 8])
    strategy = r.choice([
        "neighborhood", f'#attn.strategy<"neighborhood", {{tile = {tile}}}>',
        "tiled", "reference",
        f'#attn.strategy<"tiled", {{block_q = {tile * 3}, block_k = 16, '
        'micro_q = 3}>'])
    sp = list(shape)
    rng = np.random.default_rng(it)
    q = make(rng, (b, hq, *sp, d), dtype, "q", mode)
    k = make(rng, (b, hkv, *sp, d), dtype, "k", mode)
    v = make(rng, (b, hkv, *sp, dv), dtype, "v", mode)
    qt, kt = ttype(q.shape, dtype), ttype(k.shape, dtype)
    vt, ot = ttype(v.shape, dtype), ttype((b, hq, *sp, dv), dtype)
    flags = ", ".join("true" if c else "false" for c in causal)
    attrs = (f"kernel = {kernel}, dilation = {dil}, stride = {stride}, "
             f"causal = [{flags}]")
    mlir = (f"func.func @main(%q: {qt}, %k: {kt}, %v: {vt}) -> {ot} {{\n"
            f"  %i = tensor.empty() : {ot}\n"
            f"  %o = attn.neighborhood ins(%q, %k, %v : {qt}, {kt}, {vt}) "
            f"outs(%i : {ot}) {{{attrs}}} -> {ot}\n  return %o : {ot}\n}}\n")
    expected = attn_numpy.neighborhood(from_bits(q), from_bits(k),
                                       from_bits(v), kernel, dil, stride,
                                       causal)
    describe = (f"neighborhood {strategy} {attrs} shape={shape} B={b} Hq={hq} "
                f"Hkv={hkv} D={d} Dv={dv} {dtype}")
    return mlir, {"q": q, "k": k, "v": v}, expected, strategy, dtype, describe


def tolerance(dtype, mode, expected):
    """Max-norm tolerance: output rounding, and softmax's conditioning when
    the scores are huge (rounding in a score changes the weights)."""
    rel = {"f32": 2e-4, "f16": 4e-3, "bf16": 2e-2}[dtype]
    if mode == "large":
        rel = max(rel, 4e-3)
    if mode == "f16max":
        rel = max(rel, 1e-1)
    finite = expected[np.isfinite(expected)]
    return rel * (1.0 + (np.abs(finite).max() if finite.size else 0.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["attention", "neighborhood"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--attn-run",
                        default=os.path.join(ROOT, "build", "bin", "attn-run"))
    parser.add_argument("--failures", default="differential-failures")
    parser.add_argument("--data", default="mixed", choices=["mixed"] + MODES)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    r = random.Random(args.seed)
    cases = failures = nan_from_finite = 0
    work = tempfile.mkdtemp(prefix="attn-differential-")
    try:
        for n in range(args.count):
            it = args.seed * 1000003 + n
            mode = r.choice(MODES) if args.data == "mixed" else args.data
            make_case = attention_case if args.kind == "attention" \
                else neighborhood_case
            mlir, inputs, want, strategy, dtype, describe = make_case(
                r, it, mode)
            with open(os.path.join(work, "case.mlir"), "w") as f:
                f.write(mlir)
            files = []
            for name, array in inputs.items():
                path = os.path.join(work, name + ".npy")
                np.save(path, array)
                files.append(path)
            out = os.path.join(work, "out.npy")
            if os.path.exists(out):
                os.remove(out)
            proc = subprocess.run(
                [args.attn_run, os.path.join(work, "case.mlir"),
                 "--inputs", ",".join(files), "--output", out,
                 "--attn-strategy=" + strategy, "--threads",
                 str(args.threads)], capture_output=True, text=True)
            cases += 1
            problem = None
            if proc.returncode != 0:
                problem = "attn-run failed: " + proc.stderr.strip()[:400]
            else:
                got = from_bits(np.load(out))
                finite_in = all(np.isfinite(from_bits(a)).all()
                                for k_, a in inputs.items() if k_ != "m")
                if finite_in and np.isnan(got).any():
                    nan_from_finite += 1
                    problem = "NaN output from finite inputs"
                elif (np.isnan(got) != np.isnan(want)).any():
                    problem = "NaN positions differ from the oracle"
                else:
                    ok = ~np.isnan(want)
                    err = np.abs(got[ok] - want[ok])
                    err = float(err.max()) if err.size else 0.0
                    tol = tolerance(dtype, mode, want)
                    if not err <= tol:
                        problem = f"max error {err:.3e} > {tol:.3e}"
            if args.verbose or problem:
                print(f"case {it} [{mode}] {describe}: {problem or 'ok'}",
                      flush=True)
            if problem:
                failures += 1
                keep = os.path.join(args.failures, f"case{it}")
                os.makedirs(keep, exist_ok=True)
                for name in os.listdir(work):
                    shutil.copy(os.path.join(work, name), keep)
                with open(os.path.join(keep, "README"), "w") as f:
                    f.write(f"[{mode}] {describe}\n{problem}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.kind}: cases={cases} failures={failures} "
          f"nan_outputs_from_finite_inputs={nan_from_finite}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
