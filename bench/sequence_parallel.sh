#!/usr/bin/env bash
# Sequence parallelism across processes on this machine, in one run:
# causal attention, f32, B=1 H=8 D=64, L=8192 (or $L):
#   one        one process, 2 threads (the baseline)
#   zigzag     mpirun -np 2 attn-run --distribute=zigzag, 1 thread per rank
#   ring       the same with --distribute=ring (rank 1 has 3/4 of the
#              causal work)
# The machines are noisy, so cases run interleaved: $ROUNDS rounds, each
# timing every case for the median of $RUNS calls (attn-run --bench, which
# for --distribute starts and ends each call at a barrier); the ratios
# printed are medians over rounds of the ratio within a round.
# Then the figures of the scaling model of docs/sequence-parallel.md: one
# thread's rate on the whole problem (one process, --threads 1), and the
# bandwidth of exchanging one K block between two ranks
# (bench/mpi_bandwidth.c, built here with mpicc).
# Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${L:-8192}
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-5}
work=build/bench/sequence_parallel
mkdir -p "$work"
[ -x build/bin/attn-run ] || { echo "sequence_parallel.sh: error: build attn first (scripts/build.sh)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "sequence_parallel.sh: error: mpirun not found (scripts/setup.sh installs OpenMPI)" >&2; exit 1; }
mpirun=(mpirun --bind-to core)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
/usr/bin/python3 test/Integration/lib/check_case.py gen "$work/in" \
  "q=1x8x${L}x64:f32" "k=1x8x${L}x64:f32" "v=1x8x${L}x64:f32" >/dev/null
t="tensor<1x8x${L}x64xf32>"
cat > "$work/causal.mlir" <<EOM
func.func @main(%q: $t, %k: $t, %v: $t) -> $t {
  %init = tensor.empty() : $t
  %o = attn.attention ins(%q, %k, %v : $t, $t, $t) outs(%init : $t) {causal} -> $t
  return %o : $t
}
EOM
inputs="$work/in/q.npy,$work/in/k.npy,$work/in/v.npy"
run=(build/bin/attn-run "$work/causal.mlir" --inputs "$inputs" --bench "$RUNS")
ms() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
echo "causal attention, f32, B=1 H=8 L=$L D=64; $(nproc) cores"
declare -a zig ring
for round in $(seq "$ROUNDS"); do
  one=$("${run[@]}" --threads 2 | ms)
  z=$("${mpirun[@]}" -np 2 "${run[@]}" --distribute=zigzag --threads 1 | ms)
  r=$("${mpirun[@]}" -np 2 "${run[@]}" --distribute=ring --threads 1 | ms)
  zig+=("$(/usr/bin/python3 -c "print($z / $one)")")
  ring+=("$(/usr/bin/python3 -c "print($r / $one)")")
  printf 'round %d: one process (2 threads) %.1f ms | zigzag 2x1 %.1f ms (%.3fx) | ring 2x1 %.1f ms (%.3fx)\n' \
    "$round" "$one" "$z" "${zig[-1]}" "$r" "${ring[-1]}"
done
median() { /usr/bin/python3 -c "import statistics,sys; print('%.3f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
echo "median ratio to one 2-thread process: zigzag $(median "${zig[@]}")x, ring $(median "${ring[@]}")x (target: <= 1.25x)"

# The scaling model's inputs.
single=$("${run[@]}" --threads 1 | sed -n 's/.*median_ms=\([0-9.]*\) gflops=\([0-9.]*\).*/\1 \2/p')
echo "one thread, whole problem: ${single% *} ms, ${single#* } GFLOP/s (useful FLOPs)"
mpicc -O2 -o "$work/mpi_bandwidth" bench/mpi_bandwidth.c
block=$((L / 2 * 8 * 64 * 4))
"${mpirun[@]}" -np 2 "$work/mpi_bandwidth" "$block" 20
