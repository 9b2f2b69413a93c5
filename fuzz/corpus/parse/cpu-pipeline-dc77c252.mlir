func.func @main(%q: tensor<2x2x16x32xf16>, %b: tensor<1x2x16x16xf16>) -> tensor<2x2x16x32xf16> {
  %init = tensor.empty() : tensor<2x2x16x32xf16>
  %o = attn.attention ins(%q, %q, %q : tensor<2x2x16x32xf16>, tensor<2x2x16x32xf16>, tensor<2x2x16x32xf16>)
                      bias(%b : tensor<1x2x16x16xf16>)
                      outs(%init : tensor<2x2x16x32xf16>) {softcap = 20.0 : f32} -> tensor<2x2x16x32xf16>
  return %o : tensor<2x2x16x32xf16>
}
