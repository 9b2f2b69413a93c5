// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x11x8:f32 k=2x2x11x8:f32 v=2x2x11x8:f32 bias=1x4x11x11:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --bias --causal
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy -- attention --bias --causal

// An additive f32 bias broadcast over the batch (shape 1 x Hq x Lq x Lk), with
// causal and GQA.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x4x11x8xf32>, %k: tensor<2x2x11x8xf32>, %v: tensor<2x2x11x8xf32>, %b: tensor<1x4x11x11xf32>) -> tensor<2x4x11x8xf32> {
  %init = tensor.empty() : tensor<2x4x11x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x11x8xf32>, tensor<2x2x11x8xf32>, tensor<2x2x11x8xf32>)
                      bias(%b : tensor<1x4x11x11xf32>)
                      outs(%init : tensor<2x4x11x8xf32>) {causal} -> tensor<2x4x11x8xf32>
  return %o : tensor<2x4x11x8xf32>
}
