#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang-22, ASan + UBSan, coverage
# on attn's code) into build-fuzz/ and runs each for a set time:
#
#   scripts/fuzz.sh [SECONDS] [parse|strategy|compile ...]  (default: 600, all)
#
# parse:    the parser and verifier on arbitrary bytes (seeds:
#           fuzz/corpus/parse, dictionary fuzz/attn.dict);
# strategy: generated attn ops through every strategy's rewrite for CPU and
#           GPU targets, verified (seeds: fuzz/corpus/compile);
# compile:  generated attn ops through select -> apply -> the CPU pipeline,
#           and small ones JIT-run against the reference strategy.
# ATTN_FUZZ_RUNS=N runs each harness for N executions instead of SECONDS.
# The working corpora grow in build-fuzz/corpus/<harness>; crashes, leaks and
# sanitizer reports land in build-fuzz/artifacts/<harness>/ and end the run
# with a non-zero status. Each run's log is build-fuzz/fuzz-<harness>.log, and
# the last line printed per harness is its number of executions. A crash
# becomes a lit regression test (see fuzz/README.md).
# Needs: apt-get install clang-22 libclang-rt-22-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
shift || true
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(parse strategy compile)

jobs="${ATTN_JOBS:-$(nproc)}"
cmake -G Ninja -S . -B build-fuzz \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DATTN_FUZZ=ON -DATTN_SANITIZE=address,undefined \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
cmake --build build-fuzz -j "$jobs" --target attn-fuzzers

# Leaks are errors; huge allocations return null (and compiled code reports
# them) instead of ASan aborting on them.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

status=0
for harness in "${harnesses[@]}"; do
  case "$harness" in
    parse) flags=(-max_len=4096 -timeout=30 -dict=fuzz/attn.dict) ;;
    strategy) flags=(-max_len=512 -timeout=60) ;;
    compile) flags=(-max_len=512 -timeout=300) ;;
    *) echo "unknown harness '$harness' (parse, strategy or compile)" >&2; exit 2 ;;
  esac
  # The strategy harness reads the compile harness's programs.
  seeds="fuzz/corpus/$harness"
  [ "$harness" = strategy ] && seeds="fuzz/corpus/compile"
  corpus="build-fuzz/corpus/$harness"
  artifacts="build-fuzz/artifacts/$harness"
  mkdir -p "$corpus" "$artifacts" "$seeds"
  if [ -n "${ATTN_FUZZ_RUNS:-}" ]; then
    limit=(-runs="$ATTN_FUZZ_RUNS")
    echo "== attn-$harness-fuzzer for $ATTN_FUZZ_RUNS executions"
  else
    limit=(-max_total_time="$seconds")
    echo "== attn-$harness-fuzzer for ${seconds}s"
  fi
  if ! "build-fuzz/bin/attn-$harness-fuzzer" "$corpus" "$seeds" \
      "${limit[@]}" -rss_limit_mb=6144 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${flags[@]}" \
      >"build-fuzz/fuzz-$harness.log" 2>&1; then
    status=1
    echo "attn-$harness-fuzzer FAILED: see build-fuzz/fuzz-$harness.log and $artifacts/"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|attn-.*-fuzzer:)" "build-fuzz/fuzz-$harness.log" | head -5 || true
  fi
  grep -E "stat::number_of_executed_units" "build-fuzz/fuzz-$harness.log" \
    | sed "s/^/attn-$harness-fuzzer /" || true
done
exit "$status"
