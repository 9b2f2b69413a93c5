func.func @no_strategy(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {causal} -> tensor<1x4x8x16xf32>
  %n = attn.neighborhood ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                         outs(%o : tensor<1x4x8x16xf32>) {kernel = [3]} -> tensor<1x4x8x16xf32>
  return %n : tensor<1x4x8x16xf32>
}
