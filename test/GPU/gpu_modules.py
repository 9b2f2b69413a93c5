#!/usr/bin/env python3
"""Prints the gpu.module ops of an MLIR dump (e.g. --mlir-print-ir-after
output) and nothing else, so that the kernels two pipelines built can be
compared with diff. Usage: gpu_modules.py FILE"""

import sys


def main():
    lines = open(sys.argv[1]).read().splitlines()
    out, depth, inside = [], 0, False
    for line in lines:
        if not inside and line.lstrip().startswith("gpu.module @"):
            inside, depth = True, 0
        if inside:
            out.append(line)
            depth += line.count("{") - line.count("}")
            if depth == 0:
                inside = False
    if not out:
        print("no gpu.module found", file=sys.stderr)
        return 1
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
