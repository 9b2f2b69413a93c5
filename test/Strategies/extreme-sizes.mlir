// The largest sizes the verifier accepts (2^31 - 1 positions, heads, head
// dimensions, windows, sinks, neighborhood spans): every strategy's
// applicability test, cost model and rewrite handles them without overflow
// or a hang, for the CPU and the GPU. Strategies that cannot hold such a
// problem step aside (the CPU kernels unroll D and Dv, so D > 1024 takes
// `portable`, whose tiles unroll nothing; one query row of 2^31 - 1 heads
// overflows a task's stack).
// Found by hand after fuzzing: int64 overflow in the neighborhood verifier
// (kernel * dilation), box scratch, linear scratch and GPU shared memory;
// a 2^31-row band count took seconds per cost estimate; D = 2^31 - 1 built
// IR without end; selection chose split_kv and then failed to apply it.
// scripts/sanitize.sh runs this under UBSan.
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(attn-set-target{target=cpu threads=2 vector-width=256},func.func(attn-select-strategy))" | FileCheck %s --check-prefix=CPU
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(attn-set-target{target=gpu},func.func(attn-select-strategy))" | FileCheck %s --check-prefix=GPU
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(attn-set-target{target=cpu threads=2 vector-width=256},func.func(attn-select-strategy,attn-apply-strategies,attn-convert-online-attention-to-cpu-vector))" | FileCheck %s --check-prefix=APPLY
// RUN: attn-opt %s -split-input-file --pass-pipeline="builtin.module(attn-set-target{target=gpu tensor-cores},func.func(attn-select-strategy,attn-apply-strategies,attn-convert-online-attention-to-gpu))" | FileCheck %s --check-prefix=APPLY
// APPLY-NOT: attn.attention
// APPLY-NOT: attn.neighborhood

// Lq = Lk = 2^31 - 1, causal, widest window and sinks.
// CPU-LABEL: func.func @long
// CPU: strategy = #attn.strategy<"tiled"
// GPU-LABEL: func.func @long
// GPU: strategy = #attn.strategy<"tiled"
func.func @long(%q: tensor<1x2x2147483647x16xf32>, %i: tensor<1x2x2147483647x16xf32>) -> tensor<1x2x2147483647x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x2x2147483647x16xf32>, tensor<1x2x2147483647x16xf32>, tensor<1x2x2147483647x16xf32>) outs(%i : tensor<1x2x2147483647x16xf32>) {causal, window = #attn.window<left = 2147483647, right = 2147483647>, sinks = 2147483647} -> tensor<1x2x2147483647x16xf32>
  return %o : tensor<1x2x2147483647x16xf32>
}

// -----

// Batch and query heads at the limit, one key head.
// CPU-LABEL: func.func @heads
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @heads
// GPU: strategy = #attn.strategy<"split_kv"
func.func @heads(%q: tensor<2147483647x2147483647x?x16xf32>, %k: tensor<2147483647x1x?x16xf32>, %i: tensor<2147483647x2147483647x?x16xf32>) -> tensor<2147483647x2147483647x?x16xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<2147483647x2147483647x?x16xf32>, tensor<2147483647x1x?x16xf32>, tensor<2147483647x1x?x16xf32>) outs(%i : tensor<2147483647x2147483647x?x16xf32>) -> tensor<2147483647x2147483647x?x16xf32>
  return %o : tensor<2147483647x2147483647x?x16xf32>
}

// -----

// Head dimension at the limit.
// CPU-LABEL: func.func @wide
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @wide
// GPU: strategy = #attn.strategy<"reference"
func.func @wide(%q: tensor<1x1x?x2147483647xf32>, %i: tensor<1x1x?x2147483647xf32>) -> tensor<1x1x?x2147483647xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>) outs(%i : tensor<1x1x?x2147483647xf32>) -> tensor<1x1x?x2147483647xf32>
  return %o : tensor<1x1x?x2147483647xf32>
}

// -----

// CPU-LABEL: func.func @wide_linear
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @wide_linear
// GPU: strategy = #attn.strategy<"reference"
func.func @wide_linear(%q: tensor<1x1x?x2147483647xf32>, %i: tensor<1x1x?x2147483647xf32>) -> tensor<1x1x?x2147483647xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>) outs(%i : tensor<1x1x?x2147483647xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x1x?x2147483647xf32>
  return %o : tensor<1x1x?x2147483647xf32>
}

