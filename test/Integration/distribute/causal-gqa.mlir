// REQUIRES: mpi, numpy
// RUN: rm -rf %t
// RUN: %python %S/../lib/check_case.py gen %t q=2x4x37x16:f32 k=2x2x37x16:f32 v=2x2x37x16:f32
// RUN: %python %S/../lib/run_distributed.py "%mpirun" attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal | FileCheck %s

// Causal grouped-query attention (4 query heads on 2 KV heads, batch 2)
// split over 1 to 4 ranks, ring and zigzag: 37 rows, which no number of
// chunks divides (the keys padded past 37 are ruled out by causality).

// CHECK-COUNT-8: : ok vs_single_process=

func.func @main(%q: tensor<2x4x37x16xf32>, %k: tensor<2x2x37x16xf32>, %v: tensor<2x2x37x16xf32>) -> tensor<2x4x37x16xf32> {
  %init = tensor.empty() : tensor<2x4x37x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x37x16xf32>, tensor<2x2x37x16xf32>, tensor<2x2x37x16xf32>)
      outs(%init : tensor<2x4x37x16xf32>) {causal} -> tensor<2x4x37x16xf32>
  return %o : tensor<2x4x37x16xf32>
}
