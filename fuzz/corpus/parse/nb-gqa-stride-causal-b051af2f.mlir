func.func @main(%q: tensor<1x4x4x11x16xf32>, %k: tensor<1x2x4x11x16xf32>, %v: tensor<1x2x4x11x8xf32>) -> tensor<1x4x4x11x8xf32> {
  %init = tensor.empty() : tensor<1x4x4x11x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x4x4x11x16xf32>, tensor<1x2x4x11x16xf32>, tensor<1x2x4x11x8xf32>)
                         outs(%init : tensor<1x4x4x11x8xf32>)
                         {kernel = [3, 5], stride = [1, 2], causal = [false, true]} -> tensor<1x4x4x11x8xf32>
  return %o : tensor<1x4x4x11x8xf32>
}
