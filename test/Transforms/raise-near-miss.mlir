// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-raise=explain=true | FileCheck %s
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-explain | FileCheck %s

// Near-misses: attention-like math that attn.attention would not compute
// exactly. attn-raise leaves each one as written and, with explain (or
// attn-explain), says why.

// The softmax normalizes over the queries (axis 1), but the product with V
// sums over the keys.
// CHECK-LABEL: func.func @reduce_wrong_axis(
// CHECK-NOT:     attn.attention
func.func @reduce_wrong_axis(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %s {axis = 1 : i32} : (tensor<4x8x8xf32>) -> tensor<4x1x8xf32>
  %sub = tosa.sub %s, %max : (tensor<4x8x8xf32>, tensor<4x1x8xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 1 : i32} : (tensor<4x8x8xf32>) -> tensor<4x1x8xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x1x8xf32>) -> tensor<4x1x8xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x1x8xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{softmax over the wrong axis}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// A scale applied to the weights after the softmax is not a score scale.
// CHECK-LABEL: func.func @scale_after_softmax(
// CHECK-NOT:     attn.attention
func.func @scale_after_softmax(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %s, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p0 = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %half = "tosa.const"() <{values = dense<0.5> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %p = tosa.mul %p0, %half, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{a scale is applied after the softmax}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// exp(s) / sum(exp(s)) without the max: the same function in exact
// arithmetic, but the written math overflows to inf/NaN for large scores
// where attn.attention does not, so it is left as written.
// CHECK-LABEL: func.func @max_not_subtracted(
// CHECK-NOT:     attn.attention
func.func @max_not_subtracted(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %s : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the max is not subtracted before the exp}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// The mask is added to the exponentials, not to the scores.
// CHECK-LABEL: func.func @mask_after_exp(
// CHECK-NOT:     attn.attention
func.func @mask_after_exp(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %s, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp0 = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %mask = "tosa.const"() <{values = dense<[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x8x8xf32>}> : () -> tensor<1x8x8xf32>
  %exp = tosa.add %exp0, %mask : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{a mask is added after the exp}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Lq > Lk with a bottom-right causal mask: the first rows allow no key, where
// the written softmax gives NaN and attn.attention gives zeros.
// CHECK-LABEL: func.func @masked_rows(
// CHECK-NOT:     attn.attention
func.func @masked_rows(%q: tensor<4x8x16xf32>, %k: tensor<4x4x16xf32>, %v: tensor<4x4x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x4x16xf32>) -> tensor<4x16x4xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x4xf32>
  %mask = "tosa.const"() <{values = dense<[[[0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]]> : tensor<1x8x4xf32>}> : () -> tensor<1x8x4xf32>
  %sm = tosa.add %s, %mask : (tensor<4x8x4xf32>, tensor<1x8x4xf32>) -> tensor<4x8x4xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x4xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x4xf32>, tensor<4x8x1xf32>) -> tensor<4x8x4xf32>
  %exp = tosa.exp %sub : (tensor<4x8x4xf32>) -> tensor<4x8x4xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x4xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x4xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x4xf32>
  // expected-remark @+1 {{allows no key}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x4xf32>, tensor<4x4x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// The max is taken over the unscaled scores but subtracted from the scaled
// ones.
// CHECK-LABEL: func.func @max_of_other_scores(
// CHECK-NOT:     attn.attention
func.func @max_of_other_scores(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.5> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %ss = tosa.mul %s, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %ss, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{not the max of the same scores}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// The normalizer is the sum of other exponentials than the numerator.
// CHECK-LABEL: func.func @sum_of_other(
// CHECK-NOT:     attn.attention
func.func @sum_of_other(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %s, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %exps = tosa.exp %s : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exps {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the sum of something other than its numerator}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// f16 attention is left to a later issue (mixed precision needs care).
// CHECK-LABEL: func.func @f16(
// CHECK-NOT:     attn.attention
func.func @f16(%q: tensor<4x8x16xf16>, %k: tensor<4x8x16xf16>, %v: tensor<4x8x16xf16>) -> tensor<4x8x16xf16> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf16>}> : () -> tensor<1xf16>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf16>) -> tensor<4x16x8xf16>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf16>, tensor<4x16x8xf16>, tensor<1xf16>, tensor<1xf16>) -> tensor<4x8x8xf16>
  %max = tosa.reduce_max %s {axis = 2 : i32} : (tensor<4x8x8xf16>) -> tensor<4x8x1xf16>
  %sub = tosa.sub %s, %max : (tensor<4x8x8xf16>, tensor<4x8x1xf16>) -> tensor<4x8x8xf16>
  %exp = tosa.exp %sub : (tensor<4x8x8xf16>) -> tensor<4x8x8xf16>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf16>) -> tensor<4x8x1xf16>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf16>) -> tensor<4x8x1xf16>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf16>, tensor<4x8x1xf16>, tensor<1xi8>) -> tensor<4x8x8xf16>
  // expected-remark @+1 {{static f32 tensors}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf16>, tensor<4x8x16xf16>, tensor<1xf16>, tensor<1xf16>) -> tensor<4x8x16xf16>
  return %o : tensor<4x8x16xf16>
}


// -----

