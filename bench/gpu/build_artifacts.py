#!/usr/bin/env python3
"""Builds, on a machine without a GPU, everything the H200 needs to check and
benchmark attn's GPU code (bench/gpu/device_run.py runs it there):

  build_artifacts.py [--out build/gpu-artifacts] [--chip sm_90] [--only RE]

- cases/: every integration case of test/Integration (the inputs its RUN
  lines generate, here, with check_case.py gen) and, for each
  run_strategies line, one AOT library per strategy of run_strategies.py
  (`attn-aot --target cuda`), plus tiled with tensor cores for files with
  f16 inputs; a plain `attn-run ... --output` / `check_case.py` pair gets the
  selected strategy. manifest.json lists each library with its entry,
  inputs and the check_case.py arguments that judge its output.
- bench/: f16 B=4 H=32 L=4096 D=128, causal and not, with tiled on SIMT
  and on tensor cores (inputs are generated on the device).
Everything is a self-contained .so (cubin embedded, runtime linked in), so
the device needs neither LLVM nor an attn build. Paths in the manifest are
relative to the repository root, where the device command runs."""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
INTEGRATION = os.path.join(ROOT, "test", "Integration")
sys.path.insert(0, os.path.join(INTEGRATION, "lib"))
from run_strategies import GPU_STRATEGIES, STRATEGIES  # noqa: E402

BENCH_SHAPE = dict(b=4, h=32, l=4096, d=128)


def bench_mlir(b, h, l, d, causal):
    t = f"tensor<{b}x{h}x{l}x{d}xf16>"
    attrs = " {causal}" if causal else ""
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %init = tensor.empty() : {t}\n"
            f"  %o = attn.attention ins(%q, %k, %v : {t}, {t}, {t}) "
            f"outs(%init : {t}){attrs} -> {t}\n"
            f"  return %o : {t}\n}}\n")


class Builder:
    def __init__(self, aot, out, chip, target):
        self.aot, self.out, self.chip, self.target = aot, out, chip, target
        self.failures = []
        self.built = {}

    def compile(self, mlir, lib, options):
        """attn-aot for CUDA; returns the library path (relative to the
        root), None when the strategy cannot compute the file's ops."""
        key = (mlir, tuple(options))
        if key in self.built:
            return self.built[key]
        target = ["--target", "cuda", "--gpu-chip", self.chip] \
            if self.target == "cuda" else ["--target", "cpu"]
        options = [o for o in options
                   if self.target == "cuda" or o != "--tensor-cores"]
        proc = subprocess.run([self.aot, mlir, "-o", lib] + target + options,
                              capture_output=True, text=True)
        result = None
        if proc.returncode == 0:
            result = os.path.relpath(lib, ROOT)
        elif "cannot compute this op" not in proc.stderr:
            self.failures.append(f"{os.path.basename(mlir)} {options}: "
                                 f"{proc.stderr.strip()[:400]}")
        self.built[key] = result
        return result


def substitute(line, path, tmp):
    return (line.replace("%python", sys.executable)
            .replace("%S", INTEGRATION).replace("%s", path)
            .replace("%t", tmp))


