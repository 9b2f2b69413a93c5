#!/usr/bin/env python3
"""Runs one integration test under mpirun on 1 to 4 ranks, ring and zigzag.

  run_distributed.py "MPIRUN" ATTN_RUN FILE.mlir DIR --inputs a.npy,... \
      [--ranks 1,2,3,4] [--modes ring,zigzag] -- <check_case.py args>

First runs FILE in one process (attn-run, no MPI) for the single-process
result. Then for each number of ranks and each mode runs
`MPIRUN -np N ATTN_RUN FILE --distribute=MODE ...`, and checks rank 0's
result twice: against the float64 oracle through check_case.py, and
against the single-process result, element by element within f32 rounding
(|a - b| <= 2e-6 + 2e-5 |b|; LSE -inf where the single process has it).
Prints one line per run; any failure fails the test.
"""

import os
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_case  # noqa: E402


def option(args, name, default):
    if name in args:
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def close_to(got, want):
    """Largest difference, and whether every element is within f32 rounding."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf"), False
    same_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    diff = np.where(same_inf, 0.0, np.abs(got - want))
    ok = bool(np.all(diff <= 2e-6 + 2e-5 * np.abs(np.where(same_inf, 0, want))))
    return float(np.max(diff)) if diff.size else 0.0, ok


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    mpirun, attn_run, mlir, work = argv[0], argv[1], argv[2], argv[3]
    run_args, check_args = argv[4:sep], argv[sep + 1:]
    ranks = [int(n) for n in option(run_args, "--ranks", "1,2,3,4").split(",")]
    modes = option(run_args, "--modes", "ring,zigzag").split(",")
    statistics = []
    for i, arg in enumerate(check_args):
        if arg == "--statistics" and i + 1 < len(check_args):
            statistics = check_case.statistics_names(check_args[i + 1])

    def outputs(name):
        out = os.path.join(work, name + ".npy")
        return [out] + check_case.statistics_files(out, statistics)

    single = outputs("single")
    proc = subprocess.run([attn_run, mlir, "--output", ",".join(single)] +
                          run_args, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"single process: FAILED to run: {proc.stderr.strip()[:2000]}")
        return 1
    failures = 0
    for n in ranks:
        for mode in modes:
            label = f"np={n} {mode}"
            files = outputs(f"np{n}-{mode}")
            proc = subprocess.run(
                shlex.split(mpirun) + ["-np", str(n), attn_run, mlir,
                                       "--distribute=" + mode, "--output",
                                       ",".join(files)] + run_args,
                capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                print(f"{label}: FAILED to run: {proc.stderr.strip()[:2000]}")
                failures += 1
                continue
            check = subprocess.run(
                [sys.executable, os.path.join(HERE, "check_case.py"),
                 check_args[0], work, files[0]] + check_args[1:],
                capture_output=True, text=True)
            worst, same = 0.0, True
            for got, want in zip(files, single):
                diff, ok = close_to(np.load(got), np.load(want))
                worst, same = max(worst, diff), same and ok
            status = "ok" if check.returncode == 0 and same else "MISMATCH"
            print(f"{label}: {status} vs_single_process={worst:.2e} "
                  f"{check.stdout.strip()} {check.stderr.strip()}")
            failures += status != "ok"
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
