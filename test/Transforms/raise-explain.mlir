// RUN: attn-opt %s -verify-diagnostics --attn-raise=explain=true | FileCheck %s --check-prefix=RAISE
// RUN: attn-opt %s -verify-diagnostics --attn-set-target=threads=2 --attn-explain | FileCheck %s --check-prefix=EXPLAIN

// With explain, attn-raise says what each site became; attn-explain (which
// changes nothing) says what attn-raise would make of it.

// RAISE-LABEL: func.func @site(
// RAISE:         attn.attention
// EXPLAIN-LABEL: func.func @site(
// EXPLAIN-NOT:   attn.attention
// EXPLAIN:       linalg.softmax
func.func @site(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xf32>, %v: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%k : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @+1 {{attn.attention with B=1 Hq=4 Hkv=4 Lq=8 Lk=8 D=16 Dv=16, scale 1}}
  %o = linalg.batch_matmul ins(%p, %v : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
