// REQUIRES: ptxas
// RUN: attn-opt %s --attn-set-target="target=gpu" --attn-select-strategy | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=bin chip=sm_90" -o /dev/null

// Head dimension 256 in f32: 32 keys of K and V would take 64 KiB of shared
// memory, more than a block's static 48 KiB, so tiled chooses 16 (and ptxas
// accepts the kernel); split_kv does the same, and also chooses its block
// and splits, and tensor cores (off: f32) since none is written.
// CHECK: #attn.strategy<"tiled", {block_k = 16 : i64, block_q = 128 : i64, tensor_cores = 0 : i64}>
func.func @d256(%q: tensor<1x2x100x256xf32>) -> tensor<1x2x100x256xf32> {
  %init = tensor.empty() : tensor<1x2x100x256xf32>
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x100x256xf32>, tensor<1x2x100x256xf32>, tensor<1x2x100x256xf32>) outs(%init : tensor<1x2x100x256xf32>) {causal, strategy = #attn.strategy<"tiled">} -> tensor<1x2x100x256xf32>
  return %o : tensor<1x2x100x256xf32>
}

// CHECK: #attn.strategy<"split_kv", {block_k = 16 : i64, block_q = 32 : i64, splits = 4 : i64, tensor_cores = 0 : i64}>
func.func @d256_decode(%q: tensor<1x2x1x256xf32>, %k: tensor<1x2x300x256xf32>) -> tensor<1x2x1x256xf32> {
  %init = tensor.empty() : tensor<1x2x1x256xf32>
  %o = attn.attention ins(%q, %k, %k : tensor<1x2x1x256xf32>, tensor<1x2x300x256xf32>, tensor<1x2x300x256xf32>) outs(%init : tensor<1x2x1x256xf32>) {strategy = #attn.strategy<"split_kv">} -> tensor<1x2x1x256xf32>
  return %o : tensor<1x2x1x256xf32>
}
