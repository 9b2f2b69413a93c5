#!/usr/bin/env bash
# attn's tiled CPU kernel beside the hand-written AVX-512 FlashAttention
# kernel (the team's practical ceiling, fa_ceiling.cpp), in one run: f32,
# B=1 H=8 D=64, L=4096 (or $L), causal and not, 2 threads (or $THREADS).
# Prints each one's median time and GFLOP/s and the ratio attn / ceiling.
#
#   bench/ceiling.sh [path/to/fa_ceiling.cpp]
#
# With BEFORE=path/to/another/attn-run (say, a copy built from an earlier
# commit), that build runs beside the two as well, so that a change to the
# kernels is measured before and after in one run.
#
# The source defaults to ../shared/baselines/fa_ceiling.cpp beside the
# checkout. It is built with clang++-22 (Debian clang-22), as the ceiling's
# figures were. Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
source=${1:-../shared/baselines/fa_ceiling.cpp}
L=${L:-4096}
THREADS=${THREADS:-2}
clang=/usr/lib/llvm-22/bin/clang++
[ -f "$source" ] || { echo "ceiling.sh: error: no $source (give fa_ceiling.cpp's path)" >&2; exit 1; }
[ -x "$clang" ] || { echo "ceiling.sh: error: $clang not found (apt-get install clang-22)" >&2; exit 1; }
[ -x build/bin/attn-run ] || { echo "ceiling.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
BEFORE=${BEFORE:-}
[ -z "$BEFORE" ] || [ -x "$BEFORE" ] || { echo "ceiling.sh: error: BEFORE=$BEFORE is not an executable attn-run" >&2; exit 1; }

work=build/bench/ceiling
mkdir -p "$work"
"$clang" -O3 -march=native -fopenmp "$source" -o "$work/fa_ceiling" -lm
/usr/bin/python3 test/Integration/lib/check_case.py gen "$work/in" \
  "q=1x8x${L}x64:f32" "k=1x8x${L}x64:f32" "v=1x8x${L}x64:f32" >/dev/null

for causal in 0 1; do
  attr=""
  [ "$causal" = 1 ] && attr="{causal}"
  type="tensor<1x8x${L}x64xf32>"
  cat >"$work/attention.mlir" <<EOF
func.func @main(%q: $type, %k: $type, %v: $type) -> $type {
  %init = tensor.empty() : $type
  %o = attn.attention ins(%q, %k, %v : $type, $type, $type) outs(%init : $type) $attr -> $type
  return %o : $type
}
EOF
  ceiling=$(OMP_NUM_THREADS=$THREADS "$work/fa_ceiling" "$L" "$causal" 5 0 | tail -1)
  ceilingGflops=$(sed -n 's/.*ms  *\([0-9.]*\) GFLOP\/s.*/\1/p' <<<"$ceiling" | head -1)
  runAttn() {
    OMP_NUM_THREADS=$THREADS "$1" "$work/attention.mlir" --entry main \
      --inputs "$work/in/q.npy,$work/in/k.npy,$work/in/v.npy" --threads "$THREADS" --bench 5 | grep median
  }
  gflopsOf() { sed -n 's/.*gflops=\([0-9.]*\).*/\1/p' <<<"$1"; }
  attn=$(runAttn build/bin/attn-run)
  echo "L=$L causal=$causal"
  echo "  hand-written: $ceiling"
  echo "  attn tiled:   $attn"
  /usr/bin/python3 -c "print(f'  ratio attn / hand-written: {$(gflopsOf "$attn") / $ceilingGflops:.3f}')"
  if [ -n "$BEFORE" ]; then
    before=$(runAttn "$BEFORE")
    echo "  attn before:  $before"
    /usr/bin/python3 -c "print(f'  ratio before / hand-written: {$(gflopsOf "$before") / $ceilingGflops:.3f}')"
  fi
done
