// Strategy parameters out of range give one error naming the strategy, the
// parameter and its range, never a crash or a hang. (Found while fuzzing:
// block_k = 0 crashed attn-opt, block_k = 2^40 aborted in SmallVector,
// micro_q = 10^6 and splits = 10^9 never finished building IR; block_q =
// 2^20 compiled and overflowed the stack at run time; a neighborhood tile
// of 2^63 - 1 overflowed int64.) The vector
// width is fixed at 256 bits: 8 lanes.
// RUN: attn-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(attn-set-target{vector-width=256},func.func(attn-apply-strategies))"

func.func @block_k_zero(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter block_k = 0 is out of range: it must be from 1 to 4096}}
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

// -----

// O, m and l of 2^20 rows of 64 values live on a task's stack: 256 MiB.
func.func @block_q_beyond_stack(%q: tensor<1x1x8x64xf32>) -> tensor<1x1x8x64xf32> {
  %init = tensor.empty() : tensor<1x1x8x64xf32>
  // expected-error @+1 {{tiled strategy parameter block_q = 1048576 is out of range: a task's scratch (O, m, l of 1 heads x block_q rows, Dv = 64) takes 270337 KiB of stack, more than the 2048 KiB limit}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>) outs(%init : tensor<1x1x8x64xf32>) {strategy = #attn.strategy<"tiled", {block_q = 1048576}>} -> tensor<1x1x8x64xf32>
  return %o : tensor<1x1x8x64xf32>
}

// -----

func.func @split_kv_block_q_beyond_stack(%q: tensor<1x8x8x64xf32>, %k: tensor<1x1x8x64xf32>) -> tensor<1x8x8x64xf32> {
  %init = tensor.empty() : tensor<1x8x8x64xf32>
  // expected-error @+1 {{split_kv strategy parameter block_q = 4096 is out of range: a task's scratch (O, m, l of 8 heads x block_q rows, Dv = 64) takes}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x8x8x64xf32>, tensor<1x1x8x64xf32>, tensor<1x1x8x64xf32>) outs(%init : tensor<1x8x8x64xf32>) {strategy = #attn.strategy<"split_kv", {block_q = 4096}>} -> tensor<1x8x8x64xf32>
  return %o : tensor<1x8x8x64xf32>
}

// -----

func.func @neighborhood_tile_huge(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{neighborhood strategy parameter tile = 9223372036854775807 is out of range: it must be from 1 to 4096}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {kernel = [3], strategy = #attn.strategy<"neighborhood", {tile = 9223372036854775807}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @neighborhood_tile_zero(%q: tensor<1x2x16x16x8xf32>) -> tensor<1x2x16x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x16x8xf32>
  // expected-error @+1 {{neighborhood strategy parameter tile = 0 is out of range: it must be from 1 to 4096}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x16x16x8xf32>, tensor<1x2x16x16x8xf32>, tensor<1x2x16x16x8xf32>) outs(%init : tensor<1x2x16x16x8xf32>) {kernel = [3, 3], strategy = #attn.strategy<"neighborhood", {tile = [4, 0]}>} -> tensor<1x2x16x16x8xf32>
  return %o : tensor<1x2x16x16x8xf32>
}

// -----

// A box of 4096 x 4096 queries reaches 4099 x 4099 key slots.
func.func @neighborhood_box_beyond_stack(%q: tensor<1x2x16x16x8xf32>) -> tensor<1x2x16x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x16x8xf32>
  // expected-error @+1 {{neighborhood strategy parameter tile = [4096, 4096] is out of range: a box's scratch (its queries and the keys their windows reach) takes}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x16x16x8xf32>, tensor<1x2x16x16x8xf32>, tensor<1x2x16x16x8xf32>) outs(%init : tensor<1x2x16x16x8xf32>) {kernel = [3, 3], strategy = #attn.strategy<"neighborhood", {tile = 4096}>} -> tensor<1x2x16x16x8xf32>
  return %o : tensor<1x2x16x16x8xf32>
}

// -----

// Within the schema's range but not a multiple of the CPU's vector lanes.
func.func @block_k_not_lanes(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter block_k = 12 is out of range: it must be a multiple of 8 (the vector lanes) from 8 to 128}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {block_k = 12}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// A misspelled key is an error naming the strategy's parameters (it used to
// be ignored: the default ran).
func.func @misspelled(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy has no parameter 'blcok_q' (its parameters: block_q, block_k, micro_q, bf16_dot, tensor_cores)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {blcok_q = 32}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @wrong_type(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter block_q = "64" must be an integer}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {block_q = "64"}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @gpu_parameter_on_cpu(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{tiled strategy parameter tensor_cores is used on gpu targets only, and this target is cpu}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"tiled", {tensor_cores = 0}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @parameter_of_reference(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{reference strategy has no parameter 'block_q' (it takes none)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"reference", {block_q = 32}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @portable_block_k_zero(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{portable strategy parameter block_k = 0 is out of range: it must be from 1 to 4096}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"portable", {block_k = 0}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

func.func @portable_micro_q(%q: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %init = tensor.empty() : tensor<1x2x16x8xf32>
  // expected-error @+1 {{portable strategy has no parameter 'micro_q'}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%init : tensor<1x2x16x8xf32>) {strategy = #attn.strategy<"portable", {micro_q = 4}>} -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
