// --attn-explain reports what compilation would do, with the same
// selection: a forced strategy (attn-opt's --attn-strategy) for ops that
// carry none, what is written for the others, and the parameters selection
// completes.
// RUN: attn-opt %s --attn-strategy=reference --attn-explain -verify-diagnostics -o /dev/null
// RUN: attn-opt %s --attn-strategy='#attn.strategy<"tiled", {block_q = 12}>' --attn-set-target="target=cpu vector-width=256 threads=2" --attn-explain -o /dev/null 2>&1 | FileCheck %s --check-prefix=PARAMS

func.func @forced(%q: tensor<1x4x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  // expected-remark @+1 {{strategy 'reference' (forced)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>) outs(%init : tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32>
  // expected-remark @+1 {{strategy 'split_kv' (written on the op)}}
  %p = attn.attention ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>) outs(%o : tensor<1x4x64x32xf32>) {strategy = #attn.strategy<"split_kv", {splits = 2}>} -> tensor<1x4x64x32xf32>
  return %p : tensor<1x4x64x32xf32>
}

// PARAMS: strategy 'tiled' (forced)
// PARAMS: selected: #attn.strategy<"tiled", {block_k = 32 : i64, block_q = 12 : i64, micro_q = 6 : i64}>
// PARAMS: strategy 'split_kv' (written on the op)
// PARAMS: selected: #attn.strategy<"split_kv", {{.*}}splits = 2 : i64}>
