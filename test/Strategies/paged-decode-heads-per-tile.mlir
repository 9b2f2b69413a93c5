// Paged decode (split_kv, K read unpacked): a task visits every KV head in
// each of its key tiles, with each head's rows of state side by side on its
// stack, because a paged cache keeps a page's heads next to each other.
// Contiguous K/V, and heads whose state would not fit the stack budget,
// keep one head per task.
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(attn-apply-strategies,attn-convert-online-attention-to-cpu-vector))" | FileCheck %s

// Four KV heads, two query heads each (micro_q 2): 4 x 2 rows of state per
// task, the splits' partial states [splits, blocks, 8, 32]; the head loop
// runs inside the tile loop, after the tile's pages are read from the
// table, once for all heads.
// CHECK-LABEL: func.func @paged
// CHECK: scf.forall {{.*}} -> (tensor<2x?x8x32xf32>, tensor<2x?x8xf32>)
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<8x32xf32>
// CHECK: memref.alloca() : memref<8xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK-NEXT: arith.cmpi
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16{{.*}} step
// CHECK: memref.store %{{.*}} : memref<16xindex>
// CHECK-NOT: scf.for
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step
// CHECK: memref.prefetch
// CHECK-NOT: memref.store {{.*}} : memref<16xindex>
// CHECK: attn.merge_states {{.*}} -> tensor<?x8x32xf32>, tensor<?x8xf32>
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, threads = 2>} {
func.func @paged(%q: tensor<1x8x1x32xf32>, %kc: tensor<6x4x16x32xf32>,
                 %vc: tensor<6x4x16x32xf32>, %table: tensor<1x6xi32>,
                 %klen: tensor<1xi32>) -> tensor<1x8x1x32xf32> {
  %init = tensor.empty() : tensor<1x8x1x32xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<1x8x1x32xf32>, tensor<6x4x16x32xf32>, tensor<6x4x16x32xf32>, tensor<1x6xi32>, tensor<1xi32>) outs(%init : tensor<1x8x1x32xf32>) {strategy = #attn.strategy<"split_kv", {block_k = 16 : i64, block_q = 1 : i64, micro_q = 2 : i64, splits = 2 : i64}>} -> tensor<1x8x1x32xf32>
  return %o : tensor<1x8x1x32xf32>
}
}

// -----

// The same decode over contiguous K/V: one KV head per task (2 rows of
// state), the tasks inside the loop over (batch, KV head); no head loop in
// the tiles.
// CHECK-LABEL: func.func @contiguous
// CHECK: scf.forall {{.*}} -> (tensor<2x?x2x32xf32>, tensor<2x?x2xf32>)
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<2x32xf32>
// CHECK-NOT: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step
// CHECK: attn.merge_states
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, threads = 2>} {
func.func @contiguous(%q: tensor<1x8x1x32xf32>, %k: tensor<1x4x96x32xf32>,
                      %v: tensor<1x4x96x32xf32>) -> tensor<1x8x1x32xf32> {
  %init = tensor.empty() : tensor<1x8x1x32xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x1x32xf32>, tensor<1x4x96x32xf32>, tensor<1x4x96x32xf32>) outs(%init : tensor<1x8x1x32xf32>) {strategy = #attn.strategy<"split_kv", {block_k = 16 : i64, block_q = 1 : i64, micro_q = 2 : i64, splits = 2 : i64}>} -> tensor<1x8x1x32xf32>
  return %o : tensor<1x8x1x32xf32>
}
}

// -----

// 64 KV heads of 512 values: their state (64 x 2 rows of 514 f32, 263 KB)
// exceeds the 256 KiB budget, so each task keeps one head.
// CHECK-LABEL: func.func @many_heads
// CHECK: scf.forall {{.*}} -> (tensor<2x?x2x512xf32>, tensor<2x?x2xf32>)
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<2x512xf32>
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, threads = 2>} {
func.func @many_heads(%q: tensor<1x64x1x512xf32>, %kc: tensor<4x64x16x512xf32>,
                      %vc: tensor<4x64x16x512xf32>, %table: tensor<1x4xi32>,
                      %klen: tensor<1xi32>) -> tensor<1x64x1x512xf32> {
  %init = tensor.empty() : tensor<1x64x1x512xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %table, %klen : tensor<1x64x1x512xf32>, tensor<4x64x16x512xf32>, tensor<4x64x16x512xf32>, tensor<1x4xi32>, tensor<1xi32>) outs(%init : tensor<1x64x1x512xf32>) {strategy = #attn.strategy<"split_kv", {block_k = 16 : i64, block_q = 1 : i64, micro_q = 2 : i64, splits = 2 : i64}>} -> tensor<1x64x1x512xf32>
  return %o : tensor<1x64x1x512xf32>
}
}
