func.func @main(%q: tensor<2x4x11x8xf32>, %k: tensor<2x2x11x8xf32>, %v: tensor<2x2x11x8xf32>, %b: tensor<1x4x11x11xf32>) -> tensor<2x4x11x8xf32> {
  %init = tensor.empty() : tensor<2x4x11x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x11x8xf32>, tensor<2x2x11x8xf32>, tensor<2x2x11x8xf32>)
                      bias(%b : tensor<1x4x11x11xf32>)
                      outs(%init : tensor<2x4x11x8xf32>) {causal} -> tensor<2x4x11x8xf32>
  return %o : tensor<2x4x11x8xf32>
}
