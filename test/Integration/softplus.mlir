// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x14x8:f32 k=1x2x14x8:f32 v=1x2x14x8:f32 bias=1x2x14x14:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --bias --score softplus
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy -- attention --causal --bias --score softplus

// Softplus-normalized weights, causal, with a bias.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x14x8xf32>, %k: tensor<1x2x14x8xf32>, %v: tensor<1x2x14x8xf32>, %b: tensor<1x2x14x14xf32>) -> tensor<1x2x14x8xf32> {
  %init = tensor.empty() : tensor<1x2x14x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x14x8xf32>, tensor<1x2x14x8xf32>, tensor<1x2x14x8xf32>)
                      bias(%b : tensor<1x2x14x14xf32>)
                      outs(%init : tensor<1x2x14x8xf32>) {causal, score = #attn.score<softplus>} -> tensor<1x2x14x8xf32>
  return %o : tensor<1x2x14x8xf32>
}
