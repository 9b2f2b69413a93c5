#!/usr/bin/env python3
"""Runs every function of a split-input MLIR file twice with attn-run: raised
to attn.attention (the default) and lowered as written (--raise=false), and
requires the same numbers. Used on the attn-raise FileCheck tests, so that
each recognized form is also checked to mean what it meant.

    raise_forms.py ATTN_RUN FILE.mlir WORKDIR [--expect-raised]

Inputs are seeded normal f32 tensors; i1 inputs are random with the first
key always allowed (a fully masked row gives NaN in the written softmax);
i32 and i64 inputs are sorted segment ids of packed documents.
With --expect-raised, each function's compiled IR must have held an attn op
(checked by --check printing a comparison line)."""

import os
import re
import subprocess
import sys

import numpy as np


def arguments(chunk):
    m = re.search(r"func\.func @(\w+)\((.*?)\)\s*->", chunk, re.S)
    name, sig = m.group(1), m.group(2)
    args = []
    for t in re.findall(r"%\w+: tensor<([^>]*)>", sig):
        *dims, elem = t.split("x")
        args.append(([int(d) for d in dims], elem))
    return name, args


def main():
    attn_run, path, work = sys.argv[1:4]
    expect_raised = "--expect-raised" in sys.argv
    os.makedirs(work, exist_ok=True)
    chunks = open(path).read().split("// -----")
    failures = 0
    for index, chunk in enumerate(chunks):
        name, args = arguments(chunk)
        src = os.path.join(work, f"{name}.mlir")
        with open(src, "w") as f:
            f.write(chunk)
        rng = np.random.default_rng(index)
        inputs = []
        for n, (shape, elem) in enumerate(args):
            if elem == "i1":
                x = rng.random(shape) < 0.6
                x[..., 0] = True
            elif elem in ("i32", "i64"):
                # Segment ids of packed documents: sorted, a few values.
                x = np.sort(rng.integers(0, 3, shape), axis=-1)
                x = x.astype(np.int32 if elem == "i32" else np.int64)
            else:
                x = rng.standard_normal(shape).astype(np.float32)
            p = os.path.join(work, f"{name}-in{n}.npy")
            np.save(p, x)
            inputs.append(p)
        outs = {}
        for raise_ in ("true", "false"):
            out = os.path.join(work, f"{name}-{raise_}.npy")
            cmd = [attn_run, src, "--entry", name, "--inputs", ",".join(inputs),
                   "--output", out, "--raise=" + raise_]
            if raise_ == "true" and expect_raised:
                cmd.append("--check")
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: attn-run --raise={raise_} failed:\n{r.stderr}")
                failures += 1
                break
            if raise_ == "true" and expect_raised and "check:" not in r.stdout:
                print(f"{name}: nothing was raised")
                failures += 1
            outs[raise_] = np.load(out).astype(np.float64)
        if len(outs) != 2:
            continue
        a, b = outs["true"], outs["false"]
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        ok = np.isfinite(a).all() and np.isfinite(b).all() and err <= 1e-4 * (1 + np.max(np.abs(b)))
        print(f"{name}: raised vs as written max_abs_err={err:.3g} {'PASS' if ok else 'FAIL'}")
        failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
