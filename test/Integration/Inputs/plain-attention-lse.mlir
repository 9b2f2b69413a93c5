// plain-attention.mlir with the LSE as a second result: a strategy library
// written before row statistics must not be asked for it.
func.func @main(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>) -> (tensor<1x2x12x8xf32>, tensor<1x2x12xf32>) {
  %init = tensor.empty() : tensor<1x2x12x8xf32>
  %o, %lse = attn.attention ins(%q, %k, %v : tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
                            outs(%init : tensor<1x2x12x8xf32>) {return_lse} -> tensor<1x2x12x8xf32>, tensor<1x2x12xf32>
  return %o, %lse : tensor<1x2x12x8xf32>, tensor<1x2x12xf32>
}
