func.func @two_ops(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %a = attn.attention ins(%q, %q, %q : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
  %b = attn.attention ins(%a, %a, %a : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) {score = #attn.score<kernel<relu>>} -> tensor<1x1x16x8xf32>
  return %b : tensor<1x1x16x8xf32>
}
