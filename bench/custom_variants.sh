#!/usr/bin/env bash
# The cost of the custom variants on the CPU, in one run: f32, B=1 H=8
# D=64, L=4096 (or $L), causal, 2 threads (or $THREADS), `tiled`. Prints
# each case's median time and the ratio to the same op without a variant:
#   plain           the op alone (the baseline of every ratio)
#   alibi-mod       ALiBi as a score_mod on a captured table of slopes
#   alibi-bias      the same bias as an L x L x H `bias` operand (L <= 2048
#                   unless ALIBI_BIAS=1: it is H L^2 floats)
#   sink-logits     learnable sink logits, one per head
#   documents-mod   8 packed documents as a mask_mod on segment ids
#                   (causal within each document); its useful-FLOP ratio
#                   is the sum of the documents' causal pairs over L^2/2
# Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${L:-4096}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
work=build/bench/custom
mkdir -p "$work"
[ -x build/bin/attn-run ] || { echo "custom_variants.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
gen=test/Integration/lib/check_case.py
/usr/bin/python3 $gen gen "$work/in" "q=1x8x${L}x64:f32" "k=1x8x${L}x64:f32" \
  "v=1x8x${L}x64:f32" "slopes=8:f32:alibi" "sinks=8:f32" "seg=1x${L}:i32:docs8" >/dev/null
bias_ok=0
if [ "$L" -le 2048 ] || [ "${ALIBI_BIAS:-0}" = 1 ]; then
  bias_ok=1
  /usr/bin/python3 - "$work/in" "$L" <<'EOF'
import sys, numpy as np
d, n = sys.argv[1], int(sys.argv[2])
slopes = np.load(d + "/slopes.npy")
i = np.arange(n)[:, None]; j = np.arange(n)[None, :]
np.save(d + "/bias.npy", (slopes[None, :, None, None] * (j - i)[None, None]).astype(np.float32))
EOF
fi
T="tensor<1x8x${L}x64xf32>"
prologue() {
  echo "func.func @main(%q: $T, %k: $T, %v: $T$1) -> $T {"
  echo "  %init = tensor.empty() : $T"
}
{ prologue ""; cat <<EOF
  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) outs(%init : $T) {causal} -> $T
  return %o : $T
}
EOF
} > "$work/plain.mlir"
{ prologue ", %slopes: tensor<8xf32>"; cat <<EOF
  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) outs(%init : $T) {causal}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %slope = tensor.extract %slopes[%h] : tensor<8xf32>
      %d = arith.subi %j, %i : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %t = arith.mulf %slope, %df : f32
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    } -> $T
  return %o : $T
}
EOF
} > "$work/alibi-mod.mlir"
{ prologue ", %bias: tensor<1x8x${L}x${L}xf32>"; cat <<EOF
  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) bias(%bias : tensor<1x8x${L}x${L}xf32>) outs(%init : $T) {causal} -> $T
  return %o : $T
}
EOF
} > "$work/alibi-bias.mlir"
{ prologue ", %sl: tensor<8xf32>"; cat <<EOF
  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) sink_logits(%sl : tensor<8xf32>) outs(%init : $T) {causal} -> $T
  return %o : $T
}
EOF
} > "$work/sink-logits.mlir"
{ prologue ", %seg: tensor<1x${L}xi32>"; cat <<EOF
  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) outs(%init : $T) {causal}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<1x${L}xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<1x${L}xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    } -> $T
  return %o : $T
}
EOF
} > "$work/documents-mod.mlir"

in="$work/in"
run() { # name, extra inputs
  OMP_NUM_THREADS=$THREADS build/bin/attn-run "$work/$1.mlir" --entry main \
    --attn-strategy=tiled --inputs "$in/q.npy,$in/k.npy,$in/v.npy$2" \
    --threads "$THREADS" --bench "$RUNS" | grep median
}
msOf() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$1"; }
echo "L=$L causal, tiled, $THREADS threads, median of $RUNS"
plain=$(run plain ""); echo "  plain:         $plain"
for case in "alibi-mod:,$in/slopes.npy" "sink-logits:,$in/sinks.npy" "documents-mod:,$in/seg.npy" "alibi-bias:,$in/bias.npy"; do
  name=${case%%:*}; extra=${case#*:}
  [ "$name" = alibi-bias ] && [ "$bias_ok" = 0 ] && { echo "  alibi-bias:    skipped (L > 2048; ALIBI_BIAS=1 to run)"; continue; }
  out=$(run "$name" "$extra")
  /usr/bin/python3 -c "print(f'  {\"$name:\":14} $out  speed vs plain: {$(msOf "$plain") / $(msOf "$out"):.3f}')"
done
/usr/bin/python3 - "$in/seg.npy" "$L" <<'EOF'
import sys, numpy as np
seg, n = np.load(sys.argv[1])[0], int(sys.argv[2])
lengths = np.bincount(seg)
print(f"  documents: lengths {lengths.tolist()}; causal pairs within documents / causal pairs = "
      f"{sum(int(x) * (int(x) + 1) // 2 for x in lengths) / (n * (n + 1) / 2):.3f}")
EOF
