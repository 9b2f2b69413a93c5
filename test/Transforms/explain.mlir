// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-explain | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-explain="threads=4 vector-width=256" 2>&1 | FileCheck %s --check-prefix=TARGET

// --attn-explain emits one remark per attn op naming the strategy that
// selection picks (or the one written on the op) and each candidate's cost,
// and changes nothing.

// CHECK-LABEL: func.func @cheapest(
// CHECK:         attn.attention
// CHECK-NOT:     strategy =
// CHECK-SAME:    -> tensor<1x4x64x32xf32>
// TARGET: remark: strategy 'reference' (cheapest estimate) on cpu with 4 threads, 256-bit vectors; candidates:
// TARGET-NEXT: reference: {{.*}} ms, {{.*}} GFLOP, {{.*}} moved, parallelism {{[0-9]+}}, scratch {{.*}} #attn.strategy<"reference"> <- cheapest, selected
func.func @cheapest(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  // expected-remark @+1 {{strategy 'reference' (cheapest estimate)}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {causal} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// CHECK-LABEL: func.func @written(
// CHECK:         attn.attention {{.*}} {strategy = #attn.strategy<"reference">}
// TARGET: remark: strategy 'reference' (written on the op)
// TARGET-NEXT: reference: {{.*}} <- written
func.func @written(%q: tensor<1x4x64x32xf32>, %init: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  // expected-remark @+1 {{strategy 'reference' (written on the op)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>)
                      outs(%init : tensor<1x4x64x32xf32>) {strategy = #attn.strategy<"reference">} -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// CHECK-LABEL: func.func @neighborhood(
// CHECK:         attn.neighborhood {{.*}} {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
// TARGET: remark: strategy 'reference' (cheapest estimate)
func.func @neighborhood(%q: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
  // expected-remark @+1 {{strategy 'reference'}}
  %o = attn.neighborhood ins(%q, %q, %q : tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>, tensor<1x2x8x8x16xf32>)
                         outs(%q : tensor<1x2x8x8x16xf32>) {kernel = [3, 3]} -> tensor<1x2x8x8x16xf32>
  return %o : tensor<1x2x8x8x16xf32>
}

// -----

// Two ops, two remarks.
// CHECK-LABEL: func.func @two_ops(
func.func @two_ops(%q: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  // expected-remark @+1 {{candidates:}}
  %a = attn.attention ins(%q, %q, %q : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32>
  // expected-remark @+1 {{candidates:}}
  %b = attn.attention ins(%a, %a, %a : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>)
                      outs(%q : tensor<1x1x16x8xf32>) {score = #attn.score<kernel<relu>>} -> tensor<1x1x16x8xf32>
  return %b : tensor<1x1x16x8xf32>
}
