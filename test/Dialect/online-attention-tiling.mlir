// RUN: attn-opt %s -transform-interpreter -split-input-file -canonicalize -cse | FileCheck %s

// attn.online_attention tiles through upstream's TilingInterface: rows and
// heads in parallel, keys as a reduction that carries the state, and keys
// split into partial reductions merged by AttentionAlgebra's factors.

// Rows by 4 and keys by 8: each tile op reads its rows' queries and state,
// a block of keys, and positions moved by the tile's offsets. A grouped-query
// op tiled by one head reads KV head h / 4.
// CHECK-LABEL: func.func @rows_and_keys(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x8x16x32xf32>, %[[K:[^:]+]]: tensor<1x2x24x32xf32>, %[[V:[^:]+]]: tensor<1x2x24x8xf32>
// CHECK-SAME:    %[[QP:[^:]+]]: index, %[[KP:[^:]+]]: index
// CHECK:         scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:           scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:             scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-DAG:           %[[KVH:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK-DAG:           %[[QS:.*]] = tensor.extract_slice %[[Q]][0, %[[H]], %[[M]], 0] [1, 1, 4, 32]
// CHECK-DAG:           %[[KS:.*]] = tensor.extract_slice %[[K]][0, %[[KVH]], %[[N]], 0] [1, 1, 8, 32]
// CHECK-DAG:           %[[QPOS:.*]] = arith.addi %[[QP]], %[[M]]
// CHECK-DAG:           %[[KPOS:.*]] = arith.addi %[[KP]], %[[N]]
// CHECK:               attn.online_attention ins(%[[QS]], %[[KS]], %{{.*}} : tensor<1x1x4x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x8xf32>) positions(%[[QPOS]], %[[KPOS]]) outs({{.*}} : tensor<1x1x4x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) {causal, scale = 1.250000e-01 : f32}
func.func @rows_and_keys(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x8xf32>,
                         %acc: tensor<1x8x16x8xf32>, %m: tensor<1x8x16xf32>, %l: tensor<1x8x16xf32>,
                         %qp: index, %kp: index) -> (tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>)
      {scale = 0.125 : f32, causal} -> tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %a, %mm, %ll : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %loops:3 = transform.structured.tile_using_for %op tile_sizes [0, 1, 4, 8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Keys split three ways: each split starts from the empty state (acc 0,
// max -inf, sum 0), the splits' states are written at their index of a
// leading split dimension, and the merge takes the largest maximum, then
// weighs the initial state and each split by exp2(m - max).
// CHECK-LABEL: func.func @split_keys(
// CHECK-DAG:     %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ACC0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<3x1x2x16x8xf32>)
// CHECK-DAG:     %[[MAX0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<3x1x2x16xf32>)
// CHECK:         %[[PARTS:.*]]:3 = scf.forall (%[[S:.*]]) in (3) shared_outs(%{{.*}} = %[[ACC0]], %{{.*}} = %[[MAX0]], %{{.*}} = %{{.*}})
// CHECK:           attn.online_attention {{.*}} outs({{.*}} : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>)
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[S]], 0, 0, 0, 0] [1, 1, 2, 16, 8]
// CHECK:         %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[PARTS]]#1 : tensor<3x1x2x16xf32>)
// CHECK:           arith.maximumf
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] : tensor<1x2x16xf32>, tensor<1x2x16xf32>)
// CHECK:           math.exp2
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PARTS]]#0, %[[PARTS]]#1, %[[MAX]] :
// CHECK:           math.exp2
// CHECK:           arith.mulf
// CHECK:           arith.addf
func.func @split_keys(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x8xf32>,
                      %acc: tensor<1x2x16x8xf32>, %m: tensor<1x2x16xf32>, %l: tensor<1x2x16xf32>,
                      %qp: index, %kp: index) -> (tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>
  return %a, %mm, %ll : tensor<1x2x16x8xf32>, tensor<1x2x16xf32>, tensor<1x2x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    // Handles: the three fills of the empty state, the split op, the five
    // ops of the merge and the forall.
    %handles:10 = transform.structured.tile_reduction_using_forall %op
        reduction_dims = [3] by num_threads = [0, 0, 0, 3]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op,
                                  !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}


// -----

// Heads by whole groups: two groups of 4 query heads read KV heads
// h / 4 .. h / 4 + 1 (the tile's own maps divide by 4 again).
// CHECK-LABEL: func.func @head_groups(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x16x4x32xf32>, %[[K:[^:]+]]: tensor<1x4x24x32xf32>
// CHECK:         scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %[[C8:.*]] iter_args
// CHECK:           %[[KVH:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK-DAG:       tensor.extract_slice %[[Q]][0, %[[H]], 0, 0] [1, 8, 4, 32]
// CHECK-DAG:       tensor.extract_slice %[[K]][0, %[[KVH]], 0, 0] [1, 2, 24, 32]
// CHECK:           attn.online_attention ins({{.*}} : tensor<1x8x4x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>)
func.func @head_groups(%q: tensor<1x16x4x32xf32>, %k: tensor<1x4x24x32xf32>, %v: tensor<1x4x24x8xf32>,
                       %acc: tensor<1x16x4x8xf32>, %m: tensor<1x16x4xf32>, %l: tensor<1x16x4xf32>,
                       %qp: index, %kp: index) -> tensor<1x16x4x8xf32> {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x16x4x32xf32>, tensor<1x4x24x32xf32>, tensor<1x4x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x16x4x8xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>)
      {scale = 0.125 : f32} -> tensor<1x16x4x8xf32>, tensor<1x16x4xf32>, tensor<1x16x4xf32>
  return %a : tensor<1x16x4x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %loop = transform.structured.tile_using_for %op tile_sizes [0, 8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Quantized K/V: i8's per-key scales [B, Hkv, N] are sliced with the keys
// (batch, KV head h / 4, key block); f8E4M3FN's per-head scales [Hkv] by
// KV head.
// CHECK-LABEL: func.func @quantized_scales(
// CHECK-SAME:    %[[KSC:[^:]+]]: tensor<1x2x24xf32>, %[[VSC:[^:]+]]: tensor<2xf32>
// CHECK:         scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:           scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:             scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-DAG:           %[[KVH:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK-DAG:           %[[KS:.*]] = tensor.extract_slice %[[KSC]][0, %[[KVH]], %[[N]]] [1, 1, 8] [1, 1, 1] : tensor<1x2x24xf32> to tensor<1x1x8xf32>
// CHECK-DAG:           %[[VS:.*]] = tensor.extract_slice %[[VSC]][%[[KVH]]] [1] [1] : tensor<2xf32> to tensor<1xf32>
// CHECK:               attn.online_attention ins({{.*}} : tensor<1x1x4x32xf32>, tensor<1x1x8x32xi8>, tensor<1x1x8x8xf8E4M3FN>) k_scale(%[[KS]] : tensor<1x1x8xf32>) v_scale(%[[VS]] : tensor<1xf32>) positions(
func.func @quantized_scales(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x24x32xi8>, %v: tensor<1x2x24x8xf8E4M3FN>,
                            %ks: tensor<1x2x24xf32>, %vs: tensor<2xf32>,
                            %acc: tensor<1x8x16x8xf32>, %m: tensor<1x8x16xf32>, %l: tensor<1x8x16xf32>,
                            %qp: index, %kp: index) -> (tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x24x32xi8>, tensor<1x2x24x8xf8E4M3FN>)
      k_scale(%ks : tensor<1x2x24xf32>) v_scale(%vs : tensor<2xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %a, %mm, %ll : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %loops:3 = transform.structured.tile_using_for %op tile_sizes [0, 1, 4, 8]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}