// -----

// Neighborhood: a 1-D kernel at the limit, dynamic extent.
// CPU-LABEL: func.func @nb1
// CPU: strategy = #attn.strategy<"tiled"
// GPU-LABEL: func.func @nb1
// GPU: strategy = #attn.strategy<"neighborhood"
func.func @nb1(%q: tensor<1x2x?x16xf32>, %i: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%i : tensor<1x2x?x16xf32>) {kernel = [2147483647], stride = [2147483647]} -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}

// -----

// Neighborhood: 3-D, kernel 1290^3 (just under 2^31), dynamic extents.
// CPU-LABEL: func.func @nb3
// CPU: strategy = #attn.strategy<"tiled"
// GPU-LABEL: func.func @nb3
// GPU: strategy = #attn.strategy<"tiled"
func.func @nb3(%q: tensor<1x2x?x?x?x16xf32>, %i: tensor<1x2x?x?x?x16xf32>) -> tensor<1x2x?x?x?x16xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x?x?x?x16xf32>, tensor<1x2x?x?x?x16xf32>, tensor<1x2x?x?x?x16xf32>) outs(%i : tensor<1x2x?x?x?x16xf32>) {kernel = [1290, 1290, 1290], stride = [1290, 1290, 1290]} -> tensor<1x2x?x?x?x16xf32>
  return %o : tensor<1x2x?x?x?x16xf32>
}

// -----

// Neighborhood: dilation at the limit, static grid of 2^31 - 1 positions.
// CPU-LABEL: func.func @nbd
// CPU: strategy = #attn.strategy<"neighborhood"
// GPU-LABEL: func.func @nbd
// GPU: strategy = #attn.strategy<"neighborhood"
func.func @nbd(%q: tensor<1x1x2147483647x16xf32>, %i: tensor<1x1x2147483647x16xf32>) -> tensor<1x1x2147483647x16xf32> {
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x1x2147483647x16xf32>, tensor<1x1x2147483647x16xf32>, tensor<1x1x2147483647x16xf32>) outs(%i : tensor<1x1x2147483647x16xf32>) {kernel = [1], dilation = [2147483647]} -> tensor<1x1x2147483647x16xf32>
  return %o : tensor<1x1x2147483647x16xf32>
}

// -----

