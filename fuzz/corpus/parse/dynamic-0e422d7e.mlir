func.func @main(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x16xf32>
  %lq = tensor.dim %q, %c2 : tensor<?x4x?x16xf32>
  %init = tensor.empty(%b, %lq) : tensor<?x4x?x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      outs(%init : tensor<?x4x?x16xf32>) {causal} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
