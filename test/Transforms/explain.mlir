// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-explain | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-set-target="threads=4 vector-width=256" --attn-explain 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: attn-opt %s -split-input-file --attn-set-target="target=gpu" --attn-explain 2>&1 | FileCheck %s --check-prefix=GPU

// --attn-explain emits one remark per attn op naming the strategy that
// selection picks (or the one written on the op) and listing every registered
// strategy with its cost or the reason it cannot compute the op; it changes
// nothing. Which strategy is cheapest depends on the target, so the checks
// name only `reference`, which can compute every op.

// CHECK-LABEL: func.func @cheapest(
// CHECK:         attn.attention
// CHECK-NOT:     strategy =
// CHECK-SAME:    -> tensor<1x4x64x32xf32>
// TARGET:      remark: strategy '{{[a-z_]+}}' (cheapest estimate) on cpu with 4 threads, 256-bit vectors; candidates:
// TARGET-DAG:  {{^}}  reference: {{[0-9.e+-]+}} ms, {{[0-9.e+-]+}} GFLOP, {{[0-9.]+}} {{B|KiB|MiB}} moved, parallelism {{[0-9]+}}, scratch {{[0-9.]+}} {{B|KiB|MiB}} #attn.strategy<"reference">
// TARGET-DAG:  {{^}}  {{[a-z_]+}}: {{.*}} <- cheapest, selected
// TARGET:      note: see current operation
func.func @cheapest(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  // expected-remark @+1 {{(cheapest estimate) on cpu}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {causal} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// A strategy written on the op is the one reported.
// CHECK-LABEL: func.func @written(
// CHECK:         attn.attention {{.*}} {strategy = #attn.strategy<"reference">}
// TARGET:      remark: strategy 'reference' (written on the op)
// TARGET:      {{^}}  reference: {{.*}} <- written
func.func @written(%q: tensor<1x4x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  // expected-remark @+1 {{strategy 'reference' (written on the op)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// A strategy that cannot compute an op is listed with its reason; here the
// neighborhood op, which the attention-only strategies reject.
// CHECK-LABEL: func.func @neighborhood(
// CHECK:         attn.neighborhood {{.*}} {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
// TARGET:      remark: strategy '{{[a-z_]+}}' (cheapest estimate)
// TARGET-DAG:  {{^}}  reference: {{.*}}#attn.strategy<"reference">
// TARGET-DAG:  {{^}}  {{[a-z_]+}}: rejected: {{.+}}
func.func @neighborhood(%q: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-remark @+1 {{candidates:}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>)
                         outs(%q : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

// Two ops, two remarks; a GPU target description is reported as such.
// CHECK-LABEL: func.func @two_ops(
func.func @two_ops(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // GPU: explain.mlir:[[@LINE+2]]:8: remark: strategy '{{[a-z_]*}}' (cheapest estimate) on gpu with {{[0-9]+}} threads
  // expected-remark @+1 {{candidates:}}
  %a = attn.attention ins(%q, %q, %q : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
  // The GPU's tiled kernel keeps its tiles in shared memory: no scratch.
  // GPU: {{^}}  tiled: {{.*}}, scratch 0.0 B #attn.strategy<"tiled"
  // GPU: explain.mlir:[[@LINE+2]]:8: remark: strategy '{{[a-z_]*}}' (cheapest estimate) on gpu with {{[0-9]+}} threads
  // expected-remark @+1 {{candidates:}}
  %b = attn.attention ins(%a, %a, %a : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) {score = #attn.score<kernel<relu>>} -> tensor<1x1x16x8xf32>
  return %b : tensor<1x1x16x8xf32>
}

// -----

// A long prefill on a gpu target. The partial states of split_kv may take
// at most the larger of K and V's bytes and 16 MiB, so it takes one split
// (not 128, with 2 GiB of partials), and tiled is chosen.
// CHECK-LABEL: func.func @long_prefill(
func.func @long_prefill(%q: tensor<1x8x8192x64xf32>) -> tensor<1x8x8192x64xf32> {
  // GPU: explain.mlir:[[@LINE+4]]:8: remark: strategy 'tiled' (cheapest estimate) on gpu
  // GPU: {{^}}  split_kv: {{.*}}, scratch 16.5 MiB #attn.strategy<"split_kv", {{.*}}splits = 1 : i64
  // GPU: selected: #attn.strategy<"tiled"
  // expected-remark @+1 {{candidates:}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x8x8192x64xf32>, tensor<1x8x8192x64xf32>, tensor<1x8x8192x64xf32>)
                      outs(%q : tensor<1x8x8192x64xf32>) -> tensor<1x8x8192x64xf32>
  return %o : tensor<1x8x8192x64xf32>
}
