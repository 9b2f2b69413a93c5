// RUN: attn-opt %s -split-input-file --attn-raise | FileCheck %s

// attn-raise on attention written in linalg (named ops, generics, 2-D, 3-D
// and 4-D layouts, as torch-mlir and IREE's importers write it): every form
// below becomes one attn.attention and the math disappears.

// 3-D: linalg.transpose of K, batch_matmul, a generic scale, linalg.softmax.
// CHECK-LABEL: func.func @softmax_3d(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<4x8x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<4x8x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<4x8x16xf32>)
// CHECK-DAG:     %[[Q4:.+]] = tensor.expand_shape %[[Q]]
// CHECK-DAG:     %[[K4:.+]] = tensor.expand_shape %[[K]]
// CHECK-DAG:     %[[V4:.+]] = tensor.expand_shape %[[V]]
// CHECK:         %[[O:.+]] = attn.attention ins(%[[Q4]], %[[K4]], %[[V4]] : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) outs(%{{.+}} : tensor<1x4x8x16xf32>) {scale = 2.500000e-01 : f32}
// CHECK:         %[[R:.+]] = tensor.collapse_shape %[[O]]
// CHECK:         return %[[R]]
// CHECK-NOT:     linalg.softmax
func.func @softmax_3d(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e1 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e2 = tensor.empty() : tensor<4x8x8xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f3 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e4 = tensor.empty() : tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e4 : tensor<4x8x8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %c = arith.constant 0.25 : f32
    %m = arith.mulf %a0, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %e5 = tensor.empty() : tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e5 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e6 = tensor.empty() : tensor<4x8x16xf32>
  %f7 = linalg.fill ins(%zero : f32) outs(%e6 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f7 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// batch_matmul with indexing maps that read K transposed; the scores divided
// by a splat constant (linalg.div); softmax in linalg named ops (reduce,
// broadcast, sub, exp, div).
// CHECK-LABEL: func.func @named_ops(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 2.500000e-01 : f32}
// CHECK-NOT:     linalg.reduce
// CHECK-NOT:     linalg.batch_matmul
func.func @named_ops(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e17 = tensor.empty() : tensor<4x8x8xf32>
  %f18 = linalg.fill ins(%zero : f32) outs(%e17 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%q, %k : tensor<4x8x16xf32>, tensor<4x8x16xf32>) outs(%f18 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %four = arith.constant dense<4.0> : tensor<4x8x8xf32>
  %e19 = tensor.empty() : tensor<4x8x8xf32>
  %ss = linalg.div ins(%s, %four : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e19 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e8 = tensor.empty() : tensor<4x8xf32>
  %f9 = linalg.fill ins(%ninf : f32) outs(%e8 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %mx = linalg.reduce ins(%ss : tensor<4x8x8xf32>) outs(%f9 : tensor<4x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.maximumf %in, %acc : f32
      linalg.yield %r : f32
    }
  %e10 = tensor.empty() : tensor<4x8x8xf32>
  %mxb = linalg.broadcast ins(%mx : tensor<4x8xf32>) outs(%e10 : tensor<4x8x8xf32>) dimensions = [2]
  %e11 = tensor.empty() : tensor<4x8x8xf32>
  %sh = linalg.sub ins(%ss, %mxb : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e11 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e12 = tensor.empty() : tensor<4x8x8xf32>
  %ex = linalg.exp ins(%sh : tensor<4x8x8xf32>) outs(%e12 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e13 = tensor.empty() : tensor<4x8xf32>
  %f14 = linalg.fill ins(%zero : f32) outs(%e13 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %sm = linalg.reduce ins(%ex : tensor<4x8x8xf32>) outs(%f14 : tensor<4x8xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %r = arith.addf %in, %acc : f32
      linalg.yield %r : f32
    }
  %e15 = tensor.empty() : tensor<4x8x8xf32>
  %smb = linalg.broadcast ins(%sm : tensor<4x8xf32>) outs(%e15 : tensor<4x8x8xf32>) dimensions = [2]
  %e16 = tensor.empty() : tensor<4x8x8xf32>
  %p = linalg.div ins(%ex, %smb : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e16 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e20 = tensor.empty() : tensor<4x8x16xf32>
  %f21 = linalg.fill ins(%zero : f32) outs(%e20 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f21 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// 4-D [B, H, L, D] in linalg.generic: contractions, a fused scale + causal
// mask (an [L, L] constant broadcast by the indexing map), reductions with
// generics, sub and exp fused in one generic.
// CHECK-LABEL: func.func @generic_4d(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<2x2x8x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x2x8x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x2x8x16xf32>)
// CHECK-NEXT:    %[[INIT:.+]] = tensor.empty() : tensor<2x2x8x16xf32>
// CHECK-NEXT:    %[[O:.+]] = attn.attention ins(%[[Q]], %[[K]], %[[V]] : tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>) outs(%[[INIT]] : tensor<2x2x8x16xf32>) {causal, scale = 2.500000e-01 : f32}
// CHECK-NEXT:    return %[[O]]
func.func @generic_4d(%q: tensor<2x2x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>) -> tensor<2x2x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e22 = tensor.empty() : tensor<2x2x8x8xf32>
  %f23 = linalg.fill ins(%zero : f32) outs(%e22 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>) outs(%f23 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %m = arith.mulf %a0, %a1 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %causal = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %e24 = tensor.empty() : tensor<2x2x8x8xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %causal : tensor<2x2x8x8xf32>, tensor<8x8xf32>) outs(%e24 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %c = arith.constant 0.25 : f32
    %m = arith.mulf %a0, %c : f32
    %r = arith.addf %m, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %e25 = tensor.empty() : tensor<2x2x8xf32>
  %f26 = linalg.fill ins(%ninf : f32) outs(%e25 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ss : tensor<2x2x8x8xf32>) outs(%f26 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.maximumf %a0, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8xf32>
  %e27 = tensor.empty() : tensor<2x2x8x8xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ss, %mx : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e27 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %e28 = tensor.empty() : tensor<2x2x8xf32>
  %f29 = linalg.fill ins(%zero : f32) outs(%e28 : tensor<2x2x8xf32>) -> tensor<2x2x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ex : tensor<2x2x8x8xf32>) outs(%f29 : tensor<2x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %r = arith.addf %acc, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8xf32>
  %e30 = tensor.empty() : tensor<2x2x8x8xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i)>, affine_map<(b, h, i, j) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<2x2x8x8xf32>, tensor<2x2x8xf32>) outs(%e30 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %e31 = tensor.empty() : tensor<2x2x8x16xf32>
  %f32 = linalg.fill ins(%zero : f32) outs(%e31 : tensor<2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, e, j) -> (b, h, i, j)>, affine_map<(b, h, i, e, j) -> (b, h, j, e)>, affine_map<(b, h, i, e, j) -> (b, h, i, e)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x2x8x8xf32>, tensor<2x2x8x16xf32>) outs(%f32 : tensor<2x2x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %m = arith.mulf %a0, %a1 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x16xf32>
  return %o : tensor<2x2x8x16xf32>
}

// -----

// GQA: K and V expanded and broadcast across the 2 query heads of each KV
// head (as torch's repeat_kv) and collapsed into 3-D for batch_matmul.
// CHECK-LABEL: func.func @gqa_broadcast(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<1x4x8x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x8x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x8x16xf32>)
// CHECK:         %[[O:.+]] = attn.attention ins(%[[Q]], %[[K]], %[[V]] : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs({{.*}}) {scale = 2.500000e-01 : f32}
// CHECK-NOT:     linalg.broadcast
// CHECK:         %[[R:.+]] = tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 8, 16]
// CHECK:         return %[[R]]
func.func @gqa_broadcast(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %k5 = tensor.expand_shape %k [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %kc = tensor.collapse_shape %k5 [[0], [1], [2, 3], [4]] : tensor<1x2x1x8x16xf32> into tensor<1x2x8x16xf32>
  %e33 = tensor.empty() : tensor<1x2x2x8x16xf32>
  %kb = linalg.broadcast ins(%kc : tensor<1x2x8x16xf32>) outs(%e33 : tensor<1x2x2x8x16xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x2x8x16xf32> into tensor<4x8x16xf32>
  %v5 = tensor.expand_shape %v [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %vc = tensor.collapse_shape %v5 [[0], [1], [2, 3], [4]] : tensor<1x2x1x8x16xf32> into tensor<1x2x8x16xf32>
  %e34 = tensor.empty() : tensor<1x2x2x8x16xf32>
  %vb = linalg.broadcast ins(%vc : tensor<1x2x8x16xf32>) outs(%e34 : tensor<1x2x2x8x16xf32>) dimensions = [2]
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x2x8x16xf32> into tensor<4x8x16xf32>
  %e35 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k3 : tensor<4x8x16xf32>) outs(%e35 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e36 = tensor.empty() : tensor<4x8x8xf32>
  %f37 = linalg.fill ins(%zero : f32) outs(%e36 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f37 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e38 = tensor.empty() : tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e38 : tensor<4x8x8xf32>) {
  ^bb0(%a0: f32, %out: f32):
    %c = arith.constant 0.25 : f32
    %m = arith.mulf %a0, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %e39 = tensor.empty() : tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e39 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e40 = tensor.empty() : tensor<4x8x16xf32>
  %f41 = linalg.fill ins(%zero : f32) outs(%e40 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o3 = linalg.batch_matmul ins(%p, %v3 : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f41 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = tensor.expand_shape %o3 [[0, 1], [2], [3]] output_shape [1, 4, 8, 16] : tensor<4x8x16xf32> into tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// One head, 2-D: linalg.matmul.
// CHECK-LABEL: func.func @matmul_2d(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<8x16xf32>
// CHECK:         %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 8, 16]
// CHECK:         %[[O:.+]] = attn.attention ins(%[[Q4]], {{.*}} : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) outs({{.*}}) {scale = 1.000000e+00 : f32}
// CHECK:         tensor.collapse_shape %[[O]] {{\[}}[0, 1, 2], [3]] : tensor<1x1x8x16xf32> into tensor<8x16xf32>
func.func @matmul_2d(%q: tensor<8x16xf32>, %k: tensor<8x16xf32>, %v: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e42 = tensor.empty() : tensor<16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<8x16xf32>) outs(%e42 : tensor<16x8xf32>) permutation = [1, 0]
  %e43 = tensor.empty() : tensor<8x8xf32>
  %f44 = linalg.fill ins(%zero : f32) outs(%e43 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<8x16xf32>, tensor<16x8xf32>) outs(%f44 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e45 = tensor.empty() : tensor<8x8xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<8x8xf32>) outs(%e45 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e46 = tensor.empty() : tensor<8x16xf32>
  %f47 = linalg.fill ins(%zero : f32) outs(%e46 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %o = linalg.matmul ins(%p, %v : tensor<8x8xf32>, tensor<8x16xf32>) outs(%f47 : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %o : tensor<8x16xf32>
}

// -----

// A constant 0/-inf mask that differs per head: an i1 mask constant.
// CHECK-LABEL: func.func @mask_per_head(
// CHECK:         %[[M:.+]] = arith.constant dense<{{.*}}> : tensor<1x2x8x8xi1>
// CHECK:         attn.attention ins({{.*}}) mask(%[[M]] : tensor<1x2x8x8xi1>) outs({{.*}}) {scale = 1.000000e+00 : f32}
func.func @mask_per_head(%q: tensor<2x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e48 = tensor.empty() : tensor<2x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<2x8x16xf32>) outs(%e48 : tensor<2x16x8xf32>) permutation = [0, 2, 1]
  %e49 = tensor.empty() : tensor<2x8x8xf32>
  %f50 = linalg.fill ins(%zero : f32) outs(%e49 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x8x16xf32>, tensor<2x16x8xf32>) outs(%f50 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %mask = arith.constant dense<[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0xFF800000, 0.0, 0xFF800000, 0xFF800000, 0.0, 0.0], [0.0, 0xFF800000, 0.0, 0.0, 0xFF800000, 0.0, 0xFF800000, 0.0], [0.0, 0xFF800000, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0.0, 0.0, 0xFF800000, 0.0], [0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0.0, 0xFF800000, 0.0], [0.0, 0xFF800000, 0xFF800000, 0.0, 0.0, 0.0, 0xFF800000, 0.0], [0.0, 0xFF800000, 0.0, 0xFF800000, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0.0]]]> : tensor<2x8x8xf32>
  %e51 = tensor.empty() : tensor<2x8x8xf32>
  %sm = linalg.add ins(%s, %mask : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%e51 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %e52 = tensor.empty() : tensor<2x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%sm : tensor<2x8x8xf32>) outs(%e52 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %e53 = tensor.empty() : tensor<2x8x16xf32>
  %f54 = linalg.fill ins(%zero : f32) outs(%e53 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x8x8xf32>, tensor<2x8x16xf32>) outs(%f54 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %o : tensor<2x8x16xf32>
}

// -----

// A runtime bias added before the scale: the bias is scaled too.
// CHECK-LABEL: func.func @bias_before_scale(
// CHECK-SAME:      %[[BIAS:[a-zA-Z0-9_]+]]: tensor<8x8xf32>)
// CHECK:         %[[B4:.+]] = tensor.expand_shape %[[BIAS]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 8, 8]
// CHECK:         %[[BS:.+]] = linalg.generic {{.*}} ins(%[[B4]] : tensor<1x1x8x8xf32>)
// CHECK:           arith.constant 5.000000e-01 : f32
// CHECK:           arith.mulf
// CHECK:         attn.attention ins({{.*}}) bias(%[[BS]] : tensor<1x1x8x8xf32>) outs({{.*}}) {scale = 5.000000e-01 : f32}
func.func @bias_before_scale(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %bias: tensor<8x8xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e55 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e55 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e56 = tensor.empty() : tensor<4x8x8xf32>
  %f57 = linalg.fill ins(%zero : f32) outs(%e56 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f57 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e58 = tensor.empty() : tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %bias : tensor<4x8x8xf32>, tensor<8x8xf32>) outs(%e58 : tensor<4x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %c = arith.constant 0.5 : f32
    %x = arith.addf %a0, %a1 : f32
    %m = arith.mulf %x, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %e59 = tensor.empty() : tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e59 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e60 = tensor.empty() : tensor<4x8x16xf32>
  %f61 = linalg.fill ins(%zero : f32) outs(%e60 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f61 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// The weights are the second operand of the product with V.
// CHECK-LABEL: func.func @weights_second(
// CHECK:         attn.attention ins({{.*}}) outs({{.*}}) {scale = 1.000000e+00 : f32}
// CHECK-NOT:     linalg.generic
func.func @weights_second(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e64 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e64 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e65 = tensor.empty() : tensor<4x8x8xf32>
  %f66 = linalg.fill ins(%zero : f32) outs(%e65 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f66 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e67 = tensor.empty() : tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x8x8xf32>) outs(%e67 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e62 = tensor.empty() : tensor<4x8x16xf32>
  %f63 = linalg.fill ins(%zero : f32) outs(%e62 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, e, j) -> (b, j, e)>, affine_map<(b, i, e, j) -> (b, i, j)>, affine_map<(b, i, e, j) -> (b, i, e)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%v, %p : tensor<4x8x16xf32>, tensor<4x8x8xf32>) outs(%f63 : tensor<4x8x16xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %m = arith.mulf %a0, %a1 : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// A padding mask: an i1 [B, Lk] input made additive with select(keep, 0,
// -inf), added to the scores in 4-D [B, H, Lq, Lk] between two 3-D products.
// CHECK-LABEL: func.func @padding_mask(
// CHECK-SAME:      %[[KEEP:[a-zA-Z0-9_]+]]: tensor<2x8xi1>)
// CHECK:         %[[MB:.+]] = linalg.broadcast ins(%[[KEEP]] : tensor<2x8xi1>) outs(%{{.+}} : tensor<2x8x8xi1>) dimensions = [1]
// CHECK:         %[[M:.+]] = tensor.expand_shape %[[MB]] {{\[}}[0], [1, 2], [3]] output_shape [2, 1, 8, 8]
// CHECK:         attn.attention ins({{.*}} : tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>) mask(%[[M]] : tensor<2x1x8x8xi1>)
func.func @padding_mask(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>, %keep: tensor<2x8xi1>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e68 = tensor.empty() : tensor<2x8xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%keep : tensor<2x8xi1>) outs(%e68 : tensor<2x8xf32>) {
  ^bb0(%a0: i1, %out: f32):
    %r = arith.select %a0, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x8xf32>
  %add4 = tensor.expand_shape %add [[0, 1, 2], [3]] output_shape [2, 1, 1, 8] : tensor<2x8xf32> into tensor<2x1x1x8xf32>
  %e70 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e70 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e71 = tensor.empty() : tensor<4x8x8xf32>
  %f72 = linalg.fill ins(%zero : f32) outs(%e71 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f72 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s4 = tensor.expand_shape %s [[0, 1], [2], [3]] output_shape [2, 2, 8, 8] : tensor<4x8x8xf32> into tensor<2x2x8x8xf32>
  %e69 = tensor.empty() : tensor<2x2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4, %add4 : tensor<2x2x8x8xf32>, tensor<2x1x1x8xf32>) outs(%e69 : tensor<2x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %out: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<2x2x8x8xf32>
  %e73 = tensor.empty() : tensor<2x2x8x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<2x2x8x8xf32>) outs(%e73 : tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x2x8x8xf32> into tensor<4x8x8xf32>
  %e74 = tensor.empty() : tensor<4x8x16xf32>
  %f75 = linalg.fill ins(%zero : f32) outs(%e74 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o = linalg.batch_matmul ins(%p3, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f75 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

