// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x16x8:f32 k=1x2x24x8:f32 v=1x2x24x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --window=4,1
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --window=4,1

// Sliding window left = 4, right = 1 with Lq < Lk (i' = i + Lk - Lq), no causal.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x24x8xf32>, %v: tensor<1x2x24x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) {window = #attn.window<left = 4, right = 1>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
