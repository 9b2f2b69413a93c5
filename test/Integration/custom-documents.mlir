// REQUIRES: numpy
// RUN: rm -rf %t
// RUN: %python %S/lib/check_case.py gen %t q=2x2x37x8:f32 k=2x2x37x8:f32 v=2x2x37x8:f32 seg=2x37:i32:docs5
// RUN: attn-run %s --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/seg.npy --output %t/o.npy --check | FileCheck %s
// RUN: %python %S/lib/check_case.py attention %t %t/o.npy --causal --variant documents
// RUN: %python %S/lib/run_strategies.py attn-run %s %t --entry main --inputs %t/q.npy,%t/k.npy,%t/v.npy,%t/seg.npy -- attention --causal --variant documents

// Document masking of packed sequences: a mask_mod on captured segment ids
// (5 documents of random lengths in each of 2 rows of 37 tokens), causal
// within each document.

// CHECK: check: max_abs_err={{.*}} PASS

func.func @main(%q: tensor<2x2x37x8xf32>, %k: tensor<2x2x37x8xf32>, %v: tensor<2x2x37x8xf32>, %seg: tensor<2x37xi32>) -> tensor<2x2x37x8xf32> {
  %init = tensor.empty() : tensor<2x2x37x8xf32>
  %o = attn.attention ins(%q, %k, %v : tensor<2x2x37x8xf32>, tensor<2x2x37x8xf32>, tensor<2x2x37x8xf32>)
                      outs(%init : tensor<2x2x37x8xf32>) {causal}
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %si = tensor.extract %seg[%b, %i] : tensor<2x37xi32>
      %sj = tensor.extract %seg[%b, %j] : tensor<2x37xi32>
      %same = arith.cmpi eq, %si, %sj : i32
      attn.yield %same : i1
    } -> tensor<2x2x37x8xf32>
  return %o : tensor<2x2x37x8xf32>
}
