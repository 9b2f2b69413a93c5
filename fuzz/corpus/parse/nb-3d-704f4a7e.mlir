func.func @main(%q: tensor<2x2x5x6x4x8xf32>, %k: tensor<2x2x5x6x4x8xf32>, %v: tensor<2x2x5x6x4x8xf32>) -> tensor<2x2x5x6x4x8xf32> {
  %init = tensor.empty() : tensor<2x2x5x6x4x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x2x5x6x4x8xf32>, tensor<2x2x5x6x4x8xf32>, tensor<2x2x5x6x4x8xf32>)
                         outs(%init : tensor<2x2x5x6x4x8xf32>)
                         {kernel = [3, 3, 2]} -> tensor<2x2x5x6x4x8xf32>
  return %o : tensor<2x2x5x6x4x8xf32>
}
