func.func @unknown_user_strategy(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"no_such_strategy", {block_q = 64}>} -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}
