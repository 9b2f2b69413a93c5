// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x21x8:f32 k=1x2x70x8:f32 v=1x2x70x8:f32 mask=1x4x21x70:bool:mask sinks=4:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy,%t/sinks.npy --output %t/o.npy,%t/o-lse.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --mask --window=24,0 --sinks 2 --variant sink-logits --statistics lse
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy,%t/sinks.npy -- attention --mask --window=24,0 --sinks 2 --variant sink-logits --statistics lse | FileCheck %s --check-prefix=STRATEGIES

// The log-sum-exp of each row as a second result ({return_lse}): sink
// logits join it, row 0 of the mask allows no key (LSE -inf there, whatever
// the sink), a sliding window with two sink keys, grouped-query, 70 keys.

// CHECK: check result 0: max_abs_err={{.*}} PASS
// CHECK: check result 1: max_abs_err={{.*}} PASS

// Every strategy that computes attention with sink logits computes the LSE.
// STRATEGIES-DAG: reference: ok
// STRATEGIES-DAG: tiled-odd: ok
// STRATEGIES-DAG: split_kv-odd: ok
// STRATEGIES-DAG: portable-splits: ok

func.func @main(%q: tensor<1x4x21x8xf32>, %k: tensor<1x2x70x8xf32>, %v: tensor<1x2x70x8xf32>, %m: tensor<1x4x21x70xi1>, %sl: tensor<4xf32>) -> (tensor<1x4x21x8xf32>, tensor<1x4x21xf32>) {
  %init = tensor.empty() : tensor<1x4x21x8xf32>
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x4x21x8xf32>, tensor<1x2x70x8xf32>, tensor<1x2x70x8xf32>)
                      mask(%m : tensor<1x4x21x70xi1>)
                      sink_logits(%sl : tensor<4xf32>)
                      outs(%init : tensor<1x4x21x8xf32>) {window = #attn.window<left = 24, right = 0>, sinks = 2 : i64, return_lse}
                      -> tensor<1x4x21x8xf32>, tensor<1x4x21xf32>
  return %o, %lse : tensor<1x4x21x8xf32>, tensor<1x4x21xf32>
}
