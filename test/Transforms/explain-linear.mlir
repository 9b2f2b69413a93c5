// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target="threads=2 vector-width=512" --attn-explain -o /dev/null
// RUN: attn-opt %s -split-input-file --attn-set-target="threads=2 vector-width=512" --attn-explain -o /dev/null 2>&1 | FileCheck %s

// Between `linear` (O(L F Dv)) and the quadratic `tiled`, selection picks by
// estimated cost: tiled for short sequences, linear for long ones. With
// taylor2 and D = 64 the state has F = 1 + 64 + 64*65/2 = 2145 features, so
// the crossover is in the thousands (bench/run_bench.py --suites linear
// measures it); elu1 (F = 64) crosses within a few tokens, because tiled's
// scalar feature maps cost more than linear's whole state.

// CHECK: explain-linear.mlir:[[@LINE+4]]:8: remark: strategy 'tiled' (cheapest estimate)
// CHECK-DAG: {{^}}  linear: {{.*}}#attn.strategy<"linear", {chunk = 32 : i64}> ({{[0-9.]+}}x the selected estimate)
func.func @taylor2_short(%q: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  // expected-remark @+1 {{strategy 'tiled' (cheapest estimate)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>)
                      outs(%q : tensor<1x8x1024x64xf32>) {causal, score = #attn.score<kernel<taylor2>>} -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// -----

// CHECK: explain-linear.mlir:[[@LINE+4]]:8: remark: strategy 'linear' (cheapest estimate)
// CHECK-DAG: {{^}}  linear: {{.*}} <- cheapest, selected
func.func @taylor2_long(%q: tensor<1x8x16384x64xf32>) -> tensor<1x8x16384x64xf32> {
  // expected-remark @+1 {{strategy 'linear' (cheapest estimate)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x8x16384x64xf32>, tensor<1x8x16384x64xf32>, tensor<1x8x16384x64xf32>)
                      outs(%q : tensor<1x8x16384x64xf32>) {causal, score = #attn.score<kernel<taylor2>>} -> tensor<1x8x16384x64xf32>
  return %o : tensor<1x8x16384x64xf32>
}

// -----

// CHECK: explain-linear.mlir:[[@LINE+3]]:8: remark: strategy 'linear' (cheapest estimate)
func.func @elu1_long(%q: tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32> {
  // expected-remark @+1 {{strategy 'linear' (cheapest estimate)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>)
                      outs(%q : tensor<1x8x4096x64xf32>) {causal, score = #attn.score<kernel<elu1>>} -> tensor<1x8x4096x64xf32>
  return %o : tensor<1x8x4096x64xf32>
}

// -----

// Ops linear cannot compute list the reason.
// CHECK: remark: strategy '{{[a-z_]+}}' (cheapest estimate)
// CHECK-DAG: {{^}}  linear: rejected: needs a kernel score (#attn.score<kernel<...>>)
// CHECK: remark: strategy '{{[a-z_]+}}' (cheapest estimate)
// CHECK-DAG: {{^}}  linear: rejected: mask is not supported
// CHECK: remark: strategy '{{[a-z_]+}}' (cheapest estimate)
// CHECK-DAG: {{^}}  linear: rejected: window is not supported
func.func @rejected(%q: tensor<1x2x64x16xf32>, %m: tensor<1x1x64x64xi1>) -> tensor<1x2x64x16xf32> {
  // expected-remark @+1 {{candidates:}}
  %a = attn.attention ins(%q, %q, %q : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%q : tensor<1x2x64x16xf32>) {causal} -> tensor<1x2x64x16xf32>
  // expected-remark @+1 {{candidates:}}
  %b = attn.attention ins(%a, %a, %a : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      mask(%m : tensor<1x1x64x64xi1>)
                      outs(%q : tensor<1x2x64x16xf32>) {score = #attn.score<kernel<relu>>} -> tensor<1x2x64x16xf32>
  // expected-remark @+1 {{candidates:}}
  %c = attn.attention ins(%b, %b, %b : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
                      outs(%q : tensor<1x2x64x16xf32>) {window = #attn.window<left = 8>, score = #attn.score<kernel<identity>>} -> tensor<1x2x64x16xf32>
  return %c : tensor<1x2x64x16xf32>
}
