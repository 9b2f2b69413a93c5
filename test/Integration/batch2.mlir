// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x12x8:f32 k=2x2x12x8:f32 v=2x2x12x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --window=6,-
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --window=6,-

// Batch 2 with GQA, causal and a window.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x4x12x8xf32>, %k: tensor<2x2x12x8xf32>, %v: tensor<2x2x12x8xf32>) -> tensor<2x4x12x8xf32> {
  %init = tensor.empty() : tensor<2x4x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x12x8xf32>, tensor<2x2x12x8xf32>, tensor<2x2x12x8xf32>)
                      outs(%init : tensor<2x4x12x8xf32>) {causal, window = #attn.window<left = 6>} -> tensor<2x4x12x8xf32>
  return %o : tensor<2x4x12x8xf32>
}
