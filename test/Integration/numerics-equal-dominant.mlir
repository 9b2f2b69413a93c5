// REQUIRES: numpy
//
// Rows where every score is equal (all keys the same vector: uniform
// weights over the allowed keys) and rows with one dominant key (every 7th
// key scores about 40 above the rest: weights of nearly 1 and e^-40),
// under every strategy, against the float64 oracle.
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/equal q=1x4x70x16:f32 k=1x2x200x16:f32:equal v=1x2x200x16:f32 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/equal --inputs %t/equal/q.npy,%t/equal/k.npy,%t/equal/v.npy,%t/equal/mask.npy -- attention --causal --window 100,- --mask | FileCheck %s
// RUN: %python %S/lib/check_case.py gen %t/dominant q=1x4x70x16:f32:dominant k=1x2x200x16:f32:dominant v=1x2x200x16:f32 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/dominant --inputs %t/dominant/q.npy,%t/dominant/k.npy,%t/dominant/v.npy,%t/dominant/mask.npy -- attention --causal --window 100,- --mask | FileCheck %s

// CHECK: reference: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: tiled-odd: ok
// CHECK: tiled-wide: ok
// CHECK: split_kv: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: split_kv-odd: ok
// CHECK: block_sparse: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable: ok {{.*}} nan=0 inf=0 outside_tolerance=0
// CHECK: portable-splits: ok {{.*}} nan=0 inf=0 outside_tolerance=0

func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, window = #attn.window<left = 100>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
