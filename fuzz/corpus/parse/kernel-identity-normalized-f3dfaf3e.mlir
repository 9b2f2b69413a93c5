func.func @main(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %init = tensor.empty() : tensor<1x2x8x4xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
                      outs(%init : tensor<1x2x8x4xf32>)
                      {causal, score = #attn.score<kernel<identity>>} -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
