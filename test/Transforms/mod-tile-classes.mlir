// The mask_mod's tile classes (empty 0, partial 1, full 2, per query block
// and key tile) that the CPU flash kernel reads: a mod on positions only is
// classified at compile time into a constant; one that reads a table is
// classified at run time from the table's block summaries (a linalg
// reduction) by one linalg.generic.
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2 vector-width=512" --attn-apply-strategies --attn-convert-online-attention-to-cpu-vector | FileCheck %s
// RUN: attn-opt %s --attn-set-target="target=cpu threads=2 vector-width=512" --attn-apply-strategies --attn-convert-online-attention-to-cpu-vector -debug-only=attn-mod-tiles -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEBUG

// Prefix-LM, keys j <= i or j < 3, on 20 positions in blocks of 8 rows and
// tiles of 16 keys: rows 0-15 see part of keys 0-15 and none of 16-19;
// rows 16-19 see all of keys 0-15 and part of 16-19.
// DEBUG: [attn-mod-tiles] mask_mod of 'attn.online_attention' at {{.*}}mod-tile-classes.mlir":[[#@LINE+7]]{{.*}}, blocks of 8 rows, tiles of 16 keys: classified at compile time: 2 empty, 3 partial, 1 full
// CHECK-LABEL: func.func @prefix_lm
// CHECK: arith.constant dense<{{\[\[\[\[}}1, 0], [1, 0], [2, 1]]]]> : tensor<1x1x3x2xi8>
// CHECK-NOT: xi64>
// CHECK: return
func.func @prefix_lm(%q: tensor<1x2x20x8xf32>, %k: tensor<1x2x20x8xf32>, %v: tensor<1x2x20x8xf32>) -> tensor<1x2x20x8xf32> {
  %init = tensor.empty() : tensor<1x2x20x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>)
                      outs(%init : tensor<1x2x20x8xf32>)
                      {strategy = #attn.strategy<"tiled", {block_q = 8, block_k = 16, micro_q = 4}>}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %c3 = arith.constant 3 : index
      %causal = arith.cmpi ule, %j, %i : index
      %prefix = arith.cmpi ult, %j, %c3 : index
      %ok = arith.ori %causal, %prefix : i1
      attn.yield %ok : i1
    } -> tensor<1x2x20x8xf32>
  return %o : tensor<1x2x20x8xf32>
}

// Documents: segment ids read at i and at j are summarized per block of
// rows (and per micro-tile's rows) and per tile of keys, once per call.
// DEBUG: [attn-mod-tiles] mask_mod of 'attn.online_attention' at {{.*}}: classified at run time; table tensor<2x20xi32> dim 1 summarized by i in blocks of 8; table tensor<2x20xi32> dim 1 summarized by i in blocks of 4; table tensor<2x20xi32> dim 1 summarized by j in blocks of 16
// CHECK-LABEL: func.func @documents
// CHECK: tensor.expand_shape {{.*}} into tensor<2x3x8xi32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]{{.*}}outs({{.*}} : tensor<2x1x3x2xi8>)
func.func @documents(%q: tensor<2x2x20x8xf32>, %k: tensor<2x2x20x8xf32>, %v: tensor<2x2x20x8xf32>, %seg: tensor<2x20xi32>) -> tensor<2x2x20x8xf32> {
  %init = tensor.empty() : tensor<2x2x20x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x20x8xf32>, tensor<2x2x20x8xf32>, tensor<2x2x20x8xf32>)
                      outs(%init : tensor<2x2x20x8xf32>)
                      {causal, strategy = #attn.strategy<"tiled", {block_q = 8, block_k = 16, micro_q = 4}>}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<2x20xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<2x20xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    } -> tensor<2x2x20x8xf32>
  return %o : tensor<2x2x20x8xf32>
}

// An i1 constant from above the region (canonicalization hoists constants
// out of it) is that constant, not "any value": prefix-LM negated twice
// through `xori %x, %true` classifies as prefix-LM does.
// DEBUG: [attn-mod-tiles] mask_mod of 'attn.online_attention' at {{.*}}mod-tile-classes.mlir":[[#@LINE+8]]{{.*}}, blocks of 8 rows, tiles of 16 keys: classified at compile time: 2 empty, 3 partial, 1 full
// CHECK-LABEL: func.func @hoisted_bool_constant
// CHECK: arith.constant dense<{{\[\[\[\[}}1, 0], [1, 0], [2, 1]]]]> : tensor<1x1x3x2xi8>
// CHECK: return
func.func @hoisted_bool_constant(%q: tensor<1x2x20x8xf32>, %k: tensor<1x2x20x8xf32>, %v: tensor<1x2x20x8xf32>) -> tensor<1x2x20x8xf32> {
  %init = tensor.empty() : tensor<1x2x20x8xf32>
  %true = arith.constant true
  %c3 = arith.constant 3 : index
  %o = attn.attention ins(%q, %k, %v : tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>)
                      outs(%init : tensor<1x2x20x8xf32>)
                      {strategy = #attn.strategy<"tiled", {block_q = 8, block_k = 16, micro_q = 4}>}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %causal = arith.cmpi ule, %j, %i : index
      %prefix = arith.cmpi ult, %j, %c3 : index
      %ok = arith.ori %causal, %prefix : i1
      %not = arith.xori %ok, %true : i1
      %again = arith.xori %not, %true : i1
      attn.yield %again : i1
    } -> tensor<1x2x20x8xf32>
  return %o : tensor<1x2x20x8xf32>
}
