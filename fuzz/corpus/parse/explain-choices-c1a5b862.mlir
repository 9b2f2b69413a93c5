func.func @small_kernel(%q: tensor<1x4x64x64x32xf32>) -> tensor<1x4x64x64x32xf32> {
  %init = tensor.empty() : tensor<1x4x64x64x32xf32>
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x4x64x64x32xf32>, tensor<1x4x64x64x32xf32>, tensor<1x4x64x64x32xf32>)
                         outs(%init : tensor<1x4x64x64x32xf32>) {kernel = [7, 7]} -> tensor<1x4x64x64x32xf32>
  return %o : tensor<1x4x64x64x32xf32>
}
