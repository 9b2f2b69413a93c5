#!/usr/bin/env bash
# The cost of the custom variants on the CPU, in one run: f32, B=1 H=8 D=64,
# causal, 2 threads (or $THREADS), `tiled`. Two groups, each against its own
# baseline, the op without a variant at the same length:
#   L=4096 (or $L):
#     alibi-mod        ALiBi as a score_mod on a captured table of slopes
#     alibi-bias       the same bias as an H x L x L `bias` operand (only
#                      with ALIBI_BIAS=1 or L <= 2048: it is H L^2 floats)
#     sink-logits      learnable sink logits, one per head
#   L=8192 (or $DOC_L), 8 packed documents of random lengths:
#     documents-mod    a mask_mod on segment ids (causal within each)
#     documents-mask   the same mask materialized as an L x L mask operand
#     ideal            the documents' causal pairs / all causal pairs, times
#                      the baseline's time (tiled's causal GFLOP/s)
# The machines are noisy, so cases run interleaved: $ROUNDS rounds, each
# running every case for the median of $RUNS calls; each ratio printed is
# the median over rounds of the ratio measured within a round.
# Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${L:-4096}
DOC_L=${DOC_L:-8192}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
ROUNDS=${ROUNDS:-5}
work=build/bench/custom
mkdir -p "$work"
[ -x build/bin/attn-run ] || { echo "custom_variants.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
gen=test/Integration/lib/check_case.py
/usr/bin/python3 $gen gen "$work/in" "q=1x8x${L}x64:f32" "k=1x8x${L}x64:f32" \
  "v=1x8x${L}x64:f32" "slopes=8:f32:alibi" "sinks=8:f32" >/dev/null
/usr/bin/python3 $gen gen "$work/doc" "q=1x8x${DOC_L}x64:f32" "k=1x8x${DOC_L}x64:f32" \
  "v=1x8x${DOC_L}x64:f32" "seg=1x${DOC_L}:i32:docs8" >/dev/null
/usr/bin/python3 - "$work/doc" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
seg = np.load(d + "/seg.npy")[0]
np.save(d + "/mask.npy", (seg[:, None] == seg[None, :])[None, None])
EOF
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

# write NAME LENGTH EXTRA_ARGS OPERANDS [REGION]: a @main of one causal op.
write() {
  local name=$1 n=$2 args=$3 operands=$4 region=${5:-}
  local T="tensor<1x8x${n}x64xf32>"
  {
    echo "func.func @main(%q: $T, %k: $T, %v: $T$args) -> $T {"
    echo "  %init = tensor.empty() : $T"
    echo "  %o = attn.attention ins(%q, %k, %v : $T, $T, $T) $operands outs(%init : $T) {causal}"
    [ -n "$region" ] && echo "$region"
    echo "    -> $T"
    echo "  return %o : $T"
    echo "}"
  } > "$work/$name.mlir"
}
write plain "$L" "" ""
write alibi-mod "$L" ", %slopes: tensor<8xf32>" "" "    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %slope = tensor.extract %slopes[%h] : tensor<8xf32>
      %d = arith.subi %j, %i : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %t = arith.mulf %slope, %df : f32
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    }"
write alibi-bias "$L" ", %bias: tensor<1x8x${L}x${L}xf32>" "bias(%bias : tensor<1x8x${L}x${L}xf32>)"
write sink-logits "$L" ", %sl: tensor<8xf32>" "sink_logits(%sl : tensor<8xf32>)"
write doc-plain "$DOC_L" "" ""
write documents-mod "$DOC_L" ", %seg: tensor<1x${DOC_L}xi32>" "" "    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<1x${DOC_L}xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<1x${DOC_L}xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    }"
write documents-mask "$DOC_L" ", %mask: tensor<1x1x${DOC_L}x${DOC_L}xi1>" "mask(%mask : tensor<1x1x${DOC_L}x${DOC_L}xi1>)"

in=$work/in doc=$work/doc
cases="plain:$in: alibi-mod:$in:,$in/slopes.npy sink-logits:$in:,$in/sinks.npy"
[ "$bias_ok" = 1 ] && cases="$cases alibi-bias:$in:,$in/bias.npy"
cases="$cases doc-plain:$doc: documents-mod:$doc:,$doc/seg.npy documents-mask:$doc:,$doc/mask.npy"
echo "tiled, causal, $THREADS threads; $ROUNDS interleaved rounds of the median of $RUNS calls"
[ "$bias_ok" = 1 ] || echo "alibi-bias: skipped (L > 2048; ALIBI_BIAS=1 to run)"
THREADS=$THREADS RUNS=$RUNS ROUNDS=$ROUNDS WORK=$work /usr/bin/python3 - $cases <<'EOF'
import os, re, statistics, subprocess, sys
import numpy as np
threads, runs, rounds, work = (os.environ[k] for k in ("THREADS", "RUNS", "ROUNDS", "WORK"))
cases = [c.split(":", 2) for c in sys.argv[1:]]
times = {name: [] for name, _, _ in cases}
for _ in range(int(rounds)):
    for name, d, extra in cases:
        out = subprocess.run(
            ["build/bin/attn-run", f"{work}/{name}.mlir", "--entry", "main",
             "--attn-strategy=tiled", "--inputs", f"{d}/q.npy,{d}/k.npy,{d}/v.npy{extra}",
             "--threads", threads, "--bench", runs],
            env=dict(os.environ, OMP_NUM_THREADS=threads), check=True,
            capture_output=True, text=True).stdout
        times[name].append(float(re.search(r"median_ms=([0-9.]+)", out).group(1)))
seg = np.load(f"{work}/doc/seg.npy")[0]
n = len(seg)
useful = sum(int(x) * (int(x) + 1) // 2 for x in np.bincount(seg)) / (n * (n + 1) / 2)

def ratio(a, b):  # median over rounds of time(a) / time(b)
    return statistics.median(x / y for x, y in zip(times[a], times[b]))

def line(name, base, note=""):
    print(f"  {name:15} {statistics.median(times[name]):9.2f} ms   "
          f"time / {base}: {ratio(name, base):.3f}{note}")
print(f"L={os.environ.get('L', '4096')} group (baseline plain):")
line("plain", "plain")
line("alibi-mod", "plain", "   (speed: {:.3f}x of plain)".format(1 / ratio("alibi-mod", "plain")))
line("sink-logits", "plain")
if "alibi-bias" in times:
    line("alibi-bias", "plain", "   (alibi-mod is {:.2f}x faster)".format(ratio("alibi-bias", "alibi-mod")))
print(f"documents group, L={n}, lengths {np.bincount(seg).tolist()} (baseline doc-plain, causal):")
line("doc-plain", "doc-plain")
line("documents-mod", "doc-plain")
line("documents-mask", "doc-plain", "   (documents-mod is {:.2f}x faster)".format(
    ratio("documents-mask", "documents-mod")))
print(f"  useful causal pairs: {useful:.3f} of causal; ideal = {useful:.3f} x doc-plain;"
      f" documents-mod reaches {useful / ratio('documents-mod', 'doc-plain'):.3f} of ideal")
EOF
