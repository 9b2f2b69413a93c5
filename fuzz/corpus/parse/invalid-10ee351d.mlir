func.func @f64_query(%q: tensor<1x4x8x16xf64>, %k: tensor<1x2x12x16xf64>, %v: tensor<1x2x12x8xf64>, %init: tensor<1x4x8x8xf64>) -> tensor<1x4x8x8xf64> {
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x8x16xf64>, tensor<1x2x12x16xf64>, tensor<1x2x12x8xf64>) outs(%init : tensor<1x4x8x8xf64>) -> tensor<1x4x8x8xf64>
  return %o : tensor<1x4x8x8xf64>
}
