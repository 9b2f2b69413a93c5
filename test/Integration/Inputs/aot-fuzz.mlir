// Input of aot-call-fuzz.test: entries for random calls through the AOT
// ABI. Dynamic batch and lengths (size rules between K, V, a mask and a
// bias), bf16 with a mask, and an entry without inputs.

func.func @attention(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x16xf32>
  %lq = tensor.dim %q, %c2 : tensor<?x4x?x16xf32>
  %init = tensor.empty(%b, %lq) : tensor<?x4x?x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
                      outs(%init : tensor<?x4x?x16xf32>) {causal} -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

func.func @masked(%q: tensor<?x2x?x8xbf16>, %k: tensor<?x2x?x8xbf16>, %v: tensor<?x2x?x8xbf16>, %m: tensor<?x1x?x?xi1>, %bias: tensor<1x2x?x?xf32>) -> tensor<?x2x?x8xbf16> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x2x?x8xbf16>
  %lq = tensor.dim %q, %c2 : tensor<?x2x?x8xbf16>
  %init = tensor.empty(%b, %lq) : tensor<?x2x?x8xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<?x2x?x8xbf16>, tensor<?x2x?x8xbf16>, tensor<?x2x?x8xbf16>)
                      mask(%m : tensor<?x1x?x?xi1>) bias(%bias : tensor<1x2x?x?xf32>)
                      outs(%init : tensor<?x2x?x8xbf16>) -> tensor<?x2x?x8xbf16>
  return %o : tensor<?x2x?x8xbf16>
}

func.func @constant() -> tensor<3xf32> {
  %c = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  return %c : tensor<3xf32>
}
