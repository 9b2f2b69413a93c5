#!/usr/bin/env python3
"""Runs the integration cases on a CUDA device: for each test file of a
folder, executes its RUN lines' input generation, then its run_strategies
line with --target cuda added, and counts the results. Usage:
    run_all_on_device.py ATTN_RUN FOLDER WORKDIR"""

import glob
import os
import re
import shlex
import subprocess
import sys


def main():
    attn_run, folder, work = sys.argv[1:4]
    lib = os.path.join(folder, "lib")
    passed = failed = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.mlir"))):
        text = open(path).read()
        tmp = os.path.join(work, os.path.basename(path))
        runs = re.findall(r"^// RUN: (.*)$", text, re.M)
        ok = True
        for line in runs:
            line = (line.replace("%python", sys.executable)
                    .replace("%S", folder).replace("%s", path)
                    .replace("%t", tmp))
            if "check_case.py gen" in line or line.startswith("rm -rf") or \
               "np.save" in line:
                subprocess.run(line, shell=True, check=False)
            elif "run_strategies.py" in line:
                line = line.replace("attn-run ", attn_run + " ", 1)
                args = shlex.split(line)
                sep = args.index("--")
                args = args[:sep] + ["--target", "cuda"] + args[sep:]
                proc = subprocess.run(args, capture_output=True, text=True)
                print(os.path.basename(path), proc.stdout.strip())
                ok &= proc.returncode == 0
        passed += ok
        failed += not ok
    print(f"device runs: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
