// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x10x16:f32 k=1x2x14x16:f32 v=1x2x14x12:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention

// No scale attribute: the scale is 1/sqrt(D) = 1/sqrt(16). Lq != Lk, Dv != D.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x10x16xf32>, %k: tensor<1x2x14x16xf32>, %v: tensor<1x2x14x12xf32>) -> tensor<1x2x10x12xf32> {
  %init = tensor.empty() : tensor<1x2x10x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x10x16xf32>, tensor<1x2x14x16xf32>, tensor<1x2x14x12xf32>)
                      outs(%init : tensor<1x2x10x12xf32>) -> tensor<1x2x10x12xf32>
  return %o : tensor<1x2x10x12xf32>
}
