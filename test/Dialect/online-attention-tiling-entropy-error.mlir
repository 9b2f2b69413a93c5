// RUN: attn-opt %s -transform-interpreter -verify-diagnostics

// Tiles carry acc, max and sum; a tile op with the entropy part of the
// state says that it does not tile (yet), in place of dropping that part.
func.func @entropy_state(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x24x8xf32>,
                         %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %l: tensor<1x4x16xf32>,
                         %t: tensor<1x4x16xf32>, %qp: index, %kp: index) -> tensor<1x4x16xf32> {
  // expected-error @+3 {{tiles carry the acc, max and sum parts of the state, not the 'entropy' part yet}}
  // expected-error @+2 {{faild to tile operation}}
  // expected-error @+1 {{failed to generate tiling loops}}
  %s:4 = attn.online_attention ins(%q, %k, %k : tensor<1x4x16x8xf32>, tensor<1x2x24x8xf32>, tensor<1x2x24x8xf32>)
      positions(%qp, %kp)
      outs(%acc, %m, %l : tensor<1x4x16x8xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) entropy(%t : tensor<1x4x16xf32>)
      {scale = 0.125 : f32} -> tensor<1x4x16x8xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
  return %s#3 : tensor<1x4x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.online_attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %loop = transform.structured.tile_using_for %op tile_sizes [0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
