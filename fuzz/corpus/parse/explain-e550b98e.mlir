func.func @written(%q: tensor<1x4x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}
