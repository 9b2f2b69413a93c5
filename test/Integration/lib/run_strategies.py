#!/usr/bin/env python3
"""Runs one integration test under every strategy and checks each result.

  run_strategies.py ATTN_RUN FILE.mlir DIR --inputs a.npy,b.npy -- <check_case.py args>

For each strategy of STRATEGIES (GPU_STRATEGIES for a GPU target; tile sizes
chosen to divide none of the test lengths), runs `attn-run FILE --attn-strategy=S`, and compares the output with
the float64 oracle through check_case.py. A strategy that cannot compute the
op ("cannot compute this op") is reported as skipped; any other failure or
mismatch fails the test. Prints one line per strategy.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_case  # noqa: E402  (the file names of extra results)

STRATEGIES = [
    ("reference", "reference"),
    ("tiled", "tiled"),
    ("tiled-odd", '#attn.strategy<"tiled", {block_q = 18, block_k = 16, micro_q = 3}>'),
    ("tiled-wide", '#attn.strategy<"tiled", {block_q = 30, block_k = 48, micro_q = 5}>'),
    # One row per head, micro-tiles spanning heads (what the cost model
    # picks when many query heads share a KV head).
    ("tiled-rows", '#attn.strategy<"tiled", {block_q = 1, block_k = 16, micro_q = 6}>'),
    ("split_kv", "split_kv"),
    ("split_kv-odd", '#attn.strategy<"split_kv", {splits = 3, block_k = 16, micro_q = 3}>'),
    ("block_sparse", '#attn.strategy<"block_sparse", {block_q = 12, block_k = 16}>'),
    ("neighborhood", '#attn.strategy<"neighborhood", {tile = 5}>'),
    ("linear", '#attn.strategy<"linear", {chunk = 7}>'),
    # The tile op tiled by upstream TilingInterface and lowered through
    # linalg: odd blocks, and splits as partial reductions.
    ("portable", '#attn.strategy<"portable", {block_q = 5, block_k = 7}>'),
    ("portable-splits", '#attn.strategy<"portable", {block_q = 9, block_k = 5, splits = 3}>'),
]

# On a GPU target (--target cuda|vulkan) the CPU micro-kernel's parameters
# (micro_q, tile) are errors: thread blocks and tiles that divide none of
# the test lengths instead.
GPU_STRATEGIES = [
    ("reference", "reference"),
    ("tiled", "tiled"),
    ("tiled-odd", '#attn.strategy<"tiled", {block_q = 18, block_k = 16}>'),
    ("tiled-wide", '#attn.strategy<"tiled", {block_q = 30, block_k = 48}>'),
    ("tiled-rows", '#attn.strategy<"tiled", {block_q = 1, block_k = 16}>'),
    ("split_kv", "split_kv"),
    ("split_kv-odd", '#attn.strategy<"split_kv", {splits = 3, block_k = 16}>'),
    ("block_sparse", '#attn.strategy<"block_sparse", {block_q = 12, block_k = 16}>'),
    ("neighborhood", '#attn.strategy<"neighborhood", {block_q = 20, block_k = 16}>'),
    ("linear", '#attn.strategy<"linear", {chunk = 7}>'),
]


def gpu_target(run_args):
    for i, arg in enumerate(run_args):
        if arg == "--target" and i + 1 < len(run_args):
            return run_args[i + 1] != "cpu"
        if arg.startswith("--target="):
            return arg.split("=", 1)[1] != "cpu"
    return False


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    attn_run, mlir, work = argv[0], argv[1], argv[2]
    run_args, check_args = argv[3:sep], argv[sep + 1:]
    only = os.environ.get("ATTN_STRATEGIES")
    failures = 0
    strategies = GPU_STRATEGIES if gpu_target(run_args) else STRATEGIES
    statistics = []
    for i, arg in enumerate(check_args):
        if arg == "--statistics" and i + 1 < len(check_args):
            statistics = check_case.statistics_names(check_args[i + 1])
        elif arg.startswith("--statistics="):
            statistics = check_case.statistics_names(arg.split("=", 1)[1])
    for label, strategy in strategies:
        if only and label not in only.split(","):
            continue
        out = os.path.join(work, "out-" + label + ".npy")
        # Results after the output (check_case.py --statistics) go to the
        # files check_case.py reads them from.
        outputs = [out] + check_case.statistics_files(out, statistics)
        proc = subprocess.run(
            [attn_run, mlir, "--attn-strategy=" + strategy, "--output",
             ",".join(outputs)] + run_args, capture_output=True, text=True)
        if proc.returncode != 0:
            text = proc.stderr.strip()
            errors = [l for l in text.splitlines() if "error" in l]
            text = "\n".join(errors) if errors else text
            if "cannot compute this op" in text or "unknown forced strategy" in text:
                # The reason alone: what follows "cannot compute this op: ".
                reason = text.splitlines()[0]
                reason = reason.split("cannot compute this op: ", 1)[-1]
                print(f"{label}: skipped ({reason})")
                continue
            print(f"{label}: FAILED to run: {text[:2000]}")
            failures += 1
            continue
        check = subprocess.run(
            [sys.executable, os.path.join(HERE, "check_case.py"),
             check_args[0], work, out] + check_args[1:],
            capture_output=True, text=True)
        status = "ok" if check.returncode == 0 else "MISMATCH"
        print(f"{label}: {status} {check.stdout.strip()} {check.stderr.strip()}")
        failures += check.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
