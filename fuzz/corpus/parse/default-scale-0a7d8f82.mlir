func.func @main(%q: tensor<1x2x10x16xf32>, %k: tensor<1x2x14x16xf32>, %v: tensor<1x2x14x12xf32>) -> tensor<1x2x10x12xf32> {
  %init = tensor.empty() : tensor<1x2x10x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x10x16xf32>, tensor<1x2x14x16xf32>, tensor<1x2x14x12xf32>)
                      outs(%init : tensor<1x2x10x12xf32>) -> tensor<1x2x10x12xf32>
  return %o : tensor<1x2x10x12xf32>
}
