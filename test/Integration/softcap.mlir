// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x16x8:f32:big k=1x2x16x8:f32 v=1x2x16x8:f32 bias=1x1x16x16:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --bias --softcap 5.0
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy -- attention --bias --softcap 5.0

// Softcap c = 5: s -> 5 tanh(s / 5), after the bias. Large queries make the cap
// matter (scores of tens).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %b: tensor<1x1x16x16xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      bias(%b : tensor<1x1x16x16xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) {softcap = 5.0 : f32} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
