// RUN: attn-opt %s -split-input-file --attn-convert-online-attention-to-cpu-vector -canonicalize -cse | FileCheck %s

// The CPU lowering of the tile op: ops that carry attn.cpu_kernel become
// the flash kernel (a loop over (batch, KV head), a forall over query
// blocks, vector micro-tiles); from the empty state it takes the place of
// the attn.finalize after it; ops without the attribute stay.

// From the empty state, finalized: the kernel writes the output (one
// shared tensor, the finalize's init); no state, fill or attn op is left.
// CHECK-LABEL: func.func @fused(
// CHECK-NOT:     linalg.fill
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<1x4x9x8xbf16>)
// CHECK:           scf.forall {{.*}} shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x4x9x8xbf16>)
// CHECK:             vector.fma
// CHECK:             arith.divf
// CHECK:             arith.truncf
// CHECK-NOT:     attn.
// CHECK:         return
func.func @fused(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xbf16> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %init = tensor.empty() : tensor<1x4x9x8xbf16>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, causal, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%init : tensor<1x4x9x8xbf16>) -> tensor<1x4x9x8xbf16>
  return %o : tensor<1x4x9x8xbf16>
}

// -----

// A state given as arguments: read (each block's rows of acc, max and sum,
// sliced from the forall's shared outputs) and written back, all three
// carried through the loop over (batch, KV head); no division (no
// epilogue).
// CHECK-LABEL: func.func @state(
// CHECK-SAME:    %[[ACC:[^:]+]]: tensor<1x4x9x8xf32>, %[[M:[^:]+]]: tensor<1x4x9xf32>, %[[L:[^:]+]]: tensor<1x4x9xf32>)
// CHECK:         %[[R:.*]]:3 = scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]], %{{.*}} = %[[M]], %{{.*}} = %[[L]])
// CHECK:           scf.forall {{.*}} shared_outs(%[[SACC:.*]] = %{{.*}}, %[[SM:.*]] = %{{.*}}, %[[SL:.*]] = %{{.*}}) ->
// CHECK-DAG:         tensor.extract_slice %[[SACC]]
// CHECK-DAG:         tensor.extract_slice %[[SM]]
// CHECK-DAG:         tensor.extract_slice %[[SL]]
// CHECK:             vector.fma
// CHECK-NOT:         arith.divf
// CHECK:             tensor.parallel_insert_slice {{.*}} into %[[SACC]]
// CHECK:             tensor.parallel_insert_slice {{.*}} into %[[SM]]
// CHECK:             tensor.parallel_insert_slice {{.*}} into %[[SL]]
// CHECK:         return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @state(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>) {
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0, %s#1, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
}

// -----

// From the empty state, but its max is used: the state is written, not
// read, into the fills' destinations; with two splits, each split's tasks
// write its normalized state (O, LSE), attn.merge_states merges the two,
// and the merged state (O, m = LSE log2 e, l = 1) is written.
// CHECK-LABEL: func.func @max_used(
// CHECK-NOT:     linalg.fill
// CHECK:         scf.for {{.*}} -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
// CHECK:           scf.forall {{.*}} -> (tensor<2x{{[?0-9]+}}x{{[0-9]+}}x8xf32>, tensor<2x{{[?0-9]+}}x{{[0-9]+}}xf32>)
// CHECK:             math.log2
// CHECK:           attn.merge_states ins({{[^:]*}} : tensor<{{[?0-9]+}}x{{[0-9]+}}x8xf32>, tensor<{{[?0-9]+}}x{{[0-9]+}}xf32>, tensor<{{[?0-9]+}}x{{[0-9]+}}x8xf32>, tensor<{{[?0-9]+}}x{{[0-9]+}}xf32>)
// CHECK:           scf.forall {{.*}} -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
// CHECK-NOT:     attn.online_attention
// CHECK:         return
func.func @max_used(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 2 : i64, skip_by_band = true, pack_keys = false, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0, %s#1, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
}

// -----

// Without attn.cpu_kernel the op is left to the portable lowering.
// CHECK-LABEL: func.func @unmarked(
// CHECK:         attn.online_attention
func.func @unmarked(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}
