func.func @int_query(%q: tensor<1x4x8x16xi32>, %k: tensor<1x2x12x16xi32>, %v: tensor<1x2x12x8xi32>, %init: tensor<1x4x8x8xi32>) -> tensor<1x4x8x8xi32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xi32>, tensor<1x2x12x16xi32>, tensor<1x2x12x8xi32>) outs(%init : tensor<1x4x8x8xi32>) -> tensor<1x4x8x8xi32>
  return %o : tensor<1x4x8x8xi32>
}
