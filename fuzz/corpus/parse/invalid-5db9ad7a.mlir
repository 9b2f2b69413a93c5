func.func @nb_rank_mismatch(%q: tensor<1x2x8x8x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x8x8x16xf32>, %init: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x8x8x16xf32>) outs(%init : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}
