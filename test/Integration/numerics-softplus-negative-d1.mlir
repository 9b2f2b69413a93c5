// REQUIRES: numpy
//
// The program attn-compile-fuzzer found (numerics-softplus-negative.mlir
// says what went wrong): softplus, causal, Hq = 4 on one KV head, D = 1,
// scale -0.5, dynamic B and lengths, q and k scaled by 30. The first causal
// rows see one or two keys, whose scores are often below -104, where f32
// softplus underflows: the row must still be the weighted average of those
// keys' values (dominated by the key of the largest score), as in float64.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x37x1:f32:big k=2x1x37x1:f32:big v=2x1x37x1:f32
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy -- attention --causal --score softplus --scale -0.5 --atol 2e-3 --rtol 2e-3 | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled-odd: ok
// CHECK: tiled-wide: ok
// CHECK: split_kv: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: split_kv-odd: ok
// CHECK: portable: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable-splits: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<?x4x?x1xf32>, %k: tensor<?x1x?x1xf32>, %v: tensor<?x1x?x1xf32>) -> tensor<?x4x?x1xf32> {
  %c0 = arith.constant 0 : index
  %d0 = tensor.dim %q, %c0 : tensor<?x4x?x1xf32>
  %c2 = arith.constant 2 : index
  %d2 = tensor.dim %q, %c2 : tensor<?x4x?x1xf32>
  %init = tensor.empty(%d0, %d2) : tensor<?x4x?x1xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x1xf32>, tensor<?x1x?x1xf32>, tensor<?x1x?x1xf32>) outs(%init : tensor<?x4x?x1xf32>) {scale = -5.000000e-01 : f32, causal, score = #attn.score<softplus>} -> tensor<?x4x?x1xf32>
  return %o : tensor<?x4x?x1xf32>
}
