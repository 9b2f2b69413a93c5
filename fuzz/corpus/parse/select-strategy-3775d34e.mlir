func.func @user_written(%q: tensor<1x4x8x16xf32>, %init: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%init : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
  %p = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%o : tensor<1x4x8x16xf32>) {strategy = #attn.strategy<"reference", {unused = 3}>} -> tensor<1x4x8x16xf32>
  %t = attn.attention ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                      outs(%p : tensor<1x4x8x16xf32>) {causal, strategy = #attn.strategy<"tiled", {block_q = 12}>} -> tensor<1x4x8x16xf32>
  %n = attn.neighborhood ins(%q, %q, %q : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>)
                         outs(%t : tensor<1x4x8x16xf32>) {kernel = [3], strategy = #attn.strategy<"reference">} -> tensor<1x4x8x16xf32>
  return %n : tensor<1x4x8x16xf32>
}
