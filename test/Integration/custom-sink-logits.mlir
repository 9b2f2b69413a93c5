// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x21x8:f32 k=1x2x70x8:f32 v=1x2x70x8:f32 mask=1x4x21x70:bool:mask sinks=4:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy,%t/sinks.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --window=24,0 --sinks 2 --variant sink-logits
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy,%t/sinks.npy -- attention --mask --window=24,0 --sinks 2 --variant sink-logits

// Learnable sink logits (one per query head) with a sliding window, two sink
// tokens and a mask whose row 0 allows no key (that row is zeros whatever
// the sink logit), grouped-query, 70 keys.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x4x21x8xf32>, %k: tensor<1x2x70x8xf32>, %v: tensor<1x2x70x8xf32>, %m: tensor<1x4x21x70xi1>, %sl: tensor<4xf32>) -> tensor<1x4x21x8xf32> {
  %init = tensor.empty() : tensor<1x4x21x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x21x8xf32>, tensor<1x2x70x8xf32>, tensor<1x2x70x8xf32>)
                      mask(%m : tensor<1x4x21x70xi1>)
                      sink_logits(%sl : tensor<4xf32>)
                      outs(%init : tensor<1x4x21x8xf32>) {window = #attn.window<left = 24, right = 0>, sinks = 2 : i64} -> tensor<1x4x21x8xf32>
  return %o : tensor<1x4x21x8xf32>
}
