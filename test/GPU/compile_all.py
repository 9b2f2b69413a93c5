#!/usr/bin/env python3
"""Compiles every .mlir file of a folder with attn-gpu-pipeline to cubin for
each chip given, and reports failures. Usage:
    compile_all.py ATTN_OPT FOLDER CHIP [CHIP...] [--options "k=v ..."]
--options adds pipeline options (for example tensor-cores=true)."""

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
    attn_opt, folder, chips = args[0], args[1], args[2:]
    files = sorted(glob.glob(os.path.join(folder, "*.mlir")))
    failures = 0
    for path in files:
        for chip in chips:
            proc = subprocess.run(
                [attn_opt, path,
                 f"--attn-gpu-pipeline=format=bin chip={chip}{extra}",
                 "-o", os.devnull], capture_output=True, text=True)
            if proc.returncode != 0:
                failures += 1
                print(f"FAILED {os.path.basename(path)} {chip}: "
                      f"{proc.stderr.strip()[:600]}")
    print(f"compiled {len(files)} files for {', '.join(chips)}{extra}"
          + (f", {failures} FAILED" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
