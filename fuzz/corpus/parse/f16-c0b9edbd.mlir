func.func @main(%q: tensor<1x4x16x16xf16>, %k: tensor<1x2x16x16xf16>, %v: tensor<1x2x16x16xf16>) -> tensor<1x4x16x16xf16> {
  %init = tensor.empty() : tensor<1x4x16x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x4x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>)
                      outs(%init : tensor<1x4x16x16xf16>) {causal} -> tensor<1x4x16x16xf16>
  return %o : tensor<1x4x16x16xf16>
}
