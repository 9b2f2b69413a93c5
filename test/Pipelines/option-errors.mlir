// Every option value is used as written or is one error line, before any
// pass runs (each of these was accepted before: threads=-3 ran, a width of
// 100 gave 128-bit code, target=tpu fell back to cpu).
// RUN: not attn-opt %s --attn-cpu-pipeline="threads=-3" 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: not attn-opt %s --attn-cpu-pipeline="vector-width=100" 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: not attn-opt %s --attn-set-target="target=tpu" --attn-select-strategy 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attn-opt %s --attn-set-target="target=cpu l2-bytes=-1" --attn-select-strategy 2>&1 | FileCheck %s --check-prefix=CACHE
// RUN: not attn-opt %s --attn-set-target="target=cpu tensor-cores=true" --attn-select-strategy 2>&1 | FileCheck %s --check-prefix=TC
// RUN: not attn-opt %s --attn-set-target="target=cpu gpu-shared-memory=4096" --attn-apply-strategies 2>&1 | FileCheck %s --check-prefix=SHARED
// RUN: not attn-opt %s --attn-gpu-pipeline="shared-memory=-5" 2>&1 | FileCheck %s --check-prefix=GPUSHARED
// RUN: not attn-run %s --entry main --atol=-1 2>&1 | FileCheck %s --check-prefix=ATOL

// THREADS: error: attn-cpu-pipeline: threads = -3 is out of range: it must be from 0 (all hardware threads) to 65536
// WIDTH: error: attn-cpu-pipeline: vector-width = 100 is not a SIMD width the kernels are built for: it must be 128, 256 or 512 (0: the host's)
// TARGET: error: attn-set-target: unknown target 'tpu' (expected cpu or gpu)
// CACHE: error: attn-set-target: l2-bytes = -1 is out of range: it must be >= 0 (0: the host's)
// TC: error: attn-set-target: tensor-cores applies to target gpu, not cpu
// SHARED: error: attn-set-target: gpu-shared-memory applies to target gpu, not cpu
// GPUSHARED: error: attn-gpu-pipeline: shared-memory = -5 must be 0 (the API's default) or positive
// ATOL: {{^}}attn-run: error: --atol must be a finite number >= 0, got -1

func.func @main(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %init = tensor.empty() : tensor<1x2x8x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
                      outs(%init : tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}
