// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target="vector-width=512 threads=2" --attn-apply-strategies --canonicalize --cse | FileCheck %s

// The tiled strategy's CPU backward (B = 2, Hkv = 2: four tasks for two
// threads): one scf.forall task per (batch, KV head) that walks the key tiles (K^T and V^T packed on the stack, dK and
// dV accumulated there), recomputes P from the LSE with register-blocked
// vector.fma products, and writes dQ in place. No score matrix is built.

// CHECK-LABEL: func.func @causal_gqa
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs({{.*}}) -> (tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>)
// CHECK: linalg.fill
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK: scf.for
// CHECK: vector.fma
// CHECK: math.exp2
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: linalg.reduce
// CHECK: return
func.func @causal_gqa(%q: tensor<2x4x100x16xf32>, %k: tensor<2x2x90x16xf32>,
                      %v: tensor<2x2x90x16xf32>, %o: tensor<2x4x100x16xf32>,
                      %do: tensor<2x4x100x16xf32>, %lse: tensor<2x4x100xf32>)
    -> (tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %v, %o, %do, %lse : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>, tensor<2x4x100x16xf32>, tensor<2x4x100x16xf32>, tensor<2x4x100xf32>)
      outs(%q, %k, %v : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>)
      {causal, strategy = #attn.strategy<"tiled">}
      -> tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>
  return %g#0, %g#1, %g#2 : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>
}

// -----

// One KV head and two threads: the group's four query heads are split
// among four tasks (two per thread), whose dK and dV partials
// [4, B, Hkv, Lk, D] are summed after them.

// CHECK-LABEL: func.func @multi_query
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs({{.*}}) -> (tensor<1x4x40x16xf32>, tensor<4x1x1x40x16xf32>, tensor<4x1x1x40x16xf32>)
// CHECK-COUNT-2: linalg.reduce
func.func @multi_query(%q: tensor<1x4x40x16xf32>, %k: tensor<1x1x40x16xf32>,
                       %lse: tensor<1x4x40xf32>)
    -> (tensor<1x4x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>) {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %q, %q, %lse : tensor<1x4x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x4x40x16xf32>, tensor<1x4x40x16xf32>, tensor<1x4x40xf32>)
      outs(%q, %k, %k : tensor<1x4x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>)
      {causal, strategy = #attn.strategy<"tiled">}
      -> tensor<1x4x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x40x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>
}

// -----

// A bias broadcast over the heads: dBias is summed over them after the
// tasks, from f32 [B, Hq, Lq, Lk] sums.

