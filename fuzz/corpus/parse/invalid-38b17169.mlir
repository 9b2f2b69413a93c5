func.func @nb_rank_low(%q: tensor<2x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<2x8x16xf32>, %init: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) outs(%init : tensor<2x8x16xf32>) {kernel = [3]} -> tensor<2x8x16xf32>
  return %o : tensor<2x8x16xf32>
}
