func.func @prefill(%q: tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32> {
  %init = tensor.empty() : tensor<1x8x4096x64xf32>
  %o = attn.attention ins(%q, %q, %q : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>)
                      outs(%init : tensor<1x8x4096x64xf32>) {causal} -> tensor<1x8x4096x64xf32>
  return %o : tensor<1x8x4096x64xf32>
}
