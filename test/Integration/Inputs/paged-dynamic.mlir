// attn.paged_attention with every size that may be dynamic left dynamic:
// the batch, the queries, the pages and the table width.
func.func @main(%q: tensor<?x8x?x16xf32>, %kc: tensor<?x2x8x16xf32>, %vc: tensor<?x2x8x24xf32>,
                %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> tensor<?x8x?x24xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x8x?x16xf32>
  %lq = tensor.dim %q, %c2 : tensor<?x8x?x16xf32>
  %init = tensor.empty(%b, %lq) : tensor<?x8x?x24xf32>
  %o = attn.paged_attention ins(%q, %kc, %vc, %t, %l : tensor<?x8x?x16xf32>, tensor<?x2x8x16xf32>, tensor<?x2x8x24xf32>, tensor<?x?xi32>, tensor<?xi32>)
        outs(%init : tensor<?x8x?x24xf32>) {causal} -> tensor<?x8x?x24xf32>
  return %o : tensor<?x8x?x24xf32>
}
