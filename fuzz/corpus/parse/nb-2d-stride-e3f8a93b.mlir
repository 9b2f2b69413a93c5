func.func @main(%q: tensor<1x1x10x9x8xf32>, %k: tensor<1x1x10x9x8xf32>, %v: tensor<1x1x10x9x8xf32>) -> tensor<1x1x10x9x8xf32> {
  %init = tensor.empty() : tensor<1x1x10x9x8xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x1x10x9x8xf32>, tensor<1x1x10x9x8xf32>, tensor<1x1x10x9x8xf32>)
                         outs(%init : tensor<1x1x10x9x8xf32>)
                         {kernel = [5, 3], causal = [false, true], stride = [2, 3]} -> tensor<1x1x10x9x8xf32>
  return %o : tensor<1x1x10x9x8xf32>
}
