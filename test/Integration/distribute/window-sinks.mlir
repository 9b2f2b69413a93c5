// REQUIRES: mpi, numpy
// RUN: rm -rf %t
// RUN: %python %S/../lib/check_case.py gen %t q=1x4x53x16:f32 k=1x2x53x16:f32 v=1x2x53x16:f32
// RUN: %python %S/../lib/run_distributed.py "%mpirun" attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --window=11,- --sinks 3 | FileCheck %s

// A causal sliding window of 11 keys with 3 sink keys, grouped-query,
// over 1 to 4 ranks: the block that holds keys 0-2 is folded with its
// sinks at the constant position 0, every other block without.

// CHECK-COUNT-8: : ok vs_single_process=

func.func @main(%q: tensor<1x4x53x16xf32>, %k: tensor<1x2x53x16xf32>, %v: tensor<1x2x53x16xf32>) -> tensor<1x4x53x16xf32> {
  %init = tensor.empty() : tensor<1x4x53x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x53x16xf32>, tensor<1x2x53x16xf32>, tensor<1x2x53x16xf32>)
      outs(%init : tensor<1x4x53x16xf32>) {causal, window = #attn.window<left = 11>, sinks = 3 : i64} -> tensor<1x4x53x16xf32>
  return %o : tensor<1x4x53x16xf32>
}
