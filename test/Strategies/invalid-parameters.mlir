// Strategy parameters out of range give one error naming the strategy, the
// parameter and its range, never a crash or a hang. (Found while fuzzing:
// block_k = 0 crashed attn-opt, block_k = 2^40 aborted in SmallVector,
// micro_q = 10^6 and splits = 10^9 never finished building IR.) The vector
// width is fixed at 256 bits: 8 lanes.
// RUN: attn-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(attn-apply-strategies{vector-width=256}))"

func.func @block_k_zero(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter block_k = 0 is out of range: it must be a multiple of 8 (the vector lanes) from 8 to 128}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {block_k = 0}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @block_k_huge(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter block_k = 1099511627776 is out of range}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {block_k = 1099511627776}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @micro_q_huge(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter micro_q = 1000000 is out of range: it must be from 1 to 32}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {micro_q = 1000000}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @micro_tile_too_large(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter micro_q = 32 is out of range: micro_q x block_k / 8 = 512 vectors, more than the 128 that one micro-tile may hold}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {micro_q = 32, block_k = 128}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @splits_huge(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x64x8xf32>) -> tensor<1x2x1x8xf32> {
  %init = tensor.empty() : tensor<1x2x1x8xf32>
  // expected-error @+1 {{split_kv strategy parameter splits = 1000000000 is out of range: it must be from 1 to 4096}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x2x1x8xf32>, tensor<1x2x64x8xf32>, tensor<1x2x64x8xf32>) outs(%init : tensor<1x2x1x8xf32>) {strategy = #attn.strategy<"split_kv", {splits = 1000000000}>} -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

func.func @block_sparse_micro_q_zero(%q: tensor<1x2x16x8xf32>, %m: tensor<1x1x16x16xi1>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{block_sparse strategy parameter micro_q = 0 is out of range: it must be from 1 to 32}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) mask(%m : tensor<1x1x16x16xi1>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"block_sparse", {micro_q = 0}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
