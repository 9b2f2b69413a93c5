func.func @cheapest(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {causal} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}
