// Input of attn-run-errors.test: an entry with two results (causal and not).

func.func @two(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  %a = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) {causal} -> tensor<1x2x16x8xf32>
  %b = attn.attention ins(%q, %k, %v : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
                      outs(%init : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %a, %b : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>
}
