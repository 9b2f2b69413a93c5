func.func @value_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<?x2x12x16xf32>, %v: tensor<3x2x12x8xf32>, %init: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<?x2x12x16xf32>, tensor<3x2x12x8xf32>) outs(%init : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %o : tensor<2x4x8x8xf32>
}
