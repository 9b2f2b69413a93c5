// REQUIRES: ptxas
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy --attn-apply-strategies -split-input-file -verify-diagnostics
// RUN: attn-opt %s --split-input-file --attn-gpu-pipeline="format=bin chip=sm_90" -verify-diagnostics -o /dev/null

// GPU kernel parameters that no launch could run: more threads than a block
// holds, K/V tiles beyond 48 KiB of shared memory, absurd splits. Each is an
// error on the op that names the strategy, the parameter and the rule (not
// a ptxas failure or a launch error at run time).

func.func @block_q_too_many_threads(%q: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %init = tensor.empty() : tensor<1x2x64x16xf32>
  // expected-error @+1 {{tiled strategy parameter block_q = 2048 is out of range on a GPU: it must be from 1 to 1024}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) outs(%init : tensor<1x2x64x16xf32>) {strategy = #attn.strategy<"tiled", {block_q = 2048}>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// -----

func.func @block_k_beyond_shared(%q: tensor<1x2x64x256xf32>) -> tensor<1x2x64x256xf32> {
  %init = tensor.empty() : tensor<1x2x64x256xf32>
  // expected-error @+1 {{tiled strategy parameter block_k = 64 stages 131072 bytes of K and V per tile, more than the GPU's 49152 bytes of shared memory (at most 16 for this head dimension)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x256xf32>, tensor<1x2x64x256xf32>, tensor<1x2x64x256xf32>) outs(%init : tensor<1x2x64x256xf32>) {strategy = #attn.strategy<"tiled", {block_k = 64}>} -> tensor<1x2x64x256xf32>
  return %o : tensor<1x2x64x256xf32>
}

// -----

func.func @splits_huge(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x64x8xf32>) -> tensor<1x2x1x8xf32> {
  %init = tensor.empty() : tensor<1x2x1x8xf32>
  // expected-error @+1 {{split_kv strategy parameter splits = 100000 is out of range: it must be from 1 to 4096}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x2x1x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) outs(%init : tensor<1x2x1x8xf32>) {strategy = #attn.strategy<"split_kv", {splits = 100000}>} -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

// What is written runs as written, or is an error: tensor cores on f32, on
// rows that are not whole warps, or on tiles beyond shared memory are not
// quietly replaced by SIMT or smaller blocks.
func.func @tensor_cores_f32(%q: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %init = tensor.empty() : tensor<1x2x64x16xf32>
  // expected-error @+1 {{tiled strategy parameter tensor_cores = 1: tensor cores need f16 or bf16 inputs}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) outs(%init : tensor<1x2x64x16xf32>) {strategy = #attn.strategy<"tiled", {tensor_cores = 1}>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// -----

func.func @tensor_cores_partial_warp(%q: tensor<1x2x64x16xf16>) -> tensor<1x2x64x16xf16> {
  %init = tensor.empty() : tensor<1x2x64x16xf16>
  // expected-error @+1 {{tiled strategy parameter tensor_cores = 1 needs block_q a multiple of 32 (whole warps) and block_k a multiple of 8 (the mma n step); they are 48 and 32}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf16>, tensor<1x2x64x16xf16>, tensor<1x2x64x16xf16>) outs(%init : tensor<1x2x64x16xf16>) {strategy = #attn.strategy<"tiled", {block_q = 48, tensor_cores = 1}>} -> tensor<1x2x64x16xf16>
  return %o : tensor<1x2x64x16xf16>
}

// -----

func.func @tensor_cores_beyond_shared(%q: tensor<1x2x64x128xf16>) -> tensor<1x2x64x128xf16> {
  %init = tensor.empty() : tensor<1x2x64x128xf16>
  // expected-error @+1 {{tiled strategy parameters block_q = 512, block_k = 32 with tensor_cores = 1 stage 212992 bytes of Q, K, V and scores, more than the GPU's 49152 bytes of shared memory}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x128xf16>, tensor<1x2x64x128xf16>, tensor<1x2x64x128xf16>) outs(%init : tensor<1x2x64x128xf16>) {strategy = #attn.strategy<"tiled", {block_q = 512, block_k = 32, tensor_cores = 1}>} -> tensor<1x2x64x128xf16>
  return %o : tensor<1x2x64x128xf16>
}

// -----

// A CPU parameter on a GPU target is not silently ignored.
func.func @cpu_parameter_on_gpu(%q: tensor<1x2x64x16xf32>) -> tensor<1x2x64x16xf32> {
  %init = tensor.empty() : tensor<1x2x64x16xf32>
  // expected-error @+1 {{tiled strategy parameter micro_q is used on cpu targets only, and this target is gpu}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>) outs(%init : tensor<1x2x64x16xf32>) {strategy = #attn.strategy<"tiled", {micro_q = 3}>} -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}
