// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x3x23x16:f32 k=2x1x11x16:f32 v=2x1x11x16:f32
// RUN: attn-run %s --entry relu --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --score relu
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry relu --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score relu
// RUN: attn-run %s --entry elu1 --attn-strategy=linear --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/e.npy
// RUN: %python %S/lib/check_case.py attention %t %t/e.npy --causal --score elu1 --no-normalize
// RUN: %python -c "import numpy as np; o = np.load('%t/e.npy'); assert (o[:, :, :12] == 0).all() and (o[:, :, 12:] != 0).all() and np.isfinite(o).all(), 'rows without keys must be zeros'"
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry elu1 --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score elu1 --no-normalize
// RUN: attn-opt %s --attn-strategy=linear --attn-cpu-pipeline="vector-width=256" -o %t/avx2.mlir
// RUN: attn-run %t/avx2.mlir --entry relu --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/r8.npy
// RUN: %python %S/lib/check_case.py attention %t %t/r8.npy --causal --score relu

// Causal with Lq = 23 > Lk = 11 (query i sees keys j <= i - 12: rows 0..11
// see none and are zeros, whole chunks of them), MQA (3 query heads on one
// KV head), batch 2: relu normalized, elu1 unnormalized; relu again with
// 8-lane vectors (AVX2-sized register tiles and transposes).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @relu(%q: tensor<2x3x23x16xf32>, %k: tensor<2x1x11x16xf32>, %v: tensor<2x1x11x16xf32>) -> tensor<2x3x23x16xf32> {
  %init = tensor.empty() : tensor<2x3x23x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x3x23x16xf32>, tensor<2x1x11x16xf32>, tensor<2x1x11x16xf32>)
                      outs(%init : tensor<2x3x23x16xf32>) {causal, score = #attn.score<kernel<relu>>} -> tensor<2x3x23x16xf32>
  return %o : tensor<2x3x23x16xf32>
}

func.func @elu1(%q: tensor<2x3x23x16xf32>, %k: tensor<2x1x11x16xf32>, %v: tensor<2x1x11x16xf32>) -> tensor<2x3x23x16xf32> {
  %init = tensor.empty() : tensor<2x3x23x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x3x23x16xf32>, tensor<2x1x11x16xf32>, tensor<2x1x11x16xf32>)
                      outs(%init : tensor<2x3x23x16xf32>) {causal, score = #attn.score<kernel<elu1>, normalize = false>} -> tensor<2x3x23x16xf32>
  return %o : tensor<2x3x23x16xf32>
}
