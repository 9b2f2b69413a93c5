// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/../../Integration/lib/check_case.py gen %t q=1x4x37x12:f32 k=1x2x53x12:f32 v=1x2x53x12:f32 mask=1x1x37x53:bool:mask
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/mask.npy --output %t/o.npy
// RUN: %python %S/../../Integration/lib/check_case.py attention %t %t/o.npy --scale 0.25 --causal --window=11,- --sinks 3 --mask

// attn.online_attention lowered by the CPU flash kernel
// (attn-convert-online-attention-to-cpu-vector) as a sequence of key tiles
// that carry the state: keys [0, 20), [20, 37) and [37, 53) of a
// grouped-query problem (Lq = 37, Lk = 53, 4 query heads on 2 KV heads)
// with causal, a look-back window of 11, 3 sink keys and a mask with a fully
// masked row. The first tile starts from the empty state (not read); the
// second reads it with two splits of its keys (split 0 starts from the
// state, the merge adds split 1) and unpacked keys; the third reads it with
// one block of all rows. Each has its own key position (the sinks are in
// the first tile only), and block sizes that divide none of the lengths.
// attn.finalize is then lowered to linalg (the state is not the empty one,
// so no kernel takes its place). The output must match the float64 oracle.

func.func @main(%q: tensor<1x4x37x12xf32>, %k: tensor<1x2x53x12xf32>, %v: tensor<1x2x53x12xf32>, %mask: tensor<1x1x37x53xi1>) -> tensor<1x4x37x12xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %qpos = arith.constant 16 : index
  %e = tensor.empty() : tensor<1x4x37x12xf32>
  %er = tensor.empty() : tensor<1x4x37xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x37x12xf32>) -> tensor<1x4x37x12xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x37xf32>) -> tensor<1x4x37xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x37xf32>) -> tensor<1x4x37xf32>
  %kpos0 = arith.constant 0 : index
  %k0 = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, 20, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x20x12xf32>
  %v0 = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, 20, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x20x12xf32>
  %mask0 = tensor.extract_slice %mask[0, 0, 0, 0] [1, 1, 37, 20] [1, 1, 1, 1] : tensor<1x1x37x53xi1> to tensor<1x1x37x20xi1>
  %s0:3 = attn.online_attention ins(%q, %k0, %v0 : tensor<1x4x37x12xf32>, tensor<1x2x20x12xf32>, tensor<1x2x20x12xf32>)
      mask(%mask0 : tensor<1x1x37x20xi1>) positions(%qpos, %kpos0)
      outs(%acc0, %m0, %l0 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>)
      {scale = 0.25 : f32, causal, window = #attn.window<left = 11>, sinks = 3 : i64,
       attn.cpu_kernel = {strategy = "tiled", block_q = 5 : i64, block_k = 16 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  %kpos1 = arith.constant 20 : index
  %k1 = tensor.extract_slice %k[0, 0, 20, 0] [1, 2, 17, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x17x12xf32>
  %v1 = tensor.extract_slice %v[0, 0, 20, 0] [1, 2, 17, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x17x12xf32>
  %mask1 = tensor.extract_slice %mask[0, 0, 0, 20] [1, 1, 37, 17] [1, 1, 1, 1] : tensor<1x1x37x53xi1> to tensor<1x1x37x17xi1>
  %s1:3 = attn.online_attention ins(%q, %k1, %v1 : tensor<1x4x37x12xf32>, tensor<1x2x17x12xf32>, tensor<1x2x17x12xf32>)
      mask(%mask1 : tensor<1x1x37x17xi1>) positions(%qpos, %kpos1)
      outs(%s0#0, %s0#1, %s0#2 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>)
      {scale = 0.25 : f32, causal, window = #attn.window<left = 11>, sinks = 3 : i64,
       attn.cpu_kernel = {strategy = "split_kv", block_q = 7 : i64, block_k = 8 : i64, micro_q = 2 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 2 : i64, skip_by_band = true, pack_keys = false, block_sparse = false, bf16_dot = false}} -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  %kpos2 = arith.constant 37 : index
  %k2 = tensor.extract_slice %k[0, 0, 37, 0] [1, 2, 16, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x16x12xf32>
  %v2 = tensor.extract_slice %v[0, 0, 37, 0] [1, 2, 16, 12] [1, 1, 1, 1] : tensor<1x2x53x12xf32> to tensor<1x2x16x12xf32>
  %mask2 = tensor.extract_slice %mask[0, 0, 0, 37] [1, 1, 37, 16] [1, 1, 1, 1] : tensor<1x1x37x53xi1> to tensor<1x1x37x16xi1>
  %s2:3 = attn.online_attention ins(%q, %k2, %v2 : tensor<1x4x37x12xf32>, tensor<1x2x16x12xf32>, tensor<1x2x16x12xf32>)
      mask(%mask2 : tensor<1x1x37x16xi1>) positions(%qpos, %kpos2)
      outs(%s1#0, %s1#1, %s1#2 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>)
      {scale = 0.25 : f32, causal, window = #attn.window<left = 11>, sinks = 3 : i64,
       attn.cpu_kernel = {strategy = "tiled", block_q = 37 : i64, block_k = 24 : i64, micro_q = 6 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x37x12xf32>, tensor<1x4x37xf32>, tensor<1x4x37xf32>
  %o = attn.finalize ins(%s2#0, %s2#2 : tensor<1x4x37x12xf32>, tensor<1x4x37xf32>) outs(%e : tensor<1x4x37x12xf32>) -> tensor<1x4x37x12xf32>
  return %o : tensor<1x4x37x12xf32>
}
