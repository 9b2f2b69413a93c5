// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-convert-online-attention-to-cpu-vector

// A malformed attn.cpu_kernel, or a configuration out of the kernel's
// range, is one error naming the key (and the strategy).

func.func @unknown_key(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'blcok_q' is unknown}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false, blcok_q = 4 : i64}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @missing_key(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'splits' must be an i64}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @wrong_type(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'pack_keys' must be a bool}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = 1 : i64, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @no_strategy(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'strategy' must be a string}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @lanes(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'lanes' = 6 must be a power of two from 4 to 64}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 6 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @block_dv(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'block_dv' = 12 must be a positive multiple of lanes (8)}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 12 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @unroll_d(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel key 'unroll_d' = 0 must be from 1 to 64}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 0 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @block_k(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{tiled strategy parameter block_k = 12 is out of range: it must be a multiple of 8 (the vector lanes) from 8 to 128}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 12 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @not_dict(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{attn.cpu_kernel must be a dictionary}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = "tiled"} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @block_sparse_no_mask(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{tiled strategy: block-sparse iteration reads the mask operand, and the op has none}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = true, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

func.func @sinks_key_position(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{CPU flash kernel: key_position must be a constant when the op has sink keys}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, causal, window = #attn.window<left = 3>, sinks = 2 : i64, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}

// -----

// The kernel keeps the entropy part of the state only from the empty state
// into the attn.finalize that reads it: here the state is read.
func.func @entropy_state_read(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9xf32> {
  // expected-error @+1 {{CPU flash kernel: the 'entropy' state is computed only from the empty state with the attn.finalize that reads it right after}}
  %s:4 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>) entropy(%l : tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#3 : tensor<1x4x9xf32>
}

// -----

// bf16_dot on f32 operands: refused with the reason (the lowering checks
// what a strategy checks), on a target that has the dot products.
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256, bf16_dot = true>} {
func.func @bf16_dot_f32(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{tiled strategy parameter bf16_dot = 1 does not apply: Q, K and V are not all bf16}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = true}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}
}

// -----

// bf16_dot where the target lacks the dot products.
module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 256, bf16_dot = false>} {
func.func @bf16_dot_no_feature(%q: tensor<1x4x9x8xbf16>, %k: tensor<1x2x11x8xbf16>, %qpos: index, %kpos: index, %acc: tensor<1x4x9x8xf32>, %m: tensor<1x4x9xf32>, %l: tensor<1x4x9xf32>) -> tensor<1x4x9x8xf32> {
  // expected-error @+1 {{tiled strategy parameter bf16_dot = 1 needs AVX512-BF16 dot products, which the target lacks (#attn.target bf16_dot)}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xbf16>, tensor<1x2x11x8xbf16>, tensor<1x2x11x8xbf16>)
      positions(%qpos, %kpos) outs(%acc, %m, %l : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.cpu_kernel = {strategy = "tiled", block_q = 4 : i64, block_k = 8 : i64, micro_q = 3 : i64, lanes = 8 : i64, block_dv = 64 : i64, unroll_d = 4 : i64, splits = 1 : i64, skip_by_band = true, pack_keys = true, block_sparse = false, bf16_dot = true}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  return %s#0 : tensor<1x4x9x8xf32>
}
}
