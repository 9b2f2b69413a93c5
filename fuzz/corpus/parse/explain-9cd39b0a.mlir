func.func @neighborhood(%q: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>)
                         outs(%q : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}
