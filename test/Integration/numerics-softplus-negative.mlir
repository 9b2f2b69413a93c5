// REQUIRES: numpy
//
// Softplus attention where every score of a row is far below 0: q and k
// are |30 x| and the scale is negative, so the scores run from about -0.5
// to -20000 (numerics-softplus-negative-d1.mlir has D = 1). softplus(s) is
// about e^s there and underflows to 0 below -104 in f32 (-745 in float64),
// yet the normalized weights are well defined: about e^(s_j - max s). Every
// strategy takes softplus weights relative to the row's (running) max,
// min(max s, 0), so such a row is a weighted average of its values, not a
// zero row. Found by attn-compile-fuzzer (the reference returned a zero row
// where tiled returned another average).
//
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x70x16:f32:big+positive k=1x2x200x16:f32:big+positive v=1x2x200x16:f32 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --causal --mask --score softplus --scale -0.5 --atol 2e-3 --rtol 2e-3 | FileCheck %s

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
                      outs(%init : tensor<1x4x70x16xf32>) {scale = -0.5 : f32, causal, score = #attn.score<softplus>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
