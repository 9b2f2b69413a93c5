#!/usr/bin/env python3
"""Runs the integration cases on a GPU: for each test file of a folder,
executes its RUN lines' input generation, then its run_strategies line with
--target TARGET added (cuda unless --target says otherwise), and counts the
results. Usage:
    run_all_on_device.py ATTN_RUN FOLDER WORKDIR [--target cuda|vulkan]
                         [--jobs N]"""

import concurrent.futures
import glob
import os
import re
import shlex
import subprocess
import sys


def run_case(attn_run, folder, work, target, path):
    """Runs one test file; returns (passed, report)."""
    text = open(path).read()
    tmp = os.path.join(work, os.path.basename(path))
    runs = re.findall(r"^// RUN: (.*)$", text, re.M)
    ok, report = True, []
    for line in runs:
        line = (line.replace("%python", sys.executable)
                .replace("%S", folder).replace("%s", path)
                .replace("%t", tmp))
        if "check_case.py gen" in line or "np.save" in line or \
           line.startswith(("rm -rf", "cp ", "mkdir ")):
            subprocess.run(line, shell=True, check=False)
        elif "run_strategies.py" in line:
            line = line.split("|")[0]  # the FileCheck of its summary
            line = line.replace("attn-run ", attn_run + " ", 1)
            args = shlex.split(line)
            sep = args.index("--")
            args = args[:sep] + ["--target", target] + args[sep:]
            proc = subprocess.run(args, capture_output=True, text=True)
            report.append(f"{os.path.basename(path)} {proc.stdout.strip()} "
                          f"{proc.stderr.strip()}")
            ok &= proc.returncode == 0
    return ok, "\n".join(report)


def main():
    args = sys.argv[1:]
    target, jobs = "cuda", 1
    if "--target" in args:
        at = args.index("--target")
        target = args[at + 1]
        del args[at:at + 2]
    if "--jobs" in args:
        at = args.index("--jobs")
        jobs = int(args[at + 1])
        del args[at:at + 2]
    attn_run, folder, work = args[:3]
    os.makedirs(work, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(folder, "*.mlir")))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(
            lambda p: run_case(attn_run, folder, work, target, p), paths))
    passed = failed = 0
    for ok, report in results:
        print(report)
        passed += ok
        failed += not ok
    print(f"device runs: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
