func.func @main(%q: tensor<1x2x12x4xf32>, %k: tensor<1x2x15x4xf32>, %v: tensor<1x2x15x4xf32>) -> tensor<1x2x12x4xf32> {
  %init = tensor.empty() : tensor<1x2x12x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x4xf32>, tensor<1x2x15x4xf32>, tensor<1x2x15x4xf32>)
                      outs(%init : tensor<1x2x12x4xf32>) {scale = 0.7 : f32, score = #attn.score<kernel<relu>>} -> tensor<1x2x12x4xf32>
  return %o : tensor<1x2x12x4xf32>
}

func.func @unnormalized(%q: tensor<1x2x12x4xf32>, %k: tensor<1x2x15x4xf32>, %v: tensor<1x2x15x4xf32>) -> tensor<1x2x12x4xf32> {
  %init = tensor.empty() : tensor<1x2x12x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x4xf32>, tensor<1x2x15x4xf32>, tensor<1x2x15x4xf32>)
                      outs(%init : tensor<1x2x12x4xf32>)
                      {scale = 0.7 : f32, score = #attn.score<kernel<relu>, normalize = false>} -> tensor<1x2x12x4xf32>
  return %o : tensor<1x2x12x4xf32>
}
