// RUN: attn-opt %s -split-input-file --attn-convert-online-attention-to-linalg -canonicalize -cse | FileCheck %s

// The portable lowering of the tile op: linalg.generic ops on tensors,
// their bodies the math of AttentionAlgebra and the rules of
// AllowedKeyRule.h.

// Softmax, causal, a mask broadcast over batch and heads, grouped-query
// heads (KV head h floordiv 4).
// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-DAG: #[[V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d4, d3)>
// CHECK-DAG: #[[MASK:.*]] = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
// CHECK-LABEL: func.func @causal_mask_gqa(
// CHECK-SAME:    %[[QP:[^:]+]]: index, %[[KP:[^:]+]]: index)
// q.k in f32.
// CHECK:         %[[DOTS:.*]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK:           arith.extf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// Finished scores: the scale with log2(e), the mask and the causal rule at
// the tile's positions, -inf where not allowed; and which keys are allowed.
// CHECK:         %[[SCORES:.*]]:2 = linalg.generic {indexing_maps = [{{.*}}, #[[MASK]], {{.*}}]{{.*}} ins(%[[DOTS]], %{{.*}} : tensor<1x8x4x6xf32>, tensor<1x1x4x6xi1>) outs(%{{.*}}, %{{.*}} : tensor<1x8x4x6xf32>, tensor<1x8x4x6xi1>)
// CHECK:           arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:           linalg.index 2
// CHECK:           linalg.index 3
// CHECK:           arith.addi %{{.*}}, %[[QP]]
// CHECK:           arith.addi %{{.*}}, %[[KP]]
// CHECK:           arith.cmpi sle
// CHECK:           arith.andi
// CHECK:           %[[SEL:.*]] = arith.select %[[ALLOWED:.*]], %{{.*}}, %{{.*}} : f32
// CHECK:           linalg.yield %[[SEL]], %[[ALLOWED]] : f32, i1
// The tile's row maximum, then the state's new maximum written in place of
// the old (the second output is mSafe, the third alpha).
// CHECK:         %[[TMAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SCORES]]#0 : tensor<1x8x4x6xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[UPD:.*]]:3 = linalg.generic {{.*}} ins(%[[TMAX]] : tensor<1x8x4xf32>) outs(%[[M:[^,]+]], %{{.*}}, %{{.*}} :
// CHECK:           arith.maximumf
// CHECK:           math.exp2
// Weights, then sum and acc rescaled by alpha and accumulated.
// CHECK:         %[[W:.*]] = linalg.generic {{.*}} ins(%[[SCORES]]#0, %[[UPD]]#1 :
// CHECK:           math.exp2
// CHECK:         linalg.generic {{.*}} ins(%[[UPD]]#2 : tensor<1x8x4xf32>) outs(%{{.*}} : tensor<1x8x4xf32>)
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<1x8x4x6xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[UPD]]#2 : tensor<1x8x4xf32>) outs(%{{.*}} : tensor<1x8x4x16xf32>)
// Keys that are not allowed are skipped: a value a row may not see never
// reaches it, not even as 0 * NaN.
// CHECK:         %[[ACC:.*]] = linalg.generic {indexing_maps = [{{.*}}, #[[V]], {{.*}}]{{.*}} ins(%[[W]], %{{.*}}, %[[SCORES]]#1 : tensor<1x8x4x6xf32>, tensor<1x2x6x16xf16>, tensor<1x8x4x6xi1>)
// CHECK:           %[[PV:.*]] = arith.addf
// CHECK:           arith.select %{{.*}}, %[[PV]], %{{.*}} : f32
// CHECK:         return %[[ACC]], %[[UPD]]#0, %[[SUM]]
func.func @causal_mask_gqa(%q: tensor<1x8x4x32xf16>, %k: tensor<1x2x6x32xf16>, %v: tensor<1x2x6x16xf16>,
                           %mask: tensor<1x1x4x6xi1>,
                           %acc: tensor<1x8x4x16xf32>, %m: tensor<1x8x4xf32>, %l: tensor<1x8x4xf32>,
                           %qp: index, %kp: index) -> (tensor<1x8x4x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x8x4x32xf16>, tensor<1x2x6x32xf16>, tensor<1x2x6x16xf16>)
      mask(%mask : tensor<1x1x4x6xi1>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x8x4x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>)
      {scale = 0.125 : f32, causal} -> tensor<1x8x4x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>
  return %a, %mm, %ll : tensor<1x8x4x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>
}

