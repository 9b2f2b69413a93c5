// REQUIRES: mpi, numpy
// RUN: rm -rf %t
// RUN: %python %S/../lib/check_case.py gen %t q=1x4x45x16:f32 k=1x4x45x16:f32 v=1x4x45x16:f32
// RUN: %python %S/../lib/run_distributed.py "%mpirun" attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --scale 0.3 --statistics lse | FileCheck %s

// Non-causal attention with its log-sum-exp ({return_lse}) over 1 to 4
// ranks: 45 rows, so the last chunk's keys past 45 are masked, and rank 0
// gathers the LSE rows too.

// CHECK-COUNT-8: : ok vs_single_process=

func.func @main(%q: tensor<1x4x45x16xf32>, %k: tensor<1x4x45x16xf32>, %v: tensor<1x4x45x16xf32>) -> (tensor<1x4x45x16xf32>, tensor<1x4x45xf32>) {
  %init = tensor.empty() : tensor<1x4x45x16xf32>
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x4x45x16xf32>, tensor<1x4x45x16xf32>, tensor<1x4x45x16xf32>)
      outs(%init : tensor<1x4x45x16xf32>) {scale = 0.3 : f32, return_lse} -> tensor<1x4x45x16xf32>, tensor<1x4x45xf32>
  return %o, %lse : tensor<1x4x45x16xf32>, tensor<1x4x45xf32>
}
