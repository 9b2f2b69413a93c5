#!/usr/bin/env python3
"""Compiles every .mlir file of a folder with attn-gpu-pipeline to cubin for
each chip given, and reports failures. Usage:
    compile_all.py ATTN_OPT FOLDER CHIP [CHIP...] [--options "k=v ..."]
                   [--strategy NAME]
--options adds pipeline options (for example tensor-cores=true); --strategy
forces a strategy on every op that names none, and counts the files it
cannot compute (an op outside its reach) apart from failures."""

import glob
import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    extra = ""
    if "--options" in args:
        at = args.index("--options")
        extra = " " + args[at + 1]
        del args[at:at + 2]
    forced = []
    if "--strategy" in args:
        at = args.index("--strategy")
        forced = [f"--attn-strategy={args[at + 1]}"]
        del args[at:at + 2]
    attn_opt, folder, chips = args[0], args[1], args[2:]
    files = sorted(glob.glob(os.path.join(folder, "*.mlir")))
    failures = 0
    outside = set()
    for path in files:
        for chip in chips:
            proc = subprocess.run(
                [attn_opt, path] + forced +
                [f"--attn-gpu-pipeline=format=bin chip={chip}{extra}",
                 "-o", os.devnull], capture_output=True, text=True)
            if forced and proc.returncode != 0 and \
                    "cannot compute this op" in proc.stderr:
                outside.add(path)
            elif proc.returncode != 0:
                failures += 1
                print(f"FAILED {os.path.basename(path)} {chip}: "
                      f"{proc.stderr.strip()[:600]}")
    label = f"{', '.join(chips)}{extra}"
    if forced:
        label += f" {forced[0]} ({len(outside)} files outside its reach)"
    print(f"compiled {len(files) - len(outside)} files for {label}"
          + (f", {failures} FAILED" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
