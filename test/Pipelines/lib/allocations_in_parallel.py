"""Counts heap allocations inside OpenMP parallel regions of lowered IR.

Usage: allocations_in_parallel.py ATTN_OPT FILE.mlir... -- STRATEGY...

Lowers each file with attn-cpu-pipeline (and --attn-strategy=S for each
strategy that applies; "" is the default selection) and prints, per file
and strategy, the calls of _mlir_memref_to_llvm_(aligned_)alloc that sit
inside an omp.parallel region, then "total N". The runtime can turn a failed
allocation into an error return only outside parallel regions
(CpuRuntime.h, attnCallGuarded), so attn's pipelines must keep heap
allocations out of them.
"""

import subprocess
import sys


def count(text):
    open_regions = []  # indentation of each open omp.parallel
    found = 0
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("}") and open_regions and \
                indent == open_regions[-1]:
            open_regions.pop()
        if "omp.parallel" in stripped and stripped.endswith("{"):
            open_regions.append(indent)
        if open_regions and stripped.find("llvm.call @_mlir_memref_to_llvm_") \
                >= 0 and "alloc" in stripped and "free" not in stripped:
            found += 1
    return found


def main():
    separator = sys.argv.index("--")
    attn_opt, files = sys.argv[1], sys.argv[2:separator]
    strategies = sys.argv[separator + 1:]
    total = lowered = 0
    for path in files:
        for strategy in strategies:
            command = [attn_opt, path,
                       "--attn-cpu-pipeline=threads=2 vector-width=256"]
            if strategy != "default":
                command.append("--attn-strategy=" + strategy)
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                continue  # the strategy does not apply to this op
            lowered += 1
            n = count(result.stdout)
            if n:
                print(f"{path} {strategy}: {n} allocations in parallel "
                      f"regions")
            total += n
    print(f"lowered {lowered} total {total}")


if __name__ == "__main__":
    main()
