// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x19x8:f32 k=2x2x23x8:f32 v=2x2x23x8:f32 slopes=4:f32:alibi
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/slopes.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --variant alibi
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/slopes.npy -- attention --causal --variant alibi

// ALiBi as a score_mod reading a captured table of per-head slopes: causal,
// grouped-query (4 query heads on 2 KV heads), batch 2, 19 queries on 23
// keys (no tile divides them).

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x4x19x8xf32>, %k: tensor<2x2x23x8xf32>, %v: tensor<2x2x23x8xf32>, %slopes: tensor<4xf32>) -> tensor<2x4x19x8xf32> {
  %init = tensor.empty() : tensor<2x4x19x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x19x8xf32>, tensor<2x2x23x8xf32>, tensor<2x2x23x8xf32>)
                      outs(%init : tensor<2x4x19x8xf32>) {causal}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %slope = tensor.extract %slopes[%h] : tensor<4xf32>
      %d = arith.subi %j, %i : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %t = arith.mulf %slope, %df : f32
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    } -> tensor<2x4x19x8xf32>
  return %o : tensor<2x4x19x8xf32>
}
