func.func @strategy_unquoted(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<1x2x12x8xf32>, %init: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x4x8x8xf32>) {strategy = #attn.strategy<tiled>} -> tensor<1x4x8x8xf32>
  return %o : tensor<1x4x8x8xf32>
}
