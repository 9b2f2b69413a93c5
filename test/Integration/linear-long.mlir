// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x2x300x16:f32 k=2x2x300x16:f32 v=2x2x300x16:f32
// RUN: attn-run %s --entry causal --attn-strategy=linear --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/c.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/c.npy --causal --score elu1
// RUN: attn-run %s --entry causal --attn-strategy=tiled --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/t.npy
// RUN: %python %S/lib/check_case.py attention %t %t/t.npy --causal --score elu1
// RUN: attn-run %s --entry noncausal --attn-strategy=linear --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/n.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/n.npy --score relu

// Longer sequences (300, batch 2) under linear's own chunk size: several
// chunks of the running state, the last one partial.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @causal(%q: tensor<2x2x300x16xf32>, %k: tensor<2x2x300x16xf32>, %v: tensor<2x2x300x16xf32>) -> tensor<2x2x300x16xf32> {
  %init = tensor.empty() : tensor<2x2x300x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x300x16xf32>, tensor<2x2x300x16xf32>, tensor<2x2x300x16xf32>)
                      outs(%init : tensor<2x2x300x16xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<2x2x300x16xf32>
  return %o : tensor<2x2x300x16xf32>
}

func.func @noncausal(%q: tensor<2x2x300x16xf32>, %k: tensor<2x2x300x16xf32>, %v: tensor<2x2x300x16xf32>) -> tensor<2x2x300x16xf32> {
  %init = tensor.empty() : tensor<2x2x300x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x300x16xf32>, tensor<2x2x300x16xf32>, tensor<2x2x300x16xf32>)
                      outs(%init : tensor<2x2x300x16xf32>) {score = #attn.score<kernel<relu>>} -> tensor<2x2x300x16xf32>
  return %o : tensor<2x2x300x16xf32>
}
