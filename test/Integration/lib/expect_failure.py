#!/usr/bin/env python3
"""Runs a command that must fail within a bounded time, and summarizes it.

  expect_failure.py SECONDS -- COMMAND...

Prints `exit: nonzero`, `exit: zero` or `exit: timeout after SECONDS s`
(the command is then killed), then each line of its output that starts
with "attn-run: error:" and `attn-run error lines: N`. For FileCheck: a
failure must end the run (no hang) with one clear line.
"""

import subprocess
import sys


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    seconds = float(argv[0])
    command = argv[sep + 1:]
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=seconds, start_new_session=True)
    except subprocess.TimeoutExpired:
        print(f"exit: timeout after {seconds:g} s")
        return 0
    print("exit: " + ("zero" if proc.returncode == 0 else "nonzero"))
    lines = [l for l in (proc.stdout + proc.stderr).splitlines()
             if l.startswith("attn-run: error:")]
    for line in lines:
        print(line)
    print(f"attn-run error lines: {len(lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
