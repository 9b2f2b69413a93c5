// RUN: attn-opt %s --attn-set-target="target=cpu threads=2 vector-width=256" --attn-select-strategy --attn-apply-strategies | FileCheck %s
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2 vector-width=256" --attn-select-strategy --attn-apply-strategies --attn-convert-online-attention-to-linalg | FileCheck %s --check-prefix=LINALG

// The portable strategy builds attention from the tile op with upstream's
// tiling: the empty state, a forall over the key splits (partial
// reductions), a forall over batch, KV-head groups and query blocks, an
// scf.for over the key blocks of the rows' band carrying the state, the
// merge of the splits, and attn.finalize (acc / sum). The conversion then
// leaves no tile op and no finalize.

// CHECK-LABEL: func.func @causal_gqa(
// Row 0's aligned position: Lk - Lq.
// CHECK:         %[[QPOS:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK:         %[[SPLITS:.*]]:3 = scf.forall ({{.*}}) = (0) to (40) step (%{{.*}}) shared_outs({{.*}}) -> (tensor<?x1x8x24x16xf32>, tensor<?x1x8x24xf32>, tensor<?x1x8x24xf32>)
// CHECK:           scf.forall ({{.*}}) = (0, 0, 0) to (1, 8, 24) step (1, 4, 16) shared_outs
// Causal: the key blocks run over the band of the block's rows only, so
// both bounds are computed values, not the constants 0 and Lk.
// CHECK:             scf.for %{{.*}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{.*}} iter_args
// CHECK:               attn.online_attention ins({{.*}} : tensor<1x4x?x16xf16>, tensor<1x1x?x16xf16>, tensor<1x1x?x16xf16>) positions(%{{.*}}, %{{.*}}) outs({{.*}}) {causal, scale = 2.500000e-01 : f32}
// CHECK:         linalg.generic {{.*}} ins(%[[SPLITS]]#1 : tensor<?x1x8x24xf32>)
// CHECK:           arith.maximumf
// CHECK:         attn.finalize ins(%{{.*}}, %{{.*}} : tensor<1x8x24x16xf32>, tensor<1x8x24xf32>) outs(%{{.*}} : tensor<1x8x24x16xf16>)
// CHECK-NOT:     attn.attention

// LINALG-LABEL: func.func @causal_gqa(
// LINALG-NOT:    attn.online_attention
// LINALG:        linalg.index
// LINALG-NOT:    attn.online_attention
// LINALG:        arith.divf
// LINALG:        arith.truncf {{.*}} : f32 to f16
// LINALG-NOT:    attn.finalize
func.func @causal_gqa(%q: tensor<1x8x24x16xf16>, %k: tensor<1x2x40x16xf16>, %v: tensor<1x2x40x16xf16>) -> tensor<1x8x24x16xf16> {
  %init = tensor.empty() : tensor<1x8x24x16xf16>
  %o = attn.attention ins(%q, %k, %v : tensor<1x8x24x16xf16>, tensor<1x2x40x16xf16>, tensor<1x2x40x16xf16>)
                      outs(%init : tensor<1x8x24x16xf16>)
                      {causal, strategy = #attn.strategy<"portable", {block_q = 16, block_k = 8, splits = 3}>} -> tensor<1x8x24x16xf16>
  return %o : tensor<1x8x24x16xf16>
}

// A window whose band starts inside a key block. The tiling sized every block
// for a start at a multiple of block_k (7 divides the 70 keys, so each slice
// is a static 7 keys), so the loop starts at the band's first key rounded down
// to a multiple of block_k: from the band's own first key, the last block
// would read past the keys.
// CHECK-LABEL: func.func @window_block_start(
// CHECK:         %[[STEP:.*]] = arith.constant 7 : index
// CHECK:         %[[BLOCKS:.*]] = arith.divui %{{.*}}, %[[STEP]] : index
// CHECK:         %[[FIRST:.*]] = arith.muli %[[BLOCKS]], %[[STEP]] : index
// CHECK:         scf.for %[[KEY:.*]] = %[[FIRST]] to %{{.*}} step %[[STEP]]
// CHECK:           tensor.extract_slice %{{.*}}[0, 0, %[[KEY]], 0] [1, 1, 7, 8]
func.func @window_block_start(%q: tensor<1x2x12x8xf32>, %k: tensor<1x2x70x8xf32>, %v: tensor<1x2x70x8xf32>) -> tensor<1x2x12x8xf32> {
  %init = tensor.empty() : tensor<1x2x12x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x12x8xf32>, tensor<1x2x70x8xf32>, tensor<1x2x70x8xf32>)
                      outs(%init : tensor<1x2x12x8xf32>) {window = #attn.window<left = 40, right = 3>, strategy = #attn.strategy<"portable", {block_q = 5, block_k = 7}>} -> tensor<1x2x12x8xf32>
  return %o : tensor<1x2x12x8xf32>
}
