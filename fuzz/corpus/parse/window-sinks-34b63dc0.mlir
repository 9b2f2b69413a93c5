func.func @main(%q: tensor<1x2x32x8xf32>, %k: tensor<1x2x32x8xf32>, %v: tensor<1x2x32x8xf32>) -> tensor<1x2x32x8xf32> {
  %init = tensor.empty() : tensor<1x2x32x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>, tensor<1x2x32x8xf32>)
                      outs(%init : tensor<1x2x32x8xf32>) {causal, window = #attn.window<left = 4>, sinks = 3 : i64} -> tensor<1x2x32x8xf32>
  return %o : tensor<1x2x32x8xf32>
}
