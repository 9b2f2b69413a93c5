// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-convert-online-attention-to-gpu

// What the GPU lowering cannot take is one error: a malformed
// attn.gpu_kernel (naming the key), a configuration out of the kernel's
// range (naming the strategy and the parameter), sink keys at a key
// position that is not a constant.

func.func @unknown_key(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{attn.gpu_kernel key 'blcok_k' is unknown}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false, blcok_k = 8 : i64}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

func.func @wrong_type(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{attn.gpu_kernel key 'tensor_cores' must be a bool}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = 1 : i64, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

func.func @not_dict(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{attn.gpu_kernel must be a dictionary}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = 3 : i64} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

func.func @block_q(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{tiled strategy parameter block_q = 2048}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 2048 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

func.func @skip_empty_tiles_no_mask(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{tiled strategy: skipping empty tiles reads the mask operand, and the op has none}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = true}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}

// -----

func.func @sinks_key_position(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>, %qpos: index, %kpos: index) -> tensor<1x4x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x9x8xf32>
  %er = tensor.empty() : tensor<1x4x9xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x9xf32>) -> tensor<1x4x9xf32>
  // expected-error @+1 {{GPU flash kernel: key_position must be a constant when the op has sink keys}}
  %s:3 = attn.online_attention ins(%q, %k, %k : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>)
      positions(%qpos, %kpos) outs(%acc0, %m0, %l0 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>)
      {scale = 0.5 : f32, causal, window = #attn.window<left = 3>, sinks = 2 : i64, attn.gpu_kernel = {strategy = "tiled", block_q = 16 : i64, block_k = 8 : i64, splits = 1 : i64, shared_bytes = 49152 : i64, tensor_cores = false, skip_empty_tiles = false}} -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>, tensor<1x4x9xf32>
  %o = attn.finalize ins(%s#0, %s#2 : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) outs(%e : tensor<1x4x9x8xf32>) -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}
