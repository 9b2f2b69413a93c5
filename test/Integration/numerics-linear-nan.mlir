// REQUIRES: numpy
//
// NaN in the inputs of kernel-score attention, for every strategy that can
// compute it (linear among them): a NaN reaches exactly the queries that
// read it (check_case.py --nan-reach). q row 5, key 170 and value 160
// (element 0) hold NaN; causal is bottom-right (row i sees keys up to
// i + 130), so rows 30.. read value 160 and rows 40.. key 170. The linear
// strategy's causal chunks compute a masked quadratic step inside a chunk:
// a key a row may not see must be skipped there, not weighted by 0 (rows
// 28 and 29 once came out NaN through 0 * NaN).
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t/nan q=1x4x70x16:f32:nan@5 k=1x2x200x16:f32:nan@170 v=1x2x200x16:f32:nan@160
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --entry elu1 --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy -- attention --causal --score elu1 --nan-reach | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --entry taylor2 --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy -- attention --causal --score taylor2 --nan-reach | FileCheck %s
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/nan --entry identity --inputs %t/nan/q.npy,%t/nan/k.npy,%t/nan/v.npy -- attention --causal --score identity --no-normalize --nan-reach | FileCheck %s
//
// GQA groups of 4 (the chunk's rows interleave the group's heads) and
// relu, whose allowed weights are often exactly 0 (still read).
// RUN: %python %S/lib/check_case.py gen %t/gqa q=1x8x50x16:f32:nan@7 k=1x2x64x16:f32:nan@40 v=1x2x64x16:f32:nan@30
// RUN: %python %S/lib/run_strategies.py attn-run %s %t/gqa --entry relu_gqa --inputs %t/gqa/q.npy,%t/gqa/k.npy,%t/gqa/v.npy -- attention --causal --score relu --nan-reach | FileCheck %s

// CHECK: reference: ok {{.*}} nan={{[1-9][0-9]*}} inf=0 outside_tolerance=0
// CHECK-NEXT: nan-reach: nan_elements={{[1-9][0-9]*}} rows_with_nan={{[1-9][0-9]*}} rows_without={{[1-9][0-9]*}} mismatches=0
// CHECK: tiled: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// Kernel scores have no log-sum-exp to merge splits by.
// CHECK: split_kv: skipped (kernel scores have no log-sum-exp
// CHECK: linear: ok
// CHECK-NEXT: nan-reach: {{.*}} mismatches=0
// CHECK-NOT: MISMATCH
// CHECK-NOT: FAILED

func.func @elu1(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>) outs(%init : tensor<1x4x70x16xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @taylor2(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>) outs(%init : tensor<1x4x70x16xf32>) {causal, score = #attn.score<kernel<taylor2>>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @identity(%q: tensor<1x4x70x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>) -> tensor<1x4x70x16xf32> {
  %init = tensor.empty() : tensor<1x4x70x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x70x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32>) outs(%init : tensor<1x4x70x16xf32>) {causal, score = #attn.score<kernel<identity>, normalize = false>} -> tensor<1x4x70x16xf32>
  return %o : tensor<1x4x70x16xf32>
}

func.func @relu_gqa(%q: tensor<1x8x50x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> tensor<1x8x50x16xf32> {
  %init = tensor.empty() : tensor<1x8x50x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x50x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) outs(%init : tensor<1x8x50x16xf32>) {causal, score = #attn.score<kernel<relu>>} -> tensor<1x8x50x16xf32>
  return %o : tensor<1x8x50x16xf32>
}
