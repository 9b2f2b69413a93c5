#!/usr/bin/env bash
# The cost of attention state on the CPU, in one run: f32, B=1 H=8 D=64,
# 2 threads (or $THREADS). Each case against its own baseline, the same op
# without the extra result:
#   prefill, L=4096 (or $L), causal, `tiled`:
#     plain          the output only
#     lse            with {return_lse}: the LSE from the kernel's (m, l)
#     entropy        with {return_lse, return_entropy}: the state's fourth
#                    part t = sum w log2 w, updated with every tile
#   decode, Lq=1 (4 queries of one KV head group), Lk=32768 (or $DECODE_L),
#   `split_kv`:
#     decode         the output only
#     decode-lse     with {return_lse}: merged with the splits' states
#   merge, the states of two halves of the prefill's keys:
#     merge          attn.merge_states of two (O, LSE) pairs [1, 8, L, 64]
#                    (printed as a fraction of plain's time)
# The machines are noisy, so cases run interleaved: $ROUNDS rounds, each
# running every case for the median of $RUNS calls ($DECODE_RUNS for the
# millisecond decode cases); each ratio printed is
# the median over rounds of the ratio measured within a round.
# Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${L:-4096}
DECODE_L=${DECODE_L:-32768}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
DECODE_RUNS=${DECODE_RUNS:-50}
ROUNDS=${ROUNDS:-5}
work=build/bench/state
mkdir -p "$work"
[ -x build/bin/attn-run ] || { echo "attention_state.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
gen=test/Integration/lib/check_case.py
/usr/bin/python3 $gen gen "$work/in" "q=1x8x${L}x64:f32" "k=1x8x${L}x64:f32" \
  "v=1x8x${L}x64:f32" "o1=1x8x${L}x64:f32" "o2=1x8x${L}x64:f32" \
  "l1=1x8x${L}:f32" "l2=1x8x${L}:f32" >/dev/null
/usr/bin/python3 $gen gen "$work/dec" "q=1x8x1x64:f32" "k=1x2x${DECODE_L}x64:f32" \
  "v=1x2x${DECODE_L}x64:f32" >/dev/null

# write NAME Q K FLAGS STRATEGY: a @main of one attention op, with the LSE
# and the entropy as more results when FLAGS holds return_lse /
# return_entropy.
write() {
  local name=$1 Q=$2 K=$3 flags=$4 strategy=$5
  local R=${Q/x64xf32>/xf32>} results="$Q" names="%o"
  if [[ $flags == *return_lse* ]]; then results="$results, $R"; names="$names, %l"; fi
  if [[ $flags == *return_entropy* ]]; then results="$results, $R"; names="$names, %h"; fi
  cat > "$work/$name.mlir" <<EOF
func.func @main(%q: $Q, %k: $K, %v: $K) -> ($results) {
  %init = tensor.empty() : $Q
  $names = attn.attention ins(%q, %k, %v : $Q, $K, $K) outs(%init : $Q)
      {$flags, strategy = #attn.strategy<"$strategy">} -> $results
  return $names : $results
}
EOF
}
P="tensor<1x8x${L}x64xf32>"
write plain "$P" "$P" causal tiled
write lse "$P" "$P" "causal, return_lse" tiled
write entropy "$P" "$P" "causal, return_lse, return_entropy" tiled
write decode "tensor<1x8x1x64xf32>" "tensor<1x2x${DECODE_L}x64xf32>" causal split_kv
write decode-lse "tensor<1x8x1x64xf32>" "tensor<1x2x${DECODE_L}x64xf32>" "causal, return_lse" split_kv
R="tensor<1x8x${L}xf32>"
cat > "$work/merge.mlir" <<EOF
func.func @main(%o1: $P, %o2: $P, %l1: $R, %l2: $R) -> ($P, $R) {
  %oi = tensor.empty() : $P
  %li = tensor.empty() : $R
  %o, %l = attn.merge_states ins(%o1, %l1, %o2, %l2 : $P, $R, $P, $R) outs(%oi, %li : $P, $R) -> $P, $R
  return %o, %l : $P, $R
}
EOF

in=$work/in dec=$work/dec
qkv="$in/q.npy,$in/k.npy,$in/v.npy"
cases="plain:$qkv lse:$qkv entropy:$qkv decode:$dec/q.npy,$dec/k.npy,$dec/v.npy"
cases="$cases decode-lse:$dec/q.npy,$dec/k.npy,$dec/v.npy merge:$in/o1.npy,$in/o2.npy,$in/l1.npy,$in/l2.npy"
echo "causal, $THREADS threads; $ROUNDS interleaved rounds of the median of $RUNS calls ($DECODE_RUNS for decode)"
THREADS=$THREADS RUNS=$RUNS DECODE_RUNS=$DECODE_RUNS ROUNDS=$ROUNDS WORK=$work /usr/bin/python3 - $cases <<'EOF'
import os, re, statistics, subprocess, sys
threads, runs, decode_runs, rounds, work = (os.environ[k] for k in (
    "THREADS", "RUNS", "DECODE_RUNS", "ROUNDS", "WORK"))
cases = [c.split(":", 1) for c in sys.argv[1:]]
times = {name: [] for name, _ in cases}
for _ in range(int(rounds)):
    for name, inputs in cases:
        out = subprocess.run(
            ["build/bin/attn-run", f"{work}/{name}.mlir", "--entry", "main",
             "--inputs", inputs, "--threads", threads, "--bench",
             decode_runs if name.startswith("decode") else runs],
            env=dict(os.environ, OMP_NUM_THREADS=threads), check=True,
            capture_output=True, text=True).stdout
        times[name].append(float(re.search(r"median_ms=([0-9.]+)", out).group(1)))

def ratio(a, b):  # median over rounds of time(a) / time(b)
    return statistics.median(x / y for x, y in zip(times[a], times[b]))

def line(name, base):
    every = " ".join(f"{x / y:.3f}" for x, y in zip(times[name], times[base]))
    print(f"  {name:11} {statistics.median(times[name]):9.3f} ms   "
          f"time / {base}: {ratio(name, base):.3f}   (rounds: {every})")
print(f"prefill L={os.environ.get('L', '4096')}, tiled:")
line("plain", "plain")
line("lse", "plain")
line("entropy", "plain")
print(f"decode Lk={os.environ.get('DECODE_L', '32768')}, split_kv:")
line("decode", "decode")
line("decode-lse", "decode")
print("merge of two states of the prefill's shape:")
line("merge", "plain")
EOF
