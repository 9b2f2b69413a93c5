// RUN: attn-opt %s | attn-opt | FileCheck %s

// attn.neighborhood's return_lse and attn.neighborhood_backward round-trip,
// with every attribute and a differentiable score_mod (NATTEN's relative
// positional bias) and a mask_mod.

// CHECK-LABEL: func.func @forward_lse
// CHECK: attn.neighborhood ins({{.*}}) outs({{.*}}) {kernel = [3, 5], return_lse} -> tensor<1x2x7x9x8xf32>, tensor<1x2x7x9xf32>
func.func @forward_lse(%q: tensor<1x2x7x9x8xf32>) -> (tensor<1x2x7x9x8xf32>, tensor<1x2x7x9xf32>) {
  %o, %lse = attn.neighborhood ins(%q, %q, %q : tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x8xf32>)
      outs(%q : tensor<1x2x7x9x8xf32>) {kernel = [3, 5], return_lse}
      -> tensor<1x2x7x9x8xf32>, tensor<1x2x7x9xf32>
  return %o, %lse : tensor<1x2x7x9x8xf32>, tensor<1x2x7x9xf32>
}

// CHECK-LABEL: func.func @backward
// CHECK: attn.neighborhood_backward ins({{.*}} : tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>, tensor<1x4x7x9x4xf32>, tensor<1x4x7x9x4xf32>, tensor<1x4x7x9xf32>) outs({{.*}}) {causal = [true, false], dilation = [2, 1], kernel = [3, 3], scale = 5.000000e-01 : f32, stride = [1, 3]} score_mod {
// CHECK: math.tanh
// CHECK: } mask_mod {
// CHECK: -> tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>
func.func @backward(%q: tensor<1x4x7x9x8xf32>, %k: tensor<1x2x7x9x8xf32>, %v: tensor<1x2x7x9x4xf32>,
                    %o: tensor<1x4x7x9x4xf32>, %lse: tensor<1x4x7x9xf32>, %rpb: tensor<4x5x5xf32>)
    -> (tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>) {
  %g:3 = attn.neighborhood_backward ins(%q, %k, %v, %o, %o, %lse : tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>, tensor<1x4x7x9x4xf32>, tensor<1x4x7x9x4xf32>, tensor<1x4x7x9xf32>)
      outs(%q, %k, %v : tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>)
      {kernel = [3, 3], dilation = [2, 1], causal = [true, false], stride = [1, 3], scale = 0.5 : f32}
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %qx: index, %qy: index, %kx: index, %ky: index):
      %t = math.tanh %s : f32
      %c2 = arith.constant 2 : index
      %dx = arith.subi %kx, %qx : index
      %dy = arith.subi %ky, %qy : index
      %x = arith.addi %dx, %c2 : index
      %y = arith.addi %dy, %c2 : index
      %bias = tensor.extract %rpb[%h, %x, %y] : tensor<4x5x5xf32>
      %r = arith.addf %t, %bias : f32
      attn.yield %r : f32
    }
    mask_mod {
    ^bb0(%b: index, %h: index, %qx: index, %qy: index, %kx: index, %ky: index):
      %ok = arith.cmpi ule, %kx, %qx : index
      attn.yield %ok : i1
    }
      -> tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>
  return %g#0, %g#1, %g#2 : tensor<1x4x7x9x8xf32>, tensor<1x2x7x9x8xf32>, tensor<1x2x7x9x4xf32>
}
