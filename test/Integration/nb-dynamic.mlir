// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=1x4x5x3x4x4:f32 k=1x2x5x3x4x4:f32 v=1x2x5x3x4x4:f32
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py neighborhood %t %t/o.npy --kernel 3,3,3 --causal-axes 0,1,0
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy -- neighborhood --kernel 3,3,3 --causal-axes 0,1,0

// Found by attn-compile-fuzzer: a neighborhood op with dynamic spatial
// extents crashed the CPU pipeline in upstream expand-strided-metadata (on
// the memref.expand_shape of the collapsed output back to [?, ?, ?]); the
// pipeline now turns such an expand_shape into a memref.reinterpret_cast
// first. 3-D grid 5 x 3 x 4, GQA (4 query heads, 2 KV heads), causal axis 1.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<1x4x?x?x?x4xf32>, %k: tensor<1x2x?x?x?x4xf32>, %v: tensor<1x2x?x?x?x4xf32>) -> tensor<1x4x?x?x?x4xf32> {
  %c2 = arith.constant 2 : index
  %d2 = tensor.dim %q, %c2 : tensor<1x4x?x?x?x4xf32>
  %c3 = arith.constant 3 : index
  %d3 = tensor.dim %q, %c3 : tensor<1x4x?x?x?x4xf32>
  %c4 = arith.constant 4 : index
  %d4 = tensor.dim %q, %c4 : tensor<1x4x?x?x?x4xf32>
  %init = tensor.empty(%d2, %d3, %d4) : tensor<1x4x?x?x?x4xf32>
  %o = attn.neighborhood ins(%q, %k, %v : tensor<1x4x?x?x?x4xf32>, tensor<1x2x?x?x?x4xf32>, tensor<1x2x?x?x?x4xf32>)
                         outs(%init : tensor<1x4x?x?x?x4xf32>)
                         {kernel = [3, 3, 3], causal = [false, true, false]} -> tensor<1x4x?x?x?x4xf32>
  return %o : tensor<1x4x?x?x?x4xf32>
}
