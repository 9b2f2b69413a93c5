func.func @main(%q: tensor<2x4x12x8xf32>, %k: tensor<2x2x12x8xf32>, %v: tensor<2x2x12x8xf32>) -> tensor<2x4x12x8xf32> {
  %init = tensor.empty() : tensor<2x4x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x12x8xf32>, tensor<2x2x12x8xf32>, tensor<2x2x12x8xf32>)
                      outs(%init : tensor<2x4x12x8xf32>) {causal, window = #attn.window<left = 6>} -> tensor<2x4x12x8xf32>
  return %o : tensor<2x4x12x8xf32>
}
