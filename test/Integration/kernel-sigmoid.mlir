// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x19x8:f32 k=1x2x23x8:f32:big v=1x2x23x8:f32 bias=1x1x19x23:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --bias --causal --score sigmoid --no-normalize
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/bias.npy -- attention --bias --causal --score sigmoid --no-normalize

// Sigmoid attention as it is used: weights sigmoid(s + bias), not
// normalized, causal, grouped-query (4 query heads on 2 KV heads), lengths no
// tile divides (19 queries, 23 keys), keys scaled by 30 so that most weights
// saturate at 0 or 1.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x4x19x8xf32>, %k: tensor<1x2x23x8xf32>, %v: tensor<1x2x23x8xf32>, %b: tensor<1x1x19x23xf32>) -> tensor<1x4x19x8xf32> {
  %init = tensor.empty() : tensor<1x4x19x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x19x8xf32>, tensor<1x2x23x8xf32>, tensor<1x2x23x8xf32>)
                      bias(%b : tensor<1x1x19x23xf32>)
                      outs(%init : tensor<1x4x19x8xf32>) {causal, score = #attn.score<kernel<sigmoid>, normalize = false>} -> tensor<1x4x19x8xf32>
  return %o : tensor<1x4x19x8xf32>
}
