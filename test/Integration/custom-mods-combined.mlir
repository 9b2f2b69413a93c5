// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x26x8:f32:big k=1x2x26x8:f32 v=1x2x26x8:f32 slopes=2:f32:alibi sinks=2:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/slopes.npy,%t/sinks.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --variant softcap=20.0 --variant alibi --variant prefix=9 --variant sink-logits
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/slopes.npy,%t/sinks.npy -- attention --variant softcap=20.0 --variant alibi --variant prefix=9 --variant sink-logits

// Both regions and sink logits at once: a score_mod that softcaps then adds
// ALiBi (scores 30x larger than normal, so the softcap matters), a
// prefix-LM mask_mod (the first 9 tokens see each other, the rest are
// causal), and sink logits.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x2x26x8xf32>, %k: tensor<1x2x26x8xf32>, %v: tensor<1x2x26x8xf32>, %slopes: tensor<2xf32>, %sl: tensor<2xf32>) -> tensor<1x2x26x8xf32> {
  %init = tensor.empty() : tensor<1x2x26x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x26x8xf32>, tensor<1x2x26x8xf32>, tensor<1x2x26x8xf32>)
                      sink_logits(%sl : tensor<2xf32>)
                      outs(%init : tensor<1x2x26x8xf32>)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %c = arith.constant 20.0 : f32
      %x = arith.divf %s, %c : f32
      %t = math.tanh %x : f32
      %capped = arith.mulf %c, %t : f32
      %slope = tensor.extract %slopes[%h] : tensor<2xf32>
      %d = arith.subi %j, %i : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %bias = arith.mulf %slope, %df : f32
      %r = arith.addf %capped, %bias : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %n = arith.constant 9 : index
      %in_prefix = arith.cmpi ult, %j, %n : index
      %past = arith.cmpi ule, %j, %i : index
      %ok = arith.ori %in_prefix, %past : i1
      attn.yield %ok : i1
    } -> tensor<1x2x26x8xf32>
  return %o : tensor<1x2x26x8xf32>
}
