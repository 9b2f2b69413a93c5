// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x2x45x8:f32 k=1x2x45x8:f32 v=1x2x45x8:f32 seg=1x45:i32:docs5
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/seg.npy --output %t/o.npy
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --variant documents

// Documents on dynamic lengths and a segment-id table of dynamic length: the
// tile classes come from summaries of padded blocks (45 is no multiple of
// the 8-row blocks, the 6-row micro-tiles or the 16-key tiles).

func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>, %seg: tensor<1x?xi32>) -> tensor<1x2x?x8xf32> {
  %c2 = arith.constant 2 : index
  %n = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %init = tensor.empty(%n) : tensor<1x2x?x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
                      outs(%init : tensor<1x2x?x8xf32>) {causal, strategy = #attn.strategy<"tiled", {block_q = 8, block_k = 16}>}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<1x?xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<1x?xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    } -> tensor<1x2x?x8xf32>
  return %o : tensor<1x2x?x8xf32>
}
