func.func @mask_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<3x1x8x12xi1>, %init: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32>) mask(%m : tensor<3x1x8x12xi1>) outs(%init : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %o : tensor<2x4x8x8xf32>
}