// linalg.softmax over dimension 1 (the queries) of [N, Lq, Lk] scores.
// CHECK-LABEL: func.func @linalg_softmax_wrong_axis(
// CHECK-NOT:     attn.attention
func.func @linalg_softmax_wrong_axis(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{softmax over the wrong axis: linalg.softmax normalizes dimension 1}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// Dynamic shapes are not raised yet.
// CHECK-LABEL: func.func @dynamic(
// CHECK-NOT:     attn.attention
func.func @dynamic(%q: tensor<?x8x16xf32>, %k: tensor<?x8x16xf32>, %v: tensor<?x8x16xf32>) -> tensor<?x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %q, %c0 : tensor<?x8x16xf32>
  %e0 = tensor.empty(%n) : tensor<?x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<?x8x16xf32>) outs(%e0 : tensor<?x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty(%n) : tensor<?x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<?x8x16xf32>, tensor<?x16x8xf32>) outs(%f1 : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<?x8x8xf32>) outs(%e1 : tensor<?x8x8xf32>) -> tensor<?x8x8xf32>
  %e2 = tensor.empty(%n) : tensor<?x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<?x8x16xf32>) -> tensor<?x8x16xf32>
  // expected-remark @+1 {{static f32 tensors}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<?x8x8xf32>, tensor<?x8x16xf32>) outs(%f2 : tensor<?x8x16xf32>) -> tensor<?x8x16xf32>
  return %o : tensor<?x8x16xf32>
}

// -----

// A projection: no softmax anywhere, so no remark either.
// CHECK-LABEL: func.func @plain_matmul(
// CHECK:         linalg.batch_matmul
func.func @plain_matmul(%a: tensor<4x8x16xf32>, %b: tensor<4x16x8xf32>) -> tensor<4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %o = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  return %o : tensor<4x8x8xf32>
}

// -----

// A mask computed from iotas (i > j) whose first row allows no key: the
// written softmax gives NaN there, attn.attention zeros.
// CHECK-LABEL: func.func @computed_mask_empty_row(
// CHECK-NOT:     attn.attention
func.func @computed_mask_empty_row(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %iota = "tosa.const"() <{values = dense<[0, 1, 2, 3, 4, 5, 6, 7]> : tensor<8xi32>}> : () -> tensor<8xi32>
  %rs = tosa.const_shape {values = dense<[1, 8, 1]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %cs = tosa.const_shape {values = dense<[1, 1, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %qi = tosa.reshape %iota, %rs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x8x1xi32>
  %kj = tosa.reshape %iota, %cs : (tensor<8xi32>, !tosa.shape<3>) -> tensor<1x1x8xi32>
  %m = tosa.greater %qi, %kj : (tensor<1x8x1xi32>, tensor<1x1x8xi32>) -> tensor<1x8x8xi1>
  %zero = "tosa.const"() <{values = dense<0.0> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %ninf = "tosa.const"() <{values = dense<0xFF800000> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %add = tosa.select %m, %zero, %ninf : (tensor<1x8x8xi1>, tensor<1x1x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x8xf32>
  %sm = tosa.add %s, %add : (tensor<4x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x8xf32>
  %max = tosa.reduce_max %sm {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %sm, %max : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x8xf32>
  %exp = tosa.exp %sub : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x8xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p = tosa.mul %exp, %inv, %shift : (tensor<4x8x8xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{a row of the computed mask allows no key}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// A column concatenated to the scores that varies along the queries is no
// sink logit (attn's sinks are one per query head).
// CHECK-LABEL: func.func @sink_column_per_query(
// CHECK-NOT:     attn.attention
func.func @sink_column_per_query(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %sl: tensor<4x8x1xf32>) -> tensor<4x8x16xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s0 = tosa.matmul %q, %kt, %zp, %zp : (tensor<4x8x16xf32>, tensor<4x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x8xf32>
  %c = "tosa.const"() <{values = dense<0.25> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %s = tosa.mul %s0, %c, %shift : (tensor<4x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<4x8x8xf32>
  %cat = tosa.concat %s, %sl {axis = 2 : i32} : (tensor<4x8x8xf32>, tensor<4x8x1xf32>) -> tensor<4x8x9xf32>
  %max = tosa.reduce_max %cat {axis = 2 : i32} : (tensor<4x8x9xf32>) -> tensor<4x8x1xf32>
  %sub = tosa.sub %cat, %max : (tensor<4x8x9xf32>, tensor<4x8x1xf32>) -> tensor<4x8x9xf32>
  %exp = tosa.exp %sub : (tensor<4x8x9xf32>) -> tensor<4x8x9xf32>
  %sum = tosa.reduce_sum %exp {axis = 2 : i32} : (tensor<4x8x9xf32>) -> tensor<4x8x1xf32>
  %inv = tosa.reciprocal %sum : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  %p9 = tosa.mul %exp, %inv, %shift : (tensor<4x8x9xf32>, tensor<4x8x1xf32>, tensor<1xi8>) -> tensor<4x8x9xf32>
  %start = tosa.const_shape {values = dense<[0, 0, 0]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %size = tosa.const_shape {values = dense<[4, 8, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %p = tosa.slice %p9, %start, %size : (tensor<4x8x9xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{the column concatenated to the scores is not one logit per query head}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<4x8x8xf32>, tensor<4x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// A bias computed in the generic that adds it, with a division by a
// position: a mod region holds no op that can trap, so the bias cannot be
// lifted, and it is not a tensor either.
// CHECK-LABEL: func.func @fused_bias_divides(
// CHECK-NOT:     attn.attention
func.func @fused_bias_divides(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1 : index
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(h, i, j) -> (h, i, j)>, affine_map<(h, i, j) -> (h, i, j)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%score: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %i1 = arith.addi %i, %one : index
    %d = arith.divsi %j, %i1 : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %r = arith.addf %score, %df : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{an additive mask is computed inside a fused op (a mask or bias is computed with 'arith.divsi')}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
