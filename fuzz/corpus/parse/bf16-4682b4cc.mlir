func.func @main(%q: tensor<1x2x16x16xbf16>, %k: tensor<1x2x20x16xbf16>, %v: tensor<1x2x20x16xbf16>) -> tensor<1x2x16x16xbf16> {
  %init = tensor.empty() : tensor<1x2x16x16xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x16x16xbf16>, tensor<1x2x20x16xbf16>, tensor<1x2x20x16xbf16>)
                      outs(%init : tensor<1x2x16x16xbf16>) {causal} -> tensor<1x2x16x16xbf16>
  return %o : tensor<1x2x16x16xbf16>
}
