func.func @main(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %init = tensor.empty() : tensor<1x2x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) outs(%init : tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %o : tensor<1x2x12x8xf32>
}
