func.func @main(%q: tensor<1x2x4x11x16xf16>, %k: tensor<1x2x4x11x16xf16>, %v: tensor<1x2x4x11x8xf16>) -> tensor<1x2x4x11x8xf16> {
  %init = tensor.empty() : tensor<1x2x4x11x8xf16>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x4x11x16xf16>, tensor<1x2x4x11x16xf16>, tensor<1x2x4x11x8xf16>)
                         outs(%init : tensor<1x2x4x11x8xf16>)
                         {kernel = [3, 5]} -> tensor<1x2x4x11x8xf16>
  return %o : tensor<1x2x4x11x8xf16>
}
