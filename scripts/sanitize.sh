#!/usr/bin/env bash
# Builds attn with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs every test under them: lit (dialect, strategies,
# pipelines, plugin, integration against float64 numpy, unit tests) and the
# Python tests.
#
#   scripts/sanitize.sh            (clang++-22; ATTN_SANITIZE_CXX=g++ for gcc)
#
# Only attn's own code is instrumented: libMLIR.so, libLLVM.so and the code
# the JIT compiles are not (memory they touch is still checked where attn's
# code reads or writes it, and every malloc goes through ASan). Python and
# upstream mlir-opt are not instrumented either, so they load the shared
# ASan runtime first (LD_PRELOAD). Leak checking is on; suppressions, if any,
# live in scripts/lsan.supp and cover upstream allocations only.
# Needs: apt-get install clang-22 libclang-rt-22-dev (or gcc's libasan).
set -euo pipefail
cd "$(dirname "$0")/.."

cxx="${ATTN_SANITIZE_CXX:-clang++-22}"
cc="${ATTN_SANITIZE_CC:-${cxx/clang++/clang}}"
[ "$cc" = "$cxx" ] && cc="${cxx/g++/gcc}"
jobs="${ATTN_JOBS:-$(nproc)}"
cmake -G Ninja -S . -B build-asan \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DATTN_SANITIZE=address,undefined \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
cmake --build build-asan -j "$jobs"

if [[ "$cxx" == *clang* ]]; then
  runtime="$("$cxx" -print-file-name="libclang_rt.asan-$(uname -m).so")"
else
  runtime="$("$cxx" -print-file-name=libasan.so)"
fi
# allocator_may_return_null: a failed huge allocation returns null, which the
# runtime reports (the out-of-memory test), instead of ASan aborting.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

status=0
echo "== lit (ASan + UBSan)"
/usr/lib/llvm-22/bin/lit -sv --time-tests build-asan/test || status=1
echo "== python (ASan + UBSan, LD_PRELOAD=$runtime)"
LD_PRELOAD="$runtime" PYTHONPATH=build-asan/python \
  /usr/bin/python3 -m pytest -q python/tests || status=1
exit "$status"
