// REQUIRES: mpi, numpy
// RUN: rm -rf %t
// RUN: %python %S/../lib/check_case.py gen %t q=1x2x29x8:f32 k=1x1x45x8:f32 v=1x1x45x12:f32 sinks=2:f32
// RUN: %python %S/../lib/run_distributed.py "%mpirun" attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/sinks.npy --ranks 2,3 -- attention --causal --variant sink-logits --statistics lse | FileCheck %s

// 29 queries on 45 keys (bottom-right aligned causal: the queries are the
// last 29 positions), a value width other than the key width, multi-query
// (2 heads on 1 KV head), sink logits (a replicated input that every rank
// reads whole), with the LSE: queries and keys are split into chunks of
// their own lengths.

// CHECK-COUNT-4: : ok vs_single_process=

func.func @main(%q: tensor<1x2x29x8xf32>, %k: tensor<1x1x45x8xf32>, %v: tensor<1x1x45x12xf32>, %sl: tensor<2xf32>) -> (tensor<1x2x29x12xf32>, tensor<1x2x29xf32>) {
  %init = tensor.empty() : tensor<1x2x29x12xf32>
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x29x8xf32>, tensor<1x1x45x8xf32>, tensor<1x1x45x12xf32>)
      sink_logits(%sl : tensor<2xf32>)
      outs(%init : tensor<1x2x29x12xf32>) {causal, return_lse} -> tensor<1x2x29x12xf32>, tensor<1x2x29xf32>
  return %o, %lse : tensor<1x2x29x12xf32>, tensor<1x2x29xf32>
}
