// REQUIRES: numpy
//
// NaN in the inputs of kernel<relu> attention, whose allowed weights are
// often exactly 0 (still read: 0 * NaN is NaN). The layout and the NaN
// positions are numerics-nan-inf.mlir's: q row 5, key 170 and value 60
// (element 0); causal (row i sees keys up to i + 130), a 100-key window
// and a random mask with a fully masked row. split_kv declines kernel
// scores: they have no log-sum-exp for attn.merge_states to merge by.
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x70x16:f32:nan@5 k=1x2x200x16:f32:nan@170 v=1x2x200x16:f32:nan@60 mask=1x1x70x200:bool:mask
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy -- attention --causal --window 100,- --mask --score relu --nan-reach | FileCheck %s

// CHECK: reference: ok {{.*}} nan={{[1-9][0-9]*}} inf=0 outside_tolerance=0
// CHECK-NEXT: nan-reach: nan_elements={{[1-9][0-9]*}} rows_with_nan={{[1-9][0-9]*}} rows_without={{[1-9][0-9]*}} mismatches=0
// CHECK: tiled: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK: tiled-odd: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK: tiled-wide: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK: split_kv: skipped (kernel scores have no log-sum-exp
// CHECK: split_kv-odd: skipped (kernel scores
// CHECK: block_sparse: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK: portable: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK: portable-splits: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK-NOT: MISMATCH

func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %m: tensor<1x1x70x200xi1>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>)
                      mask(%m : tensor<1x1x70x200xi1>)
                      outs(%init : tensor<1x4x70x16xf32>) {causal, window = #attn.window<left = 100>, score = #attn.score<kernel<relu>>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}
