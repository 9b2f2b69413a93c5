// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x3x12x8:f32 k=2x3x12x8:f32 v=2x3x12x8:f32 mask=2x1x12x12:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask --causal

// A mask broadcast over heads (dimension 1 is 1) combined with causal.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x3x12x8xf32>, %k: tensor<2x3x12x8xf32>, %v: tensor<2x3x12x8xf32>, %m: tensor<2x1x12x12xi1>) -> tensor<2x3x12x8xf32> {
  %init = tensor.empty() : tensor<2x3x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x3x12x8xf32>, tensor<2x3x12x8xf32>, tensor<2x3x12x8xf32>)
                      mask(%m : tensor<2x1x12x12xi1>)
                      outs(%init : tensor<2x3x12x8xf32>) {causal} -> tensor<2x3x12x8xf32>
  return %o : tensor<2x3x12x8xf32>
}
