// RUN: attn-opt %s --attn-set-target="vector-width=512 threads=2" --attn-select-strategy | FileCheck %s

// The parameters written back on a backward op: block_k and micro_q, and
// no block_q (the backward has no query blocks; a written one is refused,
// tiled-backward-lowering.mlir).

// CHECK-LABEL: func.func @backward
// CHECK: strategy = #attn.strategy<"tiled", {block_k = 32 : i64, micro_q = 8 : i64}>
func.func @backward(%q: tensor<2x4x100x16xf32>, %k: tensor<2x2x90x16xf32>,
                    %lse: tensor<2x4x100xf32>) -> tensor<2x4x100x16xf32> {
  %g:3 = attn.attention_backward ins(%q, %k, %k, %q, %q, %lse : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>, tensor<2x4x100x16xf32>, tensor<2x4x100x16xf32>, tensor<2x4x100xf32>)
      outs(%q, %k, %k : tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>)
      {causal} -> tensor<2x4x100x16xf32>, tensor<2x2x90x16xf32>, tensor<2x2x90x16xf32>
  return %g#0 : tensor<2x4x100x16xf32>
}