// CHECK-LABEL: func.func @head_broadcast_bias
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs({{.*}}) -> (tensor<2x2x8x12xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel", "parallel"]
// CHECK: tensor.expand_shape {{.*}} into tensor<2x1x8x12xf32>
func.func @head_broadcast_bias(%q: tensor<2x2x8x16xf32>, %k: tensor<2x2x12x16xf32>,
                               %bias: tensor<2x1x8x12xf32>, %lse: tensor<2x2x8xf32>)
    -> tensor<2x1x8x12xf32> {
  %g:4 = attn.attention_backward ins(%q, %k, %k, %q, %q, %lse : tensor<2x2x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8xf32>)
      bias(%bias : tensor<2x1x8x12xf32>)
      outs(%q, %k, %k, %bias : tensor<2x2x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>, tensor<2x1x8x12xf32>)
      {strategy = #attn.strategy<"tiled">}
      -> tensor<2x2x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x16xf32>, tensor<2x1x8x12xf32>
  return %g#3 : tensor<2x1x8x12xf32>
}

// -----

// f16: the gradients are accumulated in f32 tensors and rounded once.

// CHECK-LABEL: func.func @half
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs({{.*}}) -> (tensor<2x1x8x16xf32>, tensor<2x1x8x16xf32>, tensor<2x1x8x16xf32>)
// CHECK-COUNT-3: arith.truncf %{{.*}} : f32 to f16
func.func @half(%q: tensor<2x1x8x16xf16>, %lse: tensor<2x1x8xf32>)
    -> (tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>) {
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8xf32>)
      outs(%q, %q, %q : tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>)
      {strategy = #attn.strategy<"tiled">}
      -> tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>
  return %g#0, %g#1, %g#2 : tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>, tensor<2x1x8x16xf16>
}

// -----

// On a GPU target tiled builds the GPU backward (test/GPU/
// gpu-lowering-backward.mlir), whose products are per thread: tensor
// cores are refused with the reason.
module attributes {attn.target = #attn.target<kind = "gpu">} {
func.func @gpu_tensor_cores(%q: tensor<1x1x8x16xf16>, %lse: tensor<1x1x8xf32>) -> tensor<1x1x8x16xf16> {
  // expected-error @+1 {{tiled strategy parameter tensor_cores = 1: the backward kernel forms its products one thread at a time}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8xf32>)
      outs(%q, %q, %q : tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>)
      {strategy = #attn.strategy<"tiled", {tensor_cores = 1}>}
      -> tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>, tensor<1x1x8x16xf16>
  return %g#0 : tensor<1x1x8x16xf16>
}
}

// -----

// block_q sizes the forward's query blocks; the backward has none, so a
// written one is refused rather than ignored.
func.func @block_q(%q: tensor<1x1x8x16xf32>, %lse: tensor<1x1x8xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{tiled strategy parameter block_q does not apply to attn.attention_backward on the CPU: its tasks walk the keys in tiles of block_k, with micro-tiles of micro_q query rows}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8xf32>)
      outs(%q, %q, %q : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>)
      {strategy = #attn.strategy<"tiled", {block_q = 64}>}
      -> tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
  return %g#0 : tensor<1x1x8x16xf32>
}

// -----

// A backward task's stack scratch grows with block_k and D + Dv.
func.func @block_k(%q: tensor<1x1x8x1024xf32>, %lse: tensor<1x1x8xf32>) -> tensor<1x1x8x1024xf32> {
  // expected-error @+1 {{tiled strategy parameter block_k = 256 is out of range: a backward task's scratch (K^T, V^T, dK, dV of block_k keys, D = 1024, Dv = 1024) takes 4112 KiB of stack, more than the 2048 KiB limit}}
  %g:3 = attn.attention_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8xf32>)
      outs(%q, %q, %q : tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>)
      {strategy = #attn.strategy<"tiled", {block_k = 256}>}
      -> tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>, tensor<1x1x8x1024xf32>
  return %g#0 : tensor<1x1x8x1024xf32>
}

// -----

// A 2-D neighborhood's backward on the CPU: the same tasks over the
// flattened positions, NATTEN's rule per key vector.
// CHECK-LABEL: func.func @neighborhood_2d
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4]] : tensor<1x2x6x7x16xf32> into tensor<1x2x42x16xf32>
// CHECK: scf.forall
// CHECK: arith.remui
// CHECK: vector.fma
// CHECK: tensor.expand_shape
func.func @neighborhood_2d(%q: tensor<1x2x6x7x16xf32>, %lse: tensor<1x2x6x7xf32>) -> tensor<1x2x6x7x16xf32> {
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7xf32>)
      outs(%q, %q, %q : tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>)
      {kernel = [3, 5], dilation = [2, 1], strategy = #attn.strategy<"tiled">}
      -> tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>, tensor<1x2x6x7x16xf32>
  return %g#0 : tensor<1x2x6x7x16xf32>
}

// -----

// A neighborhood's score_mod (a relative positional bias) in the CPU
// kernel: evaluated on key vectors whose lanes outside the window are moved
// to the query's own position (arith.select), so that the table is read
// in bounds; no materialized scores.
// CHECK-LABEL: func.func @neighborhood_rpb
// CHECK: scf.forall
// CHECK: arith.select %{{.*}} : vector<16xi1>, vector<16xi32>
// CHECK: vector.fma
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @neighborhood_rpb(%q: tensor<1x2x40x16xf32>, %lse: tensor<1x2x40xf32>, %rpb: tensor<2x13xf32>) -> tensor<1x2x40x16xf32> {
  %g:3 = attn.neighborhood_backward ins(%q, %q, %q, %q, %q, %lse : tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40xf32>)
      outs(%q, %q, %q : tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>)
      {kernel = [7], strategy = #attn.strategy<"tiled">}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qx: index, %kx: index):
      %c6 = arith.constant 6 : index
      %d = arith.subi %kx, %qx : index
      %o = arith.addi %d, %c6 : index
      %t = tensor.extract %rpb[%h, %o] : tensor<2x13xf32>
      %r = arith.addf %s, %t : f32
      attn.yield %r : f32
    }
      -> tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>
  return %g#0 : tensor<1x2x40x16xf32>
}