// Head dimension at the limit, small value dimension.
// CPU-LABEL: func.func @wideqk
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @wideqk
// GPU: strategy = #attn.strategy<"reference"
func.func @wideqk(%q: tensor<1x1x?x2147483647xf32>, %v: tensor<1x1x?x16xf32>, %i: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  %o = attn.attention ins(%q, %q, %v : tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>, tensor<1x1x?x16xf32>) outs(%i : tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}

// -----

// CPU-LABEL: func.func @wideqk_taylor
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @wideqk_taylor
// GPU: strategy = #attn.strategy<"reference"
func.func @wideqk_taylor(%q: tensor<1x1x?x2147483647xf32>, %v: tensor<1x1x?x16xf32>, %i: tensor<1x1x?x16xf32>) -> tensor<1x1x?x16xf32> {
  %o = attn.attention ins(%q, %q, %v : tensor<1x1x?x2147483647xf32>, tensor<1x1x?x2147483647xf32>, tensor<1x1x?x16xf32>) outs(%i : tensor<1x1x?x16xf32>) {score = #attn.score<kernel<taylor2>>} -> tensor<1x1x?x16xf32>
  return %o : tensor<1x1x?x16xf32>
}

// -----

// A mask over the longest sequences.
// CPU-LABEL: func.func @masked
// CPU: strategy = #attn.strategy<"tiled"
// GPU-LABEL: func.func @masked
// GPU: strategy = #attn.strategy<"tiled"
func.func @masked(%q: tensor<1x1x2147483647x16xf32>, %m: tensor<1x1x2147483647x2147483647xi1>, %i: tensor<1x1x2147483647x16xf32>) -> tensor<1x1x2147483647x16xf32> {
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x2147483647x16xf32>, tensor<1x1x2147483647x16xf32>, tensor<1x1x2147483647x16xf32>) mask(%m : tensor<1x1x2147483647x2147483647xi1>) outs(%i : tensor<1x1x2147483647x16xf32>) -> tensor<1x1x2147483647x16xf32>
  return %o : tensor<1x1x2147483647x16xf32>
}

// -----

// Decode over the longest cache. On the GPU the cost model wanted 67584
// splits (4 per thread of the whole device) and apply rejected them
// (fuzzer finding); it now stops at the kernels' 4096. Any Lk from 2^18
// keys on did this.
// CPU-LABEL: func.func @decode_long
// CPU: strategy = #attn.strategy<"split_kv", {{.*}}splits = 8 : i64}
// GPU-LABEL: func.func @decode_long
// GPU: strategy = #attn.strategy<"split_kv", {{.*}}splits = 4096 : i64{{.*}}}
func.func @decode_long(%q: tensor<1x8x1x64xf32>, %k: tensor<1x8x2147483647x64xf32>, %i: tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32> {
  %o = attn.attention ins(%q, %k, %k : tensor<1x8x1x64xf32>, tensor<1x8x2147483647x64xf32>, tensor<1x8x2147483647x64xf32>) outs(%i : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// 46341 query heads per KV head: one task of the flash kernel must hold a
// single row per head. The cost model's block_q stopped at micro_q (6),
// whose scratch overflowed the stack, and selection's choice then failed to
// apply (fuzzer finding); block_q now goes down to 1.
// CPU-LABEL: func.func @many_heads
// CPU: strategy = #attn.strategy<"tiled", {block_k = {{[0-9]+}} : i64, block_q = 1 : i64
// GPU-LABEL: func.func @many_heads
func.func @many_heads(%q: tensor<1x92682x1024x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x92682x1024x8xf32> {
  %init = tensor.empty() : tensor<1x92682x1024x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x92682x1024x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x8xf32>) outs(%init : tensor<1x92682x1024x8xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x92682x1024x8xf32>
  return %o : tensor<1x92682x1024x8xf32>
}

// -----

// 2^31 - 1 query heads over 2^31 - 1 rows: the tiled cost model multiplied
// Hq * Lq * (D + Dv) in int64 on the GPU (UBSan, strategy fuzzer).
// CPU-LABEL: func.func @heads_long
// CPU: strategy = #attn.strategy<"portable"
// GPU-LABEL: func.func @heads_long
// GPU: strategy = #attn.strategy<"tiled"
func.func @heads_long(%q: tensor<1x2147483647x2147483647x16xf32>, %k: tensor<1x1x2147483647x16xf32>, %v: tensor<1x1x2147483647x27xf32>) -> tensor<1x2147483647x2147483647x27xf32> {
  %init = tensor.empty() : tensor<1x2147483647x2147483647x27xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x2147483647x2147483647x16xf32>, tensor<1x1x2147483647x16xf32>, tensor<1x1x2147483647x27xf32>) outs(%init : tensor<1x2147483647x2147483647x27xf32>) {causal} -> tensor<1x2147483647x2147483647x27xf32>
  return %o : tensor<1x2147483647x2147483647x27xf32>
}

// -----

// A 3-D window 1025 keys wide on its last axis: even the smallest box edge
// the cost model tries (2) overflows a task's stack. It used to keep that
// first candidate anyway, and apply rejected its own choice (strategy
// fuzzer); now it falls back to a box of one query.
// CPU-LABEL: func.func @nb_wide_box
// CPU: strategy = #attn.strategy<"neighborhood", {tile = [1, 1, 1]}>
// GPU-LABEL: func.func @nb_wide_box
// GPU: strategy = #attn.strategy<"neighborhood"
func.func @nb_wide_box(%q: tensor<1x1x?x?x?x4xf16>, %v: tensor<1x1x?x?x?x24xf16>, %init: tensor<1x1x?x?x?x24xf16>) -> tensor<1x1x?x?x?x24xf16> {
  %o = attn.neighborhood ins(%q, %q, %v : tensor<1x1x?x?x?x4xf16>, tensor<1x1x?x?x?x4xf16>, tensor<1x1x?x?x?x24xf16>) outs(%init : tensor<1x1x?x?x?x24xf16>) {kernel = [3, 1, 1025], strategy = #attn.strategy<"neighborhood">} -> tensor<1x1x?x?x?x24xf16>
  return %o : tensor<1x1x?x?x?x24xf16>
}
