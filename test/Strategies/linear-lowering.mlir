// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target="vector-width=512" --attn-apply-strategies --canonicalize --cse | FileCheck %s

// The linear strategy rewrites kernel-score attention into one scf.forall
// task per (batch, KV head) that carries a state S = sum phi(k) v^T [F, Dv]
// and z = sum phi(k) [F] in stack scratch: the keys before the first
// chunk's band join the state first, then each chunk of queries (all G
// heads of the group) reads the state, adds the masked quadratic step over
// the chunk's own keys (causal), writes its rows, and adds those keys to the
// state. All products are register tiles of vector.fma. Work too small for
// a parallel region runs the tasks in an scf.for on one thread.

// Causal, GQA (4 query heads on 2 KV heads), Lq = 400 < Lk = 410, elu1,
// chunks of 16 queries (25 chunks).
// CHECK-LABEL: func.func @causal_gqa(
// CHECK-SAME:      %[[Q:[^:]+]]: tensor<1x4x400x16xf32>, %[[K:[^:]+]]: tensor<1x2x410x16xf32>, %[[V:[^:]+]]: tensor<1x2x410x32xf32>, %[[INIT:[^:]+]]: tensor<1x4x400x32xf32>)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C25:.*]] = arith.constant 25 : index
// CHECK-DAG:     %[[C10:.*]] = arith.constant 10 : index
// One task per (batch, KV head).
// CHECK:         %[[RES:.*]] = scf.forall (%[[T:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[INIT]])
// The state S [F = 16, Dv = 32] and z [16] on the stack, zeroed.
// CHECK:           %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<16x32xf32>
// CHECK:           %[[Z:.*]] = memref.alloca() {alignment = 64 : i64} : memref<16xf32>
// CHECK:           %[[KVH:.*]] = arith.remui %[[T]]
// Keys 0..9 (j < Lk - Lq) are in every query's past: phi(k) rows (elu1 is
// x > 0 ? x + 1 : exp x), then S += phi(K)^T V by rank-1 updates and z += phi(k).
// CHECK:           scf.for %{{.*}} = %[[C0]] to %[[C10]]
// CHECK:             vector.transfer_read %[[K]]
// CHECK:             math.exp
// CHECK:             arith.select
// CHECK:           scf.for
// CHECK:             scf.for {{.*}} iter_args(
// CHECK:               vector.transfer_read %[[V]]
// CHECK:               vector.broadcast
// CHECK:               vector.fma
// CHECK:           scf.for %{{.*}} = %[[C0]] to %[[C10]] {{.*}} iter_args(
// CHECK:             arith.addf {{.*}} : vector<16xf32>
// The rows of the group's 4 heads, chunk by chunk.
// CHECK:           %[[SLICE:.*]] = tensor.extract_slice %[[OUT]]{{.*}} [1, 2, 400, 32] [1, 1, 1, 1] : tensor<1x4x400x32xf32> to tensor<2x400x32xf32>
// CHECK:           %[[ROWS:.*]] = scf.for %{{.*}} = %[[C0]] to %[[C25]] {{.*}} iter_args(%[[ACC:.*]] = %[[SLICE]]) -> (tensor<2x400x32xf32>)
// The chunk's band of keys, transposed in registers for the scores.
// CHECK:             vector.shuffle
// CHECK:             vector.shuffle
// Scores of the chunk's rows against its keys, masked by j <= i + Lk - Lq,
// summed for the normalizer.
// CHECK:             arith.cmpi {{.*}} : vector<16xi32>
// CHECK:             arith.select {{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:             vector.reduction <add>
// O = phi(Q) S + P V, den += phi(Q) . z, then O / den (0 where den = 0).
// CHECK:             vector.fma
// CHECK:             arith.divf
// CHECK:             vector.transfer_write {{.*}} : vector<16xf32>, tensor<2x400x32xf32>
// The chunk's keys join the state.
// CHECK:             vector.fma
// CHECK:             scf.yield %{{.*}} : tensor<2x400x32xf32>
// CHECK:           scf.forall.in_parallel {
// CHECK-NEXT:        tensor.parallel_insert_slice %[[ROWS]] into %[[OUT]]{{.*}} [1, 2, 400, 32] [1, 1, 1, 1] : tensor<2x400x32xf32> into tensor<1x4x400x32xf32>
// CHECK:         return %[[RES]]
func.func @causal_gqa(%q: tensor<1x4x400x16xf32>, %k: tensor<1x2x410x16xf32>, %v: tensor<1x2x410x32xf32>, %init: tensor<1x4x400x32xf32>) -> tensor<1x4x400x32xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x400x16xf32>, tensor<1x2x410x16xf32>, tensor<1x2x410x32xf32>)
                      outs(%init : tensor<1x4x400x32xf32>)
                      {causal, score = #attn.score<kernel<elu1>>, strategy = #attn.strategy<"linear", {chunk = 16}>} -> tensor<1x4x400x32xf32>
  return %o : tensor<1x4x400x32xf32>
}

// -----

// Non-causal taylor2 with D = 8: the packed feature map [1, x, x_a x_b
// (a <= b)] has F = 1 + 8 + 36 = 45 features, x_a x[a:] built from x
// shifted by shuffles; no intra-chunk step (no masks); all keys first, then
// the queries; bf16 in, f32 accumulation, bf16 out. Small: the 2 tasks run
// one after the other, sharing one set of scratch buffers.
// CHECK-LABEL: func.func @taylor2_bf16(
// CHECK-NOT:     scf.forall
// CHECK:         memref.alloca() {alignment = 64 : i64} : memref<45x16xf32>
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x1x24x16xbf16>)
// CHECK:           arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK:           vector.shuffle {{.*}} [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
// CHECK-NOT:       arith.cmpi {{.*}} : vector<16xi32>
// CHECK:           arith.truncf {{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:           vector.transfer_write {{.*}} : vector<16xbf16>, tensor<1x24x16xbf16>
// CHECK:           tensor.insert_slice {{.*}} : tensor<1x24x16xbf16> into tensor<2x1x24x16xbf16>
func.func @taylor2_bf16(%q: tensor<2x1x24x8xbf16>, %k: tensor<2x1x24x8xbf16>, %v: tensor<2x1x24x16xbf16>, %init: tensor<2x1x24x16xbf16>) -> tensor<2x1x24x16xbf16> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x1x24x8xbf16>, tensor<2x1x24x8xbf16>, tensor<2x1x24x16xbf16>)
                      outs(%init : tensor<2x1x24x16xbf16>)
                      {score = #attn.score<kernel<taylor2>>, strategy = #attn.strategy<"linear">} -> tensor<2x1x24x16xbf16>
  return %o : tensor<2x1x24x16xbf16>
}

// -----

// Strategies the op does not allow are rejected with the reason.
func.func @softmax(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{strategy 'linear' cannot compute this op: needs a kernel score}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
                      outs(%q : tensor<1x1x8x8xf32>) {strategy = #attn.strategy<"linear">} -> tensor<1x1x8x8xf32>
  return %o : tensor<1x1x8x8xf32>
}
