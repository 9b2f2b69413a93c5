// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target="vector-width=256 threads=2" --attn-apply-strategies --canonicalize --cse | FileCheck %s

// The linear strategy's CPU backward of a kernel score: one scf.forall task
// per (batch, KV head) with dQ, dK and dV as shared outputs; a heap buffer
// of one Z per row (normalized only) for the reverse pass; register tiles
// of vector.fma; no score matrix.

// CHECK-LABEL: func.func @causal_gqa_elu1
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs({{.*}}) -> (tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>)
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<200xf32>
// CHECK: vector.fma
// CHECK-COUNT-3: tensor.parallel_insert_slice
// CHECK-NOT: linalg.generic
func.func @causal_gqa_elu1(%q: tensor<2x4x100x16xf32>, %k: tensor<2x2x90x16xf32>,
                           %v: tensor<2x2x90x8xf32>, %o: tensor<2x4x100x8xf32>,
                           %do: tensor<2x4x100x8xf32>)
    -> (tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %v, %o, %do : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>, tensor<2x4x100x8xf32>, tensor<2x4x100x8xf32>)
      outs(%q, %k, %v : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>)
      {causal, score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear">}
      -> tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>
  return %g#0, %g#1, %g#2 : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x8xf32>
}

// -----

// Unnormalized: no Z to keep.
// CHECK-LABEL: func.func @unnormalized_taylor2
// CHECK-NOT: memref.alloc()
// CHECK: tensor.parallel_insert_slice
func.func @unnormalized_taylor2(%q: tensor<1x2x33x4xf32>, %o: tensor<1x2x33x4xf32>)
    -> (tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>) {
  %g:3 = attn.attention_backward ins(%q, %q, %q, %o, %o : tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>)
      outs(%q, %q, %q : tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>)
      {score = #attn.score<kernel<taylor2>, normalize = false>, strategy = #attn.strategy<"linear", {chunk = 8}>}
      -> tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>
  return %g#0, %g#1, %g#2 : tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>, tensor<1x2x33x4xf32>
}

// -----

// The CPU flash backward differentiates softmax and softplus only.
func.func @tiled_kernel_score(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{strategy 'tiled' cannot compute this op: its CPU backward kernel differentiates softmax and softplus (kernel scores: the linear or reference strategy)}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      outs(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      {score = #attn.score<kernel<relu>>, strategy = #attn.strategy<"tiled">}
      -> tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
  return
}

// -----

// A mask is not in the factorization.
func.func @linear_mask(%q: tensor<1x2x8x4xf32>, %m: tensor<1x1x8x8xi1>) {
  // expected-error @+1 {{strategy 'linear' cannot compute this op: mask is not supported}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      mask(%m : tensor<1x1x8x8xi1>)
      outs(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      {score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear">}
      -> tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
  return
}

// -----

// tile_rows sizes the forward's output tiles only: written on the backward
// it is an error, not ignored.
func.func @tile_rows_on_backward(%q: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{linear strategy parameter tile_rows does not apply to attn.attention_backward: its register tiles are chosen per product}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      outs(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
      {score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear", {tile_rows = 4}>}
      -> tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
  return
}
