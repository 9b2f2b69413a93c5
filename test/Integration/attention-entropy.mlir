// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x19x8:f32 k=1x2x45x8:f32 v=1x2x45x8:f32 mask=1x4x19x45:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy,%t/o-lse.npy,%t/o-entropy.npy
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --causal --statistics lse,entropy
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --mask --causal --statistics lse,entropy | FileCheck %s

// Both row statistics, the entropy after the LSE, with a fully masked row
// 0 (entropy 0, LSE -inf). Every strategy keeps the entropy as a fourth
// part of its state (portable's tiles and split partial states too).

// CHECK-DAG: reference: ok
// CHECK-DAG: tiled-odd: ok
// CHECK-DAG: split_kv-odd: ok
// CHECK-DAG: block_sparse: ok
// CHECK-DAG: portable: ok
// CHECK-DAG: portable-splits: ok

func.func @main(%q: tensor<1x4x19x8xf32>, %k: tensor<1x2x45x8xf32>, %v: tensor<1x2x45x8xf32>, %m: tensor<1x4x19x45xi1>) -> (tensor<1x4x19x8xf32>, tensor<1x4x19xf32>, tensor<1x4x19xf32>) {
  %init = tensor.empty() : tensor<1x4x19x8xf32>
  %o, %lse, %h = attn.attention ins(%q, %k, %v : tensor<1x4x19x8xf32>, tensor<1x2x45x8xf32>, tensor<1x2x45x8xf32>)
                      mask(%m : tensor<1x4x19x45xi1>)
                      outs(%init : tensor<1x4x19x8xf32>) {causal, return_lse, return_entropy}
                      -> tensor<1x4x19x8xf32>, tensor<1x4x19xf32>, tensor<1x4x19xf32>
  return %o, %lse, %h : tensor<1x4x19x8xf32>, tensor<1x4x19xf32>, tensor<1x4x19xf32>
}