// -----

// A kernel score keeps no maximum: the state's max comes back as it was,
// and nothing is rescaled; a key that is not allowed weighs 0.
// CHECK-LABEL: func.func @kernel_taylor2(
// CHECK-SAME:    %[[M:[^:]+]]: tensor<1x2x4xf32>, %{{[^:]+}}: tensor<1x2x4xf32>
// CHECK-NOT:     math.exp2
// CHECK:         arith.select
// CHECK-NOT:     math.exp2
// CHECK:         return %{{.*}}, %[[M]], %{{.*}}
func.func @kernel_taylor2(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>,
                          %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %l: tensor<1x2x4xf32>,
                          %qp: index, %kp: index) -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 0.125 : f32, causal, score = #attn.score<kernel<taylor2>>} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return %a, %mm, %ll : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}

// -----

// attn.finalize: acc / sum, 0 where sum is 0. An f32 result divides acc in
// place (acc is the generic's output); another type reads acc and writes
// init, truncated.
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @finalize(
// CHECK-SAME:    %[[ACC:[^:]+]]: tensor<1x2x4x8xf32>, %[[L:[^:]+]]: tensor<1x2x4xf32>, %[[INIT:[^:]+]]: tensor<1x2x4x8xf32>, %[[INIT16:[^:]+]]: tensor<1x2x4x8xbf16>)
// CHECK:         %[[F32:.*]] = linalg.generic {indexing_maps = [#[[ROWS]], #[[ID]]], {{.*}}} ins(%[[L]] : tensor<1x2x4xf32>) outs(%[[ACC]] : tensor<1x2x4x8xf32>)
// CHECK:           arith.cmpf oeq
// CHECK:           arith.divf
// CHECK:           arith.select
// CHECK:         %[[BF16:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]], #[[ID]]], {{.*}}} ins(%[[ACC]], %[[L]] : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%[[INIT16]] : tensor<1x2x4x8xbf16>)
// CHECK:           arith.divf
// CHECK:           arith.truncf
// Unnormalized kernel scores: acc as it is.
// CHECK:         %[[RAW:.*]] = linalg.generic {{.*}} outs(%[[ACC]] : tensor<1x2x4x8xf32>)
// CHECK-NOT:       arith.divf
// CHECK:           linalg.yield
// CHECK:         return %[[F32]], %[[BF16]], %[[RAW]]
func.func @finalize(%acc: tensor<1x2x4x8xf32>, %l: tensor<1x2x4xf32>, %init: tensor<1x2x4x8xf32>, %init16: tensor<1x2x4x8xbf16>)
    -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xbf16>, tensor<1x2x4x8xf32>) {
  %a = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%init : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %b = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%init16 : tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xbf16>
  %c = attn.finalize ins(%acc, %l : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) outs(%init : tensor<1x2x4x8xf32>)
      {score = #attn.score<kernel<identity>, normalize = false>} -> tensor<1x2x4x8xf32>
  return %a, %b, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xbf16>, tensor<1x2x4x8xf32>
}

// -----

// A feature product: the dots are phi(scale q) . phi(k) (elu1: x + 1 above
// 0, e^x below), and nothing scales them after. No rule: no allowed-keys
// tensor, and P V reads every key.
// CHECK-LABEL: func.func @elu1(
// CHECK:         %[[DOTS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK:           %[[SQ:.*]] = arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK:           arith.cmpf ogt, %[[SQ]]
// CHECK:           math.exp %[[SQ]]
// CHECK:           math.exp
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK-NOT:     i1>
// CHECK:         return
func.func @elu1(%q: tensor<1x2x4x8xf32>, %acc: tensor<1x2x4x8xf32>, %m: tensor<1x2x4xf32>, %i: index)
    -> (tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>) {
  %a:3 = attn.online_attention ins(%q, %q, %q : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
      positions(%i, %i) outs(%acc, %m, %m : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
      {scale = 0.5 : f32, score = #attn.score<kernel<elu1>>} -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  return %a#0, %a#1, %a#2 : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
}
