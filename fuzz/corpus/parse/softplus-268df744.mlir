func.func @main(%q: tensor<1x2x14x8xf32>, %k: tensor<1x2x14x8xf32>, %v: tensor<1x2x14x8xf32>, %b: tensor<1x2x14x14xf32>) -> tensor<1x2x14x8xf32> {
  %init = tensor.empty() : tensor<1x2x14x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x14x8xf32>, tensor<1x2x14x8xf32>, tensor<1x2x14x8xf32>)
                      bias(%b : tensor<1x2x14x14xf32>)
                      outs(%init : tensor<1x2x14x8xf32>) {causal, score = #attn.score<softplus>} -> tensor<1x2x14x8xf32>
  return %o : tensor<1x2x14x8xf32>
}
