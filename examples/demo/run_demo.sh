#!/usr/bin/env bash
# The README's demo: compile the two-layer model with attn-opt, run it with
# attn-run --check (against the reference strategy), and print error and time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
work="$build/demo"
mkdir -p "$work"
inputs=$(/usr/bin/python3 "$here/make_inputs.py" "$work/inputs")
echo "== attn-opt: explain the strategy choices, then compile to the LLVM dialect"
"$build/bin/attn-opt" "$here/demo.mlir" --attn-explain 2>&1 | grep -A3 "remark:" | grep -v '^\s*%' || true
"$build/bin/attn-opt" "$here/demo.mlir" --attn-cpu-pipeline -o "$work/demo.llvm.mlir"
echo "compiled: $work/demo.llvm.mlir ($(wc -l < "$work/demo.llvm.mlir") lines)"
echo "== attn-run: run, check against the reference strategy, time 10 runs"
"$build/bin/attn-run" "$here/demo.mlir" --entry main --inputs "$inputs" \
  --output "$work/y.npy" --check --bench 10
