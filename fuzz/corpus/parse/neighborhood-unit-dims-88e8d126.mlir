func.func @main(%q: tensor<2x1x3x11x16xf32>, %k: tensor<2x1x3x11x16xf32>, %v: tensor<2x1x3x11x4xf32>) -> tensor<2x1x3x11x4xf32> {
  %i = tensor.empty() : tensor<2x1x3x11x4xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x1x3x11x16xf32>, tensor<2x1x3x11x16xf32>, tensor<2x1x3x11x4xf32>) outs(%i : tensor<2x1x3x11x4xf32>) {kernel = [1, 6], dilation = [3, 1], stride = [1, 1], causal = [true, false], strategy = #attn.strategy<"neighborhood", {tile = 1}>} -> tensor<2x1x3x11x4xf32>
  return %o : tensor<2x1x3x11x4xf32>
}

func.func @decode(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x40x16xf32>, %v: tensor<1x1x40x16xf32>) -> tensor<1x1x1x16xf32> {
  %i = tensor.empty() : tensor<1x1x1x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>) outs(%i : tensor<1x1x1x16xf32>) {strategy = #attn.strategy<"split_kv", {splits = 3, micro_q = 1}>} -> tensor<1x1x1x16xf32>
  return %o : tensor<1x1x1x16xf32>
}