def case_entries(builder, path):
    """Generates the inputs of one integration file and compiles its
    libraries; returns manifest rows."""
    text = open(path).read()
    base = os.path.splitext(os.path.basename(path))[0]
    tmp = os.path.join(builder.out, "cases", base)
    f16 = "f16" in text
    rows = []
    runs = re.findall(r"^// RUN: (.*)$", text, re.M)
    pending = {}  # attn-run --output path -> (entry, inputs)
    for raw in runs:
        line = substitute(raw, path, tmp)
        if line.startswith("rm -rf"):
            continue
        if "check_case.py gen" in line:
            subprocess.run(line, shell=True, check=True)
            continue
        if "np.save" in line or line.startswith("cp "):
            # Inputs made otherwise; a line that fails here (say it reads
            # an output of attn-run) only matters if a case needs its file.
            subprocess.run(line, shell=True, capture_output=True)
            continue
        args = shlex.split(line.split("|")[0])
        opt = lambda name, default=None: (
            args[args.index(name) + 1] if name in args else default)
        if "run_strategies.py" in line:
            # run_strategies.py ATTN_RUN FILE DIR [run args] -- [check args]
            sep = args.index("--")
            at = [i for i, a in enumerate(args)
                  if a.endswith("run_strategies.py")][0]
            work, run_args, check = args[at + 3], args[at + 4:sep], \
                args[sep + 1:]
            entry = (run_args[run_args.index("--entry") + 1]
                     if "--entry" in run_args else "main")
            inputs = run_args[run_args.index("--inputs") + 1].split(",")
            strategies = (GPU_STRATEGIES if builder.target != "cpu"
                          else STRATEGIES)
            variants = [(label, ["--attn-strategy=" + s])
                        for label, s in strategies]
            if f16:
                variants.append(("tiled-mma",
                                 ["--attn-strategy=tiled", "--tensor-cores"]))
            for label, options in variants:
                lib = builder.compile(
                    path, os.path.join(tmp, f"{label}.so"), options)
                if lib:
                    rows.append(dict(case=base, entry=entry, label=label,
                                     lib=lib, dir=os.path.relpath(work, ROOT),
                                     inputs=[os.path.relpath(i, ROOT)
                                             for i in inputs],
                                     check=check))
        elif args and args[0] == "attn-run" and "--output" in args:
            pending[opt("--output")] = (opt("--entry", "main"),
                                        opt("--inputs", "").split(","))
        elif "check_case.py" in line and len(args) > 4 and \
                args[3] in pending:
            entry, inputs = pending[args[3]]
            lib = builder.compile(
                path, os.path.join(tmp, "selected.so"), [])
            if lib:
                rows.append(dict(case=base, entry=entry, label="selected",
                                 lib=lib, dir=os.path.relpath(args[2], ROOT),
                                 inputs=[os.path.relpath(i, ROOT)
                                         for i in inputs],
                                 check=[args[1]] + args[4:]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build",
                                                      "gpu-artifacts"))
    parser.add_argument("--aot", default=os.path.join(ROOT, "build", "bin",
                                                      "attn-aot"))
    parser.add_argument("--chip", default="sm_90")
    parser.add_argument("--target", default="cuda", choices=["cuda", "cpu"],
                        help="cpu: the same libraries for the CPU, to try "
                             "device_run.py --cpu here")
    parser.add_argument("--only", help="regex of integration files to take")
    parser.add_argument("--no-bench", action="store_true")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    subprocess.run(["rm", "-rf", out], check=True)
    os.makedirs(os.path.join(out, "cases"))
    builder = Builder(args.aot, out, args.chip, args.target)

    cases = []
    for path in sorted(os.listdir(INTEGRATION)):
        if not path.endswith(".mlir") or \
                (args.only and not re.search(args.only, path)):
            continue
        cases += case_entries(builder, os.path.join(INTEGRATION, path))

    bench = []
    if not args.no_bench:
        os.makedirs(os.path.join(out, "bench"))
        for causal in (False, True):
            name = "causal" if causal else "full"
            mlir = os.path.join(out, "bench", f"{name}.mlir")
            with open(mlir, "w") as f:
                f.write(bench_mlir(causal=causal, **BENCH_SHAPE))
            for label, options in (("tiled", ["--attn-strategy=tiled"]),
                                   ("tiled-mma", ["--attn-strategy=tiled",
                                                  "--tensor-cores"])):
                lib = builder.compile(
                    mlir, os.path.join(out, "bench", f"{name}.{label}.so"),
                    options)
                if lib:
                    bench.append(dict(name=name, causal=causal, label=label,
                                      lib=lib, **BENCH_SHAPE))

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(dict(chip=args.chip, target=args.target, cases=cases, bench=bench), f,
                  indent=1)
    size = sum(os.path.getsize(os.path.join(d, n))
               for d, _, names in os.walk(out) for n in names)
    print(f"{len(cases)} case libraries from "
          f"{len({c['case'] for c in cases})} files, {len(bench)} bench "
          f"libraries, {size / 2**20:.1f} MiB in {os.path.relpath(out, ROOT)}")
    for failure in builder.failures:
        print("FAILED " + failure)
    return 1 if builder.failures else 0


if __name__ == "__main__":
    sys.exit(main())
