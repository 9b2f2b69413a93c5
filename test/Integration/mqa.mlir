// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x9x8:f32 k=2x1x13x8:f32 v=2x1x13x8:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention

// Multi-query attention: Hq = 4 heads share one KV head; batch 2.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x4x9x8xf32>, %k: tensor<2x1x13x8xf32>, %v: tensor<2x1x13x8xf32>) -> tensor<2x4x9x8xf32> {
  %init = tensor.empty() : tensor<2x4x9x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x9x8xf32>, tensor<2x1x13x8xf32>, tensor<2x1x13x8xf32>)
                      outs(%init : tensor<2x4x9x8xf32>) -> tensor<2x4x9x8xf32>
  return %o : tensor<2x4x9x8xf32>
}
