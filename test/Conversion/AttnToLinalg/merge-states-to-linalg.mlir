// RUN: attn-opt %s --attn-convert-online-attention-to-linalg | FileCheck %s

// attn.merge_states: one linalg.generic over the rows (each state's factor
// 2^(LSE_k log2(e) - max), their sum l and the merged LSE) and one over the
// elements (the weighted sum divided by l); f16 states are read as f32.

// CHECK-LABEL: func.func @merge_two
// CHECK:         %[[ROWS:.*]]:4 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<2x5xf32>, tensor<2x5xf32>)
// CHECK:           arith.maximumf
// CHECK:           math.exp2
// CHECK:           math.log2
// CHECK:         %[[OUT:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %[[ROWS]]#1, %[[ROWS]]#2, %[[ROWS]]#3 : tensor<2x5x8xf16>, tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>)
// CHECK-NOT:       math.exp2
// CHECK:           arith.extf
// CHECK:           arith.divf
// CHECK:           arith.truncf
// CHECK:         return %[[OUT]], %[[ROWS]]#0
func.func @merge_two(%o1: tensor<2x5x8xf16>, %l1: tensor<2x5xf32>, %o2: tensor<2x5x8xf16>, %l2: tensor<2x5xf32>,
                     %oi: tensor<2x5x8xf16>, %li: tensor<2x5xf32>) -> (tensor<2x5x8xf16>, tensor<2x5xf32>) {
  %o, %lse = attn.merge_states ins(%o1, %l1, %o2, %l2 : tensor<2x5x8xf16>, tensor<2x5xf32>, tensor<2x5x8xf16>, tensor<2x5xf32>)
      outs(%oi, %li : tensor<2x5x8xf16>, tensor<2x5xf32>) -> tensor<2x5x8xf16>, tensor<2x5xf32>
  return %o, %lse : tensor<2x5x8xf16>, tensor<2x5xf32>
}

// With the states' entropies: the rows' generic reads them too and yields
// the merged entropy after the LSE (its init is an output of that generic).
// CHECK-LABEL: func.func @merge_entropy
// CHECK:         %[[ROWS:.*]]:5 = linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>)
// CHECK:         %[[OUT:.*]] = linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %[[ROWS]]#2, %[[ROWS]]#3, %[[ROWS]]#4 : tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>)
// CHECK:         return %[[OUT]], %[[ROWS]]#0, %[[ROWS]]#1
func.func @merge_entropy(%o1: tensor<2x5x8xf32>, %l1: tensor<2x5xf32>, %h1: tensor<2x5xf32>, %o2: tensor<2x5x8xf32>, %l2: tensor<2x5xf32>, %h2: tensor<2x5xf32>,
                         %oi: tensor<2x5x8xf32>, %li: tensor<2x5xf32>, %hi: tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>) {
  %o, %lse, %h = attn.merge_states ins(%o1, %l1, %o2, %l2 : tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x5xf32>)
      entropy(%h1, %h2 : tensor<2x5xf32>, tensor<2x5xf32>)
      outs(%oi, %li, %hi : tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>
  return %o, %lse, %h : tensor<2x5x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>
}

// O of rank 1: its rows are 0-d (the LSE a tensor<f32>).
// CHECK-LABEL: func.func @merge_rank_one
// CHECK:         %[[ROWS:.*]]:4 = linalg.generic
// CHECK-SAME:      iterator_types = []
// CHECK:         %[[OUT:.*]] = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel"]
// CHECK:         return %[[OUT]], %[[ROWS]]#0
func.func @merge_rank_one(%o1: tensor<8xf32>, %l1: tensor<f32>, %o2: tensor<8xf32>, %l2: tensor<f32>,
                          %oi: tensor<8xf32>, %li: tensor<f32>) -> (tensor<8xf32>, tensor<f32>) {
  %o, %lse = attn.merge_states ins(%o1, %l1, %o2, %l2 : tensor<8xf32>, tensor<f32>, tensor<8xf32>, tensor<f32>)
      outs(%oi, %li : tensor<8xf32>, tensor<f32>) -> tensor<8xf32>, tensor<f32>
  return %o, %lse : tensor<8xf32>, tensor<f32>
}

// attn.finalize with an lse: the output's generic and one over the rows.
// CHECK-LABEL: func.func @finalize_lse
// CHECK:         %[[O:.*]] = linalg.generic
// CHECK:         %[[L:.*]] = linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<1x2x4xf32>, tensor<1x2x4xf32>)
// CHECK:           math.log2
// CHECK:         return %[[O]], %[[L]]
func.func @finalize_lse(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %m: tensor<1x2x4xf32>, %li: tensor<1x2x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) {
  %o, %lse = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) max(%m : tensor<1x2x4xf32>)
      outs(%acc : tensor<1x2x4x8xf32>) lse(%li : tensor<1x2x4xf32>) -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
  return %o, %lse : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
}
