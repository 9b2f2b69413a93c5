func.func @main(%q: tensor<1x2x37x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>) -> tensor<1x2x37x12xf32> {
  %init = tensor.empty() : tensor<1x2x37x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x37x12xf32>, tensor<1x2x53x12xf32>, tensor<1x2x53x12xf32>)
                      outs(%init : tensor<1x2x37x12xf32>)
                      {causal, window = #attn.window<left = 11>} -> tensor<1x2x37x12xf32>
  return %o : tensor<1x2x37x12xf32>
}

func.func @decode(%q: tensor<1x2x1x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>) -> tensor<1x2x1x12xf32> {
  %init = tensor.empty() : tensor<1x2x1x12xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x1x12xf32>, tensor<1x2x53x12xf32>, tensor<1x2x53x12xf32>)
                      outs(%init : tensor<1x2x1x12xf32>) {causal} -> tensor<1x2x1x12xf32>
  return %o : tensor<1x2x1x12xf32>
}

func.func @single(%q: tensor<1x1x1x3xf32>, %k: tensor<1x1x1x3xf32>, %v: tensor<1x1x1x5xf32>) -> tensor<1x1x1x5xf32> {
  %init = tensor.empty() : tensor<1x1x1x5xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x3xf32>, tensor<1x1x1x3xf32>, tensor<1x1x1x5xf32>)
                      outs(%init : tensor<1x1x1x5xf32>) -> tensor<1x1x1x5xf32>
  return %o : tensor<1x1x1x5xf32>
}
