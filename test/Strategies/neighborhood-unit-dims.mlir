// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s

// Regression: with one query head, a box of one position and a kernel of 1
// on an axis, several output slice sizes fold to 1. The output tile is a
// full-rank slice so that no rank reduction is ambiguous (an ambiguous one
// crashed upstream's subview folding).

// CHECK: llvm.func @main
func.func @main(%q: tensor<2x1x3x11x16xf32>, %k: tensor<2x1x3x11x16xf32>, %v: tensor<2x1x3x11x4xf32>) -> tensor<2x1x3x11x4xf32> {
  %i = tensor.empty() : tensor<2x1x3x11x4xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<2x1x3x11x16xf32>, tensor<2x1x3x11x16xf32>, tensor<2x1x3x11x4xf32>) outs(%i : tensor<2x1x3x11x4xf32>) {kernel = [1, 6], dilation = [3, 1], stride = [1, 1], causal = [true, false], strategy = #attn.strategy<"neighborhood", {tile = 1}>} -> tensor<2x1x3x11x4xf32>
  return %o : tensor<2x1x3x11x4xf32>
}

// CHECK: llvm.func @decode
func.func @decode(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x40x16xf32>, %v: tensor<1x1x40x16xf32>) -> tensor<1x1x1x16xf32> {
  %i = tensor.empty() : tensor<1x1x1x16xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<1x1x1x16xf32>, tensor<1x1x40x16xf32>, tensor<1x1x40x16xf32>) outs(%i : tensor<1x1x1x16xf32>) {strategy = #attn.strategy<"split_kv", {splits = 3, micro_q = 1}>} -> tensor<1x1x1x16xf32>
  return %o : tensor<1x1x1x16xf32>
}
