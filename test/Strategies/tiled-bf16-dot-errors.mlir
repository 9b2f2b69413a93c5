// A written bf16_dot = 1 is used or is an error that says why: the target
// lacks the dot products, or the op cannot take them.
// RUN: attn-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(attn-apply-strategies))"

module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = false>} {
func.func @no_feature(%q: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  // expected-error @+1 {{tiled strategy parameter bf16_dot = 1 needs AVX512-BF16 dot products, which the target lacks (#attn.target bf16_dot)}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled", {bf16_dot = 1}>} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
}

// -----

module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>} {
func.func @f32(%q: tensor<1x1x20x16xf32>) -> tensor<1x1x20x16xf32> {
  %init = tensor.empty() : tensor<1x1x20x16xf32>
  // expected-error @+1 {{tiled strategy parameter bf16_dot = 1 does not apply: Q, K and V are not all bf16}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>, tensor<1x1x20x16xf32>)
                      outs(%init : tensor<1x1x20x16xf32>) {strategy = #attn.strategy<"tiled", {bf16_dot = 1}>} -> tensor<1x1x20x16xf32>
  return %o : tensor<1x1x20x16xf32>
}
}

// -----

module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>} {
func.func @odd_d(%q: tensor<1x1x20x15xbf16>) -> tensor<1x1x20x15xbf16> {
  %init = tensor.empty() : tensor<1x1x20x15xbf16>
  // expected-error @+1 {{tiled strategy parameter bf16_dot = 1 does not apply: the head dimension D = 15 is odd, and the dot products take pairs of it}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x15xbf16>, tensor<1x1x20x15xbf16>, tensor<1x1x20x15xbf16>)
                      outs(%init : tensor<1x1x20x15xbf16>) {strategy = #attn.strategy<"tiled", {bf16_dot = 1}>} -> tensor<1x1x20x15xbf16>
  return %o : tensor<1x1x20x15xbf16>
}
}

// -----

module attributes {attn.target = #attn.target<kind = "cpu", vector_width = 512, bf16_dot = true>} {
func.func @decode(%q: tensor<1x4x1x16xbf16>, %k: tensor<1x1x64x16xbf16>) -> tensor<1x4x1x16xbf16> {
  %init = tensor.empty() : tensor<1x4x1x16xbf16>
  // expected-error @+1 {{split_kv strategy parameter bf16_dot = 1 does not apply: the keys are read unpacked (decode), in f32}}
  %o = attn.attention ins(%q, %k, %k : tensor<1x4x1x16xbf16>, tensor<1x1x64x16xbf16>, tensor<1x1x64x16xbf16>)
                      outs(%init : tensor<1x4x1x16xbf16>) {strategy = #attn.strategy<"split_kv", {bf16_dot = 1}>} -> tensor<1x4x1x16xbf16>
  return %o : tensor<1x4x1x16xbf16>
}
}

// -----

module attributes {attn.target = #attn.target<kind = "gpu", threads = 1024>} {
func.func @gpu(%q: tensor<1x1x20x16xbf16>) -> tensor<1x1x20x16xbf16> {
  %init = tensor.empty() : tensor<1x1x20x16xbf16>
  // expected-error @+1 {{bf16_dot}}
  %o = attn.attention ins(%q, %q, %q : tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>, tensor<1x1x20x16xbf16>)
                      outs(%init : tensor<1x1x20x16xbf16>) {strategy = #attn.strategy<"tiled", {bf16_dot = 1}>} -> tensor<1x1x20x16xbf16>
  return %o : tensor<1x1x20x16xbf16>
}
}
