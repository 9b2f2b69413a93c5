func.func @main(%x: tensor<1x2x6x5x8xbf16>, %q: tensor<1x2x10x8xf32>) -> (tensor<1x2x6x5x8xbf16>, tensor<1x2x10x8xf32>) {
  %init = tensor.empty() : tensor<1x2x6x5x8xbf16>
  %n = attn.neighborhood ins(%x, %x, %x : tensor<1x2x6x5x8xbf16>, tensor<1x2x6x5x8xbf16>, tensor<1x2x6x5x8xbf16>)
                         outs(%init : tensor<1x2x6x5x8xbf16>)
                         {kernel = [3, 3], dilation = [2, 1], causal = [false, true], stride = [1, 2]} -> tensor<1x2x6x5x8xbf16>
  %init2 = tensor.empty() : tensor<1x2x10x8xf32>
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>)
                      outs(%init2 : tensor<1x2x10x8xf32>) {score = #attn.score<kernel<elu1>>} -> tensor<1x2x10x8xf32>
  return %n, %o : tensor<1x2x6x5x8xbf16>, tensor<1x2x10x8xf32>
}
