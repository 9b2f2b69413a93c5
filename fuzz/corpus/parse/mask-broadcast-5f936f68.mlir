func.func @main(%q: tensor<2x4x10x8xf32>, %k: tensor<2x2x14x8xf32>, %v: tensor<2x2x14x8xf32>, %m: tensor<1x4x10x14xi1>) -> tensor<2x4x10x8xf32> {
  %init = tensor.empty() : tensor<2x4x10x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x10x8xf32>, tensor<2x2x14x8xf32>, tensor<2x2x14x8xf32>)
                      mask(%m : tensor<1x4x10x14xi1>)
                      outs(%init : tensor<2x4x10x8xf32>) -> tensor<2x4x10x8xf32>
  return %o : tensor<2x4x10x8xf32>
}
