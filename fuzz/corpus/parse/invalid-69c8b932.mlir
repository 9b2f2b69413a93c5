func.func @nb_kernel_length_3d(%q: tensor<1x2x4x4x4x8xf32>, %k: tensor<1x2x4x4x4x8xf32>, %v: tensor<1x2x4x4x4x8xf32>, %init: tensor<1x2x4x4x4x8xf32>) -> tensor<1x2x4x4x4x8xf32> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x4x4x4x8xf32>, tensor<1x2x4x4x4x8xf32>, tensor<1x2x4x4x4x8xf32>) outs(%init : tensor<1x2x4x4x4x8xf32>) {kernel = [3, 3]} -> tensor<1x2x4x4x4x8xf32>
  return %o : tensor<1x2x4x4x4x8xf32>
}
