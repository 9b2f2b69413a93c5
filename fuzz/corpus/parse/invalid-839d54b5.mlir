func.func @nb_missing_kernel(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x8x8x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {dilation = [1, 1]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}
