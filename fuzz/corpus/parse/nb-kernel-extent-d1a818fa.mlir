func.func @main(%q: tensor<1x2x5x6x8xf32>, %k: tensor<1x2x5x6x8xf32>, %v: tensor<1x2x5x6x8xf32>) -> tensor<1x2x5x6x8xf32> {
  %init = tensor.empty() : tensor<1x2x5x6x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x5x6x8xf32>, tensor<1x2x5x6x8xf32>, tensor<1x2x5x6x8xf32>)
                         outs(%init : tensor<1x2x5x6x8xf32>)
                         {kernel = [5, 6], scale = 0.3 : f32} -> tensor<1x2x5x6x8xf32>
  return %o : tensor<1x2x5x6x8xf32>
}

func.func @dilated(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %init = tensor.empty() : tensor<1x2x8x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>)
                         outs(%init : tensor<1x2x8x8xf32>)
                         {kernel = [4], dilation = [2]} -> tensor<1x2x8x8xf32>
  return %o : tensor<1x2x8x8xf32>
}
