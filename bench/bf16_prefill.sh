#!/usr/bin/env bash
# bf16 prefill on the CPU against f32, in one run: attn's tiled kernel on
# B=1 H=8 D=64, L=4096 (or $L), causal and not, 2 threads (or $THREADS):
#   - f32 Q, K, V (the baseline: the f32 GFLOP/s of tiled);
#   - bf16 Q, K, V with AVX512-BF16 dot products (bf16_dot = 1, the default
#     where the CPU has them);
#   - bf16 widened to f32 FMAs (bf16_dot = 0), the path other CPUs take.
# Prints each one's median time and GFLOP/s (4 L^2 D per head, halved for
# causal) and the ratios to f32. Issue 20's target: bf16 >= 1.5x f32.
#
#   bench/bf16_prefill.sh
#
# With BEFORE=path/to/another/attn-run, that build's bf16 run goes beside
# them. Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${L:-4096}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
[ -x build/bin/attn-run ] || { echo "bf16_prefill.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
grep -q avx512_bf16 /proc/cpuinfo || echo "note: this CPU has no AVX512-BF16; bf16_dot = 1 runs are skipped"
BEFORE=${BEFORE:-}
[ -z "$BEFORE" ] || [ -x "$BEFORE" ] || { echo "bf16_prefill.sh: error: BEFORE=$BEFORE is not an executable attn-run" >&2; exit 1; }

work=build/bench/bf16_prefill
mkdir -p "$work"
for dtype in f32 bf16; do
  /usr/bin/python3 test/Integration/lib/check_case.py gen "$work/$dtype" \
    "q=1x8x${L}x64:$dtype" "k=1x8x${L}x64:$dtype" "v=1x8x${L}x64:$dtype" >/dev/null
done

# run NAME DTYPE ATTRS [ATTN_RUN]: writes the op, prints the median line.
run() {
  local name=$1 dtype=$2 attrs=$3 tool=${4:-build/bin/attn-run}
  local type="tensor<1x8x${L}x64x${dtype}>"
  cat >"$work/$name.mlir" <<EOF
func.func @main(%q: $type, %k: $type, %v: $type) -> $type {
  %init = tensor.empty() : $type
  %o = attn.attention ins(%q, %k, %v : $type, $type, $type) outs(%init : $type) {$attrs} -> $type
  return %o : $type
}
EOF
  OMP_NUM_THREADS=$THREADS "$tool" "$work/$name.mlir" --entry main \
    --inputs "$work/$dtype/q.npy,$work/$dtype/k.npy,$work/$dtype/v.npy" \
    --threads "$THREADS" --bench "$RUNS" | grep median
}
gflopsOf() { sed -n 's/.*gflops=\([0-9.]*\).*/\1/p' <<<"$1"; }
ratio() { /usr/bin/python3 -c "print(f'{$1 / $2:.2f}')"; }

for causal in 0 1; do
  extra=""
  [ "$causal" = 1 ] && extra="causal, "
  echo "L=$L causal=$causal threads=$THREADS"
  f32=$(run f32 f32 "${extra}strategy = #attn.strategy<\"tiled\">")
  echo "  f32 tiled:              $f32"
  widened=$(run widened bf16 "${extra}strategy = #attn.strategy<\"tiled\", {bf16_dot = 0}>")
  echo "  bf16 widened (FMA):     $widened   x$(ratio "$(gflopsOf "$widened")" "$(gflopsOf "$f32")") of f32"
  if grep -q avx512_bf16 /proc/cpuinfo; then
    dot=$(run dot bf16 "${extra}strategy = #attn.strategy<\"tiled\", {bf16_dot = 1}>")
    echo "  bf16 dot (vdpbf16ps):   $dot   x$(ratio "$(gflopsOf "$dot")" "$(gflopsOf "$f32")") of f32"
  fi
  if [ -n "$BEFORE" ]; then
    before=$(run before bf16 "${extra}strategy = #attn.strategy<\"tiled\">" "$BEFORE")
    echo "  bf16, BEFORE's default: $before   x$(ratio "$(gflopsOf "$before")" "$(gflopsOf "$f32")") of f32"
  fi
done
