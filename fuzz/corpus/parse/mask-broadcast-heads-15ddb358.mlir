func.func @main(%q: tensor<2x3x12x8xf32>, %k: tensor<2x3x12x8xf32>, %v: tensor<2x3x12x8xf32>, %m: tensor<2x1x12x12xi1>) -> tensor<2x3x12x8xf32> {
  %init = tensor.empty() : tensor<2x3x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x3x12x8xf32>, tensor<2x3x12x8xf32>, tensor<2x3x12x8xf32>)
                      mask(%m : tensor<2x1x12x12xi1>)
                      outs(%init : tensor<2x3x12x8xf32>) {causal} -> tensor<2x3x12x8xf32>
  return %o : tensor<2x3x12x8xf32>
}
