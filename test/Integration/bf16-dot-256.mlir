// REQUIRES: numpy, avx512-bf16
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x4x37x18:bf16 k=2x2x70x18:bf16 v=2x2x70x18:bf16
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal

// bf16 dot products on 256-bit vectors (8 lanes, vdpbf16ps ymm), the
// target written on the module: D = 18 is 9 bf16 pairs (a partial group of
// 8 words in the transposed K packing), Lk = 70 leaves a partial tile, and
// GQA shares each packed K/V tile between two query heads.

module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256, bf16_dot = true>} {
func.func @main(%q: tensor<2x4x37x18xbf16>, %k: tensor<2x2x70x18xbf16>, %v: tensor<2x2x70x18xbf16>) -> tensor<2x4x37x18xbf16> {
  %init = tensor.empty() : tensor<2x4x37x18xbf16>
  %o = attn.attention ins(%q, %k, %v : tensor<2x4x37x18xbf16>, tensor<2x2x70x18xbf16>, tensor<2x2x70x18xbf16>)
                      outs(%init : tensor<2x4x37x18xbf16>) {causal, strategy = #attn.strategy<"tiled", {bf16_dot = 1}>} -> tensor<2x4x37x18xbf16>
  return %o : tensor<2x4x37x18xbf16>
}
}
