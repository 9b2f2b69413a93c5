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

# A whole transformer block as an exporter writes it (TOSA, no attn op):
# attn-opt raises its attention and compiles it, attn-run runs it raised and
# as written, and both are compared with the float64 numpy block.
models="$here/../models"
echo "== examples/models: a GPT-2 decoder block in TOSA, weights from a seeded script"
gpt_inputs=$(/usr/bin/python3 "$models/make_weights.py" gpt "$work/gpt")
"$build/bin/attn-opt" "$models/gpt_block_tosa.mlir" --attn-raise=explain=true -o /dev/null 2>&1 | grep "remark:" || true
"$build/bin/attn-opt" "$models/gpt_block_tosa.mlir" --attn-cpu-pipeline -o "$work/gpt.llvm.mlir"
"$build/bin/attn-opt" "$models/gpt_block_tosa.mlir" --attn-cpu-pipeline=raise=false -o "$work/gpt.as-written.llvm.mlir"
echo "raised (attn-opt --attn-cpu-pipeline), 10 runs:"
"$build/bin/attn-run" "$work/gpt.llvm.mlir" --inputs "$gpt_inputs" --output "$work/gpt-raised.npy" --bench 10
echo "as written (--attn-cpu-pipeline=raise=false), 10 runs:"
"$build/bin/attn-run" "$work/gpt.as-written.llvm.mlir" --inputs "$gpt_inputs" --output "$work/gpt-as-written.npy" --bench 10
/usr/bin/python3 "$models/check_model.py" gpt "$work/gpt" "$work/gpt-raised.npy" "$work/gpt-as-written.npy"
