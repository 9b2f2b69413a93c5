func.func @nb_int(%q: tensor<1x2x8x8x16xi8>, %k: tensor<1x2x8x8x16xi8>, %v: tensor<1x2x8x8x16xi8>, %init: tensor<1x2x8x8x16xi8>) -> tensor<1x2x8x8x16xi8> {
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x2x8x8x16xi8>, tensor<1x2x8x8x16xi8>, tensor<1x2x8x8x16xi8>) outs(%init : tensor<1x2x8x8x16xi8>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xi8>
  return %o : tensor<1x2x8x8x16xi8>
}
