func.func @nb_kernel_extent_1d(%q: tensor<1x2x7x16xf32>, %k: tensor<1x2x7x16xf32>, %v: tensor<1x2x7x16xf32>, %init: tensor<1x2x7x16xf32>) -> tensor<1x2x7x16xf32> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) outs(%init : tensor<1x2x7x16xf32>) {kernel = [4], dilation = [2]} -> tensor<1x2x7x16xf32>
  return %o : tensor<1x2x7x16xf32>
}
