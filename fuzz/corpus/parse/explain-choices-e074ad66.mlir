func.func @decode(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x32768x128xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = attn.attention ins(%q, %k, %k : tensor<1x32x1x128xf32>, tensor<1x8x32768x128xf32>, tensor<1x8x32768x128xf32>)
                      outs(%init : tensor<1x32x1x128xf32>) -> tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
