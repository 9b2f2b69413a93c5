// RUN: attn-opt %s -transform-interpreter -verify-diagnostics

// Tiling errors of attn.online_attention, each naming the rule (the second
// and third are upstream's, spelling included).

// A grouped-query op tiles its heads by 1 or by whole groups.
func.func @gqa_heads(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x8xf32>,
                     %acc: tensor<1x8x16x8xf32>, %m: tensor<1x8x16xf32>, %l: tensor<1x8x16xf32>,
                     %qp: index, %kp: index) -> tensor<1x8x16x8xf32> {
  // expected-error @+3 {{a grouped-query tile (4 query heads per KV head) tiles its heads by 1 or by a multiple of 4}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %a, %mm, %ll = attn.online_attention ins(%q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x8x16x8xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>
  return %a : tensor<1x8x16x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %loop = transform.structured.tile_using_for %op tile_sizes [0, 2]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
